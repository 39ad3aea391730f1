package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareTakesTheProjectsFoldersOnlyWithoutFrom(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ProjectFile), []byte("vault = \"team\"\nfrom = [\"app/dev\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "src")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	env := filepath.Join(dir, "x.env")
	if err := os.WriteFile(env, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(sub)
	o, vault, err := Prepare(Request{EnvFile: env, Env: map[string]string{"PATH": "/bin"}, Command: []string{"true"}})
	if err != nil {
		t.Fatal(err)
	}
	if vault != "team" || strings.Join(o.From, ",") != "app/dev" || string(o.EnvFile) != "A=1\n" || o.EnvFileName != env || strings.Join(o.Parent, ",") != "PATH=/bin" {
		t.Errorf("Prepare = %+v, %q", o, vault)
	}
	if o, _, err = Prepare(Request{From: []string{"app/prod"}}); err != nil || strings.Join(o.From, ",") != "app/prod" {
		t.Errorf("--from: %+v, %v", o, err)
	}
	if o, vault, err = Prepare(Request{NoProject: true}); err != nil || vault != "" || o.From != nil {
		t.Errorf("--no-project: %+v, %q, %v", o, vault, err)
	}
	if _, _, err := Prepare(Request{EnvFile: filepath.Join(dir, "none.env")}); err == nil {
		t.Error("a missing env file was taken")
	}
}
