package importer

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/vault"
)

// sopsProgram finds sops on PATH or where `go install` puts it
// (scripts/install-test-deps.sh installs it there).
func sopsProgram(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sops"); err == nil {
		return p
	}
	if p := filepath.Join(build.Default.GOPATH, "bin", "sops"); fileExists(p) {
		return p
	}
	if real() {
		t.Fatal("sops is not installed (HUSH_TEST_REAL=1): run scripts/install-test-deps.sh")
	}
	t.Skip("sops is not installed (scripts/install-test-deps.sh installs it)")
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

func TestSOPS(t *testing.T) {
	sops := sopsProgram(t)
	dir := t.TempDir()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.txt")
	os.WriteFile(keys, []byte(id.String()+"\n"), 0o600)
	env := append(os.Environ(), "SOPS_AGE_KEY_FILE="+keys)
	encrypt := func(name, plain string) string {
		t.Helper()
		in := filepath.Join(dir, name)
		os.WriteFile(in, []byte(plain), 0o600)
		cmd := exec.Command(sops, "--encrypt", "--age", id.Recipient().String(), "--in-place", in)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sops --encrypt %s: %v\n%s", name, err, out)
		}
		if b, _ := os.ReadFile(in); strings.Contains(string(b), "sekrit") {
			t.Fatalf("%s is not encrypted", name)
		}
		return in
	}
	o := Options{SOPS: sops, Env: env}
	for _, c := range []struct{ name, plain string }{
		{"app.env", "DB_PASSWORD=sekrit-1\nAPI_KEY=sekrit-2\n"},
		{"app.json", `{"DB_PASSWORD": "sekrit-1", "API_KEY": "sekrit-2"}`},
		{"app.yaml", "DB_PASSWORD: sekrit-1\nAPI_KEY: sekrit-2\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := Read(SOPS, encrypt(c.name, c.plain), o)
			if err != nil {
				t.Fatal(err)
			}
			checkPlan(t, p)
			wantItem(t, p, "DB_PASSWORD", "sekrit-1", vault.TypePassword)
			wantItem(t, p, "API_KEY", "sekrit-2", vault.TypePassword)
		})
	}
	// Nested YAML is refused, naming the key.
	_, err = Read(SOPS, encrypt("nested.yaml", "db:\n  password: sekrit\n"), o)
	if err == nil || !strings.Contains(err.Error(), "value of db is nested") || strings.Contains(err.Error(), "krit") {
		t.Errorf("nested = %v", err)
	}
	// Without the key: sops's own error, no value.
	other, _ := age.GenerateX25519Identity()
	os.WriteFile(keys, []byte(other.String()+"\n"), 0o600)
	_, err = Read(SOPS, filepath.Join(dir, "app.env"), o)
	if err == nil || !strings.Contains(err.Error(), "sops could not decrypt") {
		t.Errorf("wrong key = %v", err)
	}
	// Not a SOPS file at all.
	plain := filepath.Join(dir, "plain.json")
	os.WriteFile(plain, []byte(`{"A": "sekrit"}`), 0o600)
	if _, err := Read(SOPS, plain, o); err == nil || strings.Contains(err.Error(), "krit") {
		t.Errorf("plain file = %v", err)
	}
}

func TestSOPSMissing(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.env")
	os.WriteFile(f, []byte("A=1"), 0o600)
	_, err := Read(SOPS, f, Options{SOPS: "hush-no-such-sops"})
	if err == nil || !strings.Contains(err.Error(), "sops is not installed") {
		t.Errorf("missing sops = %v", err)
	}
	if _, err := Read(SOPS, filepath.Dir(f), Options{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory = %v", err)
	}
}
