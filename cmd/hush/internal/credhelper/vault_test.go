package credhelper

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func testVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "cred.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestGitStoreGetErase(t *testing.T) {
	v := testVault(t)
	f, err := GitFolder("", "example.com:8443")
	if err != nil || f != "git/example.com_8443" {
		t.Fatalf("GitFolder = %q, %v", f, err)
	}
	if f, err := GitFolder("", ""); f != "" || err != nil {
		t.Fatalf("no host: GitFolder = %q, %v; want nothing", f, err)
	}
	get := func(req GitRequest) string {
		var out bytes.Buffer
		if err := Git(v, "get", req, f, &out); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if got := get(GitRequest{Host: "example.com:8443"}); got != "" {
		t.Fatalf("get before store: %q", got)
	}
	if err := Git(v, "store", GitRequest{Username: "ann", Password: "s3cret"}, f, nil); err != nil {
		t.Fatal(err)
	}
	if got := get(GitRequest{}); got != "username=ann\npassword=s3cret\n" {
		t.Fatalf("get = %q", got)
	}
	if got := get(GitRequest{Username: "bob"}); got != "" {
		t.Fatalf("another user's login was handed out: %q", got)
	}
	// An erase for a password the vault no longer holds leaves it alone.
	if err := Git(v, "erase", GitRequest{Password: "old"}, f, nil); err != nil {
		t.Fatal(err)
	}
	if get(GitRequest{}) == "" {
		t.Fatal("erase of another password removed the login")
	}
	if err := Git(v, "erase", GitRequest{Password: "s3cret"}, f, nil); err != nil {
		t.Fatal(err)
	}
	if got := get(GitRequest{}); got != "" {
		t.Fatalf("after erase: %q", got)
	}
	if err := Git(v, "capability", GitRequest{}, f, nil); err != nil {
		t.Fatalf("an unknown operation is ignored, got %v", err)
	}
}

func TestDockerStoreGetList(t *testing.T) {
	v := testVault(t)
	run := func(op, in string) (string, error) {
		var out bytes.Buffer
		err := Docker(v, "docker", op, strings.NewReader(in), &out)
		return out.String(), err
	}
	if _, err := run("get", "https://registry.example.com"); err == nil {
		t.Fatal("get before store succeeded")
	}
	if _, err := run("store", `{"ServerURL":"https://registry.example.com","Username":"ann","Secret":"tok"}`); err != nil {
		t.Fatal(err)
	}
	got, err := run("get", "https://registry.example.com")
	if err != nil || !strings.Contains(got, `"Username":"ann"`) || !strings.Contains(got, `"Secret":"tok"`) {
		t.Fatalf("get = %q, %v", got, err)
	}
	got, err = run("list", "")
	if err != nil || !strings.Contains(got, `"https://registry.example.com":"ann"`) {
		t.Fatalf("list = %q, %v", got, err)
	}
	if _, err := run("erase", "https://registry.example.com"); err != nil {
		t.Fatal(err)
	}
	if _, err := run("get", "https://registry.example.com"); err == nil {
		t.Fatal("get after erase succeeded")
	}
}
