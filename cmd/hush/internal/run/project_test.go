package run

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

func TestParseProjectVaultAndFrom(t *testing.T) {
	p, err := ParseProject([]byte(`# project settings
vault = "team"
from  = ["app/common", "app/dev/"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Vault != "team" {
		t.Errorf("Vault = %q, want team", p.Vault)
	}
	if want := []string{"app/common", "app/dev/"}; !slices.Equal(p.From, want) {
		t.Errorf("From = %q, want %q (in order)", p.From, want)
	}
}

func TestParseProjectEmptyFile(t *testing.T) {
	p, err := ParseProject(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Vault != "" || len(p.From) != 0 {
		t.Fatalf("empty file gave %+v", p)
	}
}

func TestParseProjectUnknownKeyIsNamed(t *testing.T) {
	for _, tc := range []struct{ in, key string }{
		{`form = ["app/dev"]`, "form"},
		{"vault = \"team\"\nvaults = \"x\"\n", "vaults"},
	} {
		_, err := ParseProject([]byte(tc.in))
		if err == nil {
			t.Errorf("%q: no error for an unknown key", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), "unknown") || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("%q: error %q does not name unknown key %s", tc.in, err, tc.key)
		}
	}
}

func TestParseProjectBadTOMLHasLineNumber(t *testing.T) {
	for _, tc := range []struct{ in, line string }{
		{"vault = \"team\"\nfrom = [\n", "line 2"},
		{"\n\nvault = = 3\n", "line 3"},
		{"vault = 1\n", "line 1"},                    // wrong type
		{"from = \"app/dev\"\n", "line 1"},           // a string, not a list
		{"vault = \"a\"\nvault = \"b\"\n", "line 2"}, // twice
	} {
		_, err := ParseProject([]byte(tc.in))
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		if !strings.Contains(err.Error(), tc.line) {
			t.Errorf("%q: error %q, want it to say %q", tc.in, err, tc.line)
		}
	}
}

func TestParseProjectBadFolder(t *testing.T) {
	for _, f := range []string{"a//b", "../x", "a b", "", "/app"} {
		in := `from = ["app/ok", "` + f + `"]`
		_, err := ParseProject([]byte(in))
		if err == nil {
			t.Errorf("from %q: no error", f)
			continue
		}
		if !strings.HasPrefix(err.Error(), "from: ") {
			t.Errorf("from %q: error %q does not say it is about from", f, err)
		}
	}
}

func writeFile(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindProjectInParent(t *testing.T) {
	root := t.TempDir()
	want := filepath.Join(root, "repo", ProjectFile)
	writeFile(t, want, `from = ["app/dev"]`)
	deep := filepath.Join(root, "repo", "src", "pkg", "sub")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(root, "repo"), deep} {
		p, err := FindProject(dir)
		if err != nil {
			t.Fatalf("FindProject(%s): %v", dir, err)
		}
		if p == nil {
			t.Fatalf("FindProject(%s) found nothing, want %s", dir, want)
		}
		if p.Path != want || !slices.Equal(p.From, []string{"app/dev"}) {
			t.Errorf("FindProject(%s) = %+v, want Path %s From [app/dev]", dir, p, want)
		}
	}
}

func TestFindProjectNearestWins(t *testing.T) {
	root := t.TempDir()
	writeFile(t, filepath.Join(root, ProjectFile), `vault = "outer"`)
	inner := filepath.Join(root, "a", ProjectFile)
	writeFile(t, inner, `vault = "inner"`)
	p, err := FindProject(filepath.Join(root, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if p == nil || p.Path != inner || p.Vault != "inner" {
		t.Fatalf("FindProject = %+v, want the nearest file %s", p, inner)
	}
}

func TestFindProjectNone(t *testing.T) {
	// FindProject walks up to /, which this test does not control: only a
	// result that came from inside the temporary tree would be wrong.
	root := t.TempDir()
	deep := filepath.Join(root, "x", "y")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	p, err := FindProject(deep)
	if err != nil {
		t.Fatalf("FindProject: %v", err)
	}
	if p != nil && strings.HasPrefix(p.Path, root) {
		t.Fatalf("FindProject found %s inside a tree without one", p.Path)
	}
}

func TestFindProjectInvalidFileIsAnErrorNamingIt(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, ProjectFile)
	writeFile(t, p, `form = ["app/dev"]`)
	_, err := FindProject(filepath.Join(root))
	if err == nil {
		t.Fatal("no error for a project file with an unknown key")
	}
	if !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "form") {
		t.Fatalf("error %q does not name the file and the key", err)
	}
}

func TestFindProjectReadErrors(t *testing.T) {
	t.Run("unreadable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads any file")
		}
		root := t.TempDir()
		p := filepath.Join(root, ProjectFile)
		writeFile(t, p, `vault = "x"`)
		if err := os.Chmod(p, 0); err != nil {
			t.Fatal(err)
		}
		_, err := FindProject(filepath.Join(root))
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v, want a read error naming %s", err, p)
		}
	})
	t.Run("a folder", func(t *testing.T) {
		root := t.TempDir()
		p := filepath.Join(root, ProjectFile)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := FindProject(filepath.Join(root, "."))
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("error %v, want a read error naming %s", err, p)
		}
	})
	t.Run("too large", func(t *testing.T) {
		root := t.TempDir()
		p := filepath.Join(root, ProjectFile)
		writeFile(t, p, "# "+strings.Repeat("x", maxProjectSize)+"\n")
		_, err := FindProject(root)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "larger than") {
			t.Fatalf("error %v, want a size error naming %s", err, p)
		}
	})
}

func FuzzParseProject(f *testing.F) {
	for _, s := range []string{
		"vault = \"team\"\nfrom = [\"app/dev\"]\n",
		"form = [\"a\"]",
		"from = [\"a//b\"]",
		"from = [",
		"[x]\ny = 1",
		"from = [1, 2]",
		"vault = \"\"\"\nmulti\n\"\"\"",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseProject(b)
		if err != nil {
			if p != nil {
				t.Fatalf("ParseProject returned %+v with error %v", p, err)
			}
			return
		}
		if p == nil {
			t.Fatal("ParseProject returned nil and no error")
		}
		for _, fo := range p.From {
			if _, err := vault.CleanFolder(fo); err != nil || fo == "" {
				t.Fatalf("accepted folder %q: %v", fo, err)
			}
		}
	})
}
