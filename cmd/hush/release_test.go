//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// goreleaser is the part of .goreleaser.yaml this test checks.
type goreleaser struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Env     []string `yaml:"env"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Archives []struct {
		IDs             []string `yaml:"ids"`
		NameTemplate    string   `yaml:"name_template"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		Files []yaml.Node `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
}

// goreleaser itself cannot run here (not in Debian, no network but the
// module proxy), so this is `goreleaser check` for what hush relies on:
// the five targets, cgo with the right compiler, version stamping, the
// archive names and formats, SHA-256 checksums and the files the archives
// carry.
func TestReleaseConfig(t *testing.T) {
	root := filepath.Join("..", "..")
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c goreleaser
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(false)
	if err := dec.Decode(&c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 || c.ProjectName != "hush" {
		t.Errorf("version %d, project %q: want 2, hush", c.Version, c.ProjectName)
	}
	var targets []string
	for _, bd := range c.Builds {
		if bd.Main != "./cmd/hush" || bd.Binary != "hush" {
			t.Errorf("build %s: main %q binary %q", bd.ID, bd.Main, bd.Binary)
		}
		for _, os := range bd.Goos {
			for _, arch := range bd.Goarch {
				targets = append(targets, os+"/"+arch)
			}
		}
		env := strings.Join(bd.Env, "\n")
		if !strings.Contains(env, "CGO_ENABLED=1") || !strings.Contains(env, "CC=") {
			t.Errorf("build %s: SQLite needs cgo and a C compiler for the target; env %q", bd.ID, bd.Env)
		}
		if slices.Contains(bd.Goos, "windows") && !strings.Contains(env, "CC=x86_64-w64-mingw32-gcc") {
			t.Errorf("build %s: windows needs the MinGW-w64 compiler `make cross` uses", bd.ID)
		}
		ld := strings.Join(bd.Ldflags, " ")
		for _, v := range []string{"main.version=", "main.commit=", "main.date="} {
			if !strings.Contains(ld, "-X "+v) {
				t.Errorf("build %s: ldflags do not set %s (hush version shows it)", bd.ID, v)
			}
		}
	}
	slices.Sort(targets)
	want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64"}
	if !slices.Equal(targets, want) {
		t.Errorf("targets %v, want %v", targets, want)
	}
	if len(c.Archives) != 1 {
		t.Fatalf("%d archive entries, want 1", len(c.Archives))
	}
	a := c.Archives[0]
	if a.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}" {
		t.Errorf("archive name %q: docs/install.md names hush_VERSION_OS_ARCH", a.NameTemplate)
	}
	if !slices.Equal(a.Formats, []string{"tar.gz"}) || len(a.FormatOverrides) != 1 ||
		a.FormatOverrides[0].Goos != "windows" || !slices.Equal(a.FormatOverrides[0].Formats, []string{"zip"}) {
		t.Errorf("archives: want tar.gz, and zip for windows; got %v %+v", a.Formats, a.FormatOverrides)
	}
	for _, f := range a.Files {
		src := f.Value
		if f.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(f.Content); i += 2 {
				if f.Content[i].Value == "src" {
					src = f.Content[i+1].Value
				}
			}
		}
		if strings.HasPrefix(src, "dist-extra/") {
			continue // made by the gen-docs hook, checked below
		}
		if _, err := os.Stat(filepath.Join(root, src)); err != nil {
			t.Errorf("archive file %s: %v", src, err)
		}
	}
	if c.Checksum.Algorithm != "sha256" || c.Checksum.NameTemplate != "{{ .ProjectName }}_{{ .Version }}_checksums.txt" {
		t.Errorf("checksum %+v: want sha256 in hush_VERSION_checksums.txt", c.Checksum)
	}
	if !slices.Contains(c.Before.Hooks, "go run -tags gendocs ./cmd/hush gen-docs dist-extra") {
		t.Errorf("hooks %v: the archives' man pages and completions come from gen-docs", c.Before.Hooks)
	}
}

// The gen-docs hook writes a man page per command and the four shell
// completions; hidden commands get no page. It is built as the hook builds
// it, with -tags gendocs.
func TestGenDocs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds hush with -tags gendocs")
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "run", "-tags", "gendocs", ".", "gen-docs", dir)
	cmd.Env = append(os.Environ(), "HUSH_HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go run -tags gendocs . gen-docs: %v\n%s", err, out)
	}
	for _, f := range []string{"man/hush.1", "man/hush-run.1", "man/hush-get.1", "completions/hush.bash", "completions/_hush", "completions/hush.fish", "completions/hush.ps1"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", f, err, len(b))
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "man", "hush.1")); !bytes.Contains(b, []byte(".TH \"HUSH\" \"1\"")) {
		t.Errorf("hush.1 is not a man page: %.200q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "man", "hush-gen-docs.1")); err == nil {
		t.Error("the hidden gen-docs command got a man page")
	}
}

// The hush people run does not link the man page generator (its Markdown
// library builds a table at init that every command would pay for), and
// says so plainly when asked for gen-docs.
func TestGenDocsNotLinked(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, pkg := range []string{"github.com/spf13/cobra/doc", "github.com/russross/blackfriday/v2"} {
		if slices.Contains(strings.Fields(string(out)), pkg) {
			t.Errorf("hush links %s: it belongs behind -tags gendocs", pkg)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"gen-docs", t.TempDir()}, strings.NewReader(""), &stdout, &stderr, []string{"HUSH_HOME=" + t.TempDir()}); code != 2 {
		t.Errorf("gen-docs without the tag: exit %d, want 2 (unknown command): %s", code, stderr.String())
	}
}
