package credhelper

import (
	"bytes"
	"errors"
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

// gitOp runs op for req on v, the login located as the helper does.
func gitOp(t *testing.T, v *vault.Vault, folder, op string, req GitRequest) string {
	t.Helper()
	l, err := LocateGit(folder, req)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Git(v, op, req, l, &out); err != nil {
		t.Fatalf("%s %+v: %v", op, req, err)
	}
	return out.String()
}

func TestGitStoreGetErase(t *testing.T) {
	v := testVault(t)
	if l, err := LocateGit("", GitRequest{Protocol: "https"}); l.Folder != "" || err != nil {
		t.Fatalf("no host: LocateGit = %+v, %v; want nothing", l, err)
	}
	at := GitRequest{Protocol: "https", Host: "example.com:8443"}
	with := func(r GitRequest) GitRequest { r.Protocol, r.Host = at.Protocol, at.Host; return r }
	get := func(r GitRequest) string { return gitOp(t, v, "", "get", with(r)) }
	if got := get(GitRequest{}); got != "" {
		t.Fatalf("get before store: %q", got)
	}
	gitOp(t, v, "", "store", with(GitRequest{Username: "ann", Password: "s3cret"}))
	l, _ := LocateGit("", at)
	if !strings.HasPrefix(l.Folder, "git/https/example.com_8443-") {
		t.Fatalf("login stored in %q", l.Folder)
	}
	if s, err := v.Get(l.Folder + "/password"); err != nil || string(s.Value) != "s3cret" {
		t.Fatalf("stored password: %v", err)
	}
	if got := get(GitRequest{}); got != "username=ann\npassword=s3cret\n" {
		t.Fatalf("get = %q", got)
	}
	if got := get(GitRequest{Username: "bob"}); got != "" {
		t.Fatalf("another user's login was handed out: %q", got)
	}
	// An erase for a password the vault no longer holds leaves it alone.
	gitOp(t, v, "", "erase", with(GitRequest{Password: "old"}))
	if get(GitRequest{}) == "" {
		t.Fatal("erase of another password removed the login")
	}
	gitOp(t, v, "", "erase", with(GitRequest{Password: "s3cret"}))
	if got := get(GitRequest{}); got != "" {
		t.Fatalf("after erase: %q", got)
	}
	if err := Git(v, "capability", at, l, nil); err != nil {
		t.Fatalf("an unknown operation is ignored, got %v", err)
	}
}

// A login given for one protocol is never answered for another, nor for
// a host or a path that reads alike (outside attack attack25 #5: a
// password stored for https://HOST went to http://HOST, in clear).
func TestGitLoginIsForItsProtocolHostAndPath(t *testing.T) {
	v := testVault(t)
	stored := GitRequest{Protocol: "https", Host: "gitlab:8443", Username: "ann", Password: "https-only"}
	gitOp(t, v, "", "store", stored)
	for _, r := range []GitRequest{
		{Protocol: "http", Host: "gitlab:8443"},
		{Protocol: "HTTP", Host: "gitlab:8443"},
		{Protocol: "smtp", Host: "gitlab:8443"},
		{Protocol: "https", Host: "gitlab_8443"},
		{Protocol: "https", Host: "gitlab%2F8443"},
		{Protocol: "https", Host: "gitlab:8444"},
		{Protocol: "https", Host: "gitlab"},
		{Protocol: "https", Host: "gitlab:8443", Path: "org/repo.git"},
		{Protocol: "", Host: "gitlab:8443"},
	} {
		if got := gitOp(t, v, "", "get", r); got != "" {
			t.Errorf("the https login was answered for %+v: %q", r, got)
		}
	}
	// The same URL in other letter case is the same host.
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "HTTPS", Host: "GitLab:8443"}); !strings.Contains(got, "password=https-only") {
		t.Fatalf("get for the same URL in capitals: %q", got)
	}
	// A login for a path (credential.useHttpPath) is that path's only.
	gitOp(t, v, "", "store", GitRequest{Protocol: "https", Host: "h.example", Path: "a/b.git", Password: "for-a-b"})
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "https", Host: "h.example", Path: "a/c.git"}); got != "" {
		t.Fatalf("a path's login answered for another path: %q", got)
	}
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "https", Host: "h.example", Path: "a/b.git"}); got != "username=\npassword=for-a-b\n" {
		t.Fatalf("the path's own login: %q", got)
	}
}

func TestGitNamesAreInjective(t *testing.T) {
	reqs := []GitRequest{
		{Protocol: "https", Host: "gitlab:8443"}, {Protocol: "https", Host: "gitlab_8443"},
		{Protocol: "https", Host: "gitlab%2F8443"}, {Protocol: "https", Host: "gitlab/8443"},
		{Protocol: "http", Host: "gitlab:8443"}, {Protocol: "https", Host: "gitlab", Path: "8443"},
		{Protocol: "https", Host: "[::1]:443"}, {Protocol: "https", Host: "___1__443"},
		{Protocol: "https", Host: "a.b"}, {Protocol: "https", Host: "a_b"}, {Protocol: "https", Host: "a", Path: "b"},
		{Protocol: "https/x", Host: "h"}, {Protocol: "https", Host: "x/h"},
		{Protocol: "https", Host: strings.Repeat("long.", 40) + "a"}, {Protocol: "https", Host: strings.Repeat("long.", 40) + "b"},
	}
	seen := map[string]GitRequest{}
	for _, r := range reqs {
		l, err := LocateGit("", r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if other, ok := seen[l.Folder]; ok {
			t.Errorf("%+v and %+v share %s", r, other, l.Folder)
		}
		seen[l.Folder] = r
		if err := vault.ValidName(l.Folder + "/password"); err != nil {
			t.Errorf("%+v: %v", r, err)
		}
	}
}

// Logins an older hush kept in git/HOST are answered for https only, for
// a host whose old name is its own, and move at the next store.
func TestGitLegacyLogins(t *testing.T) {
	v := testVault(t)
	set := func(name, value string) {
		if _, err := v.Set(name, []byte(value), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
	set("git/example.com_8443/username", "ann")
	set("git/example.com_8443/password", "old-login")
	set("git/gitlab_8443/password", "ambiguous")
	https := GitRequest{Protocol: "https", Host: "example.com:8443"}
	if got := gitOp(t, v, "", "get", https); got != "username=ann\npassword=old-login\n" {
		t.Fatalf("old login over https: %q", got)
	}
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "http", Host: "example.com:8443"}); got != "" {
		t.Fatalf("old login answered over http: %q", got)
	}
	// git/gitlab_8443 was the name of gitlab:8443 and of gitlab_8443: it
	// is read for the host whose name it is, gitlab:8443, never for the
	// host made to read alike.
	for _, host := range []string{"gitlab_8443", "GITLAB_8443", "gitlab%3A8443", "[gitlab]:8443"} {
		if got := gitOp(t, v, "", "get", GitRequest{Protocol: "https", Host: host}); got != "" {
			t.Fatalf("gitlab:8443's old login answered for %s: %q", host, got)
		}
	}
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "https", Host: "gitlab:8443"}); got != "username=\npassword=ambiguous\n" {
		t.Fatalf("gitlab:8443's old login: %q", got)
	}
	// Old names were cut at 200 bytes: two long hosts shared one.
	long := strings.Repeat("a", 200)
	set("git/"+long+"/password", "long")
	if got := gitOp(t, v, "", "get", GitRequest{Protocol: "https", Host: long + ".example"}); got != "" {
		t.Fatalf("an old name cut short answered for a longer host: %q", got)
	}
	// The store after a successful use moves it to the new name.
	gitOp(t, v, "", "store", GitRequest{Protocol: "https", Host: "example.com:8443", Username: "ann", Password: "old-login"})
	for _, n := range []string{"git/example.com_8443/username", "git/example.com_8443/password"} {
		if _, err := v.Get(n); !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("%s after the store: %v, want it moved", n, err)
		}
	}
	if got := gitOp(t, v, "", "get", https); got != "username=ann\npassword=old-login\n" {
		t.Fatalf("moved login: %q", got)
	}
	// An erase of an old login git was given removes it.
	set("git/other.example/password", "refused")
	gitOp(t, v, "", "erase", GitRequest{Protocol: "https", Host: "other.example", Password: "refused"})
	if _, err := v.Get("git/other.example/password"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("old login after an erase: %v", err)
	}
}

// --folder keeps one login for every host, with the protocol it was
// stored for; one stored by an older hush, without it, is https's.
func TestGitSharedFolderKeepsItsProtocol(t *testing.T) {
	v := testVault(t)
	if _, err := v.Set("git/work/password", []byte("tok"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	if got := gitOp(t, v, "git/work", "get", GitRequest{Protocol: "https", Host: "a.example"}); got != "username=\npassword=tok\n" {
		t.Fatalf("old --folder login over https: %q", got)
	}
	for _, p := range []string{"http", "cert", ""} {
		if got := gitOp(t, v, "git/work", "get", GitRequest{Protocol: p, Host: "a.example"}); got != "" {
			t.Fatalf("old --folder login over %q: %q", p, got)
		}
	}
	gitOp(t, v, "git/work", "store", GitRequest{Protocol: "http", Host: "b.example", Password: "plain"})
	if got := gitOp(t, v, "git/work", "get", GitRequest{Protocol: "https", Host: "a.example"}); got != "" {
		t.Fatalf("a login stored over http answered over https: %q", got)
	}
	if got := gitOp(t, v, "git/work", "get", GitRequest{Protocol: "http", Host: "a.example"}); got != "username=\npassword=plain\n" {
		t.Fatalf("the http login over http: %q", got)
	}
	gitOp(t, v, "git/work", "erase", GitRequest{Protocol: "https", Password: "plain"})
	if _, err := v.Get("git/work/password"); err != nil {
		t.Fatalf("an erase for https removed the http login: %v", err)
	}
	gitOp(t, v, "git/work", "erase", GitRequest{Protocol: "http", Password: "plain"})
	for _, n := range []string{"git/work/password", "git/work/protocol"} {
		if _, err := v.Get(n); !errors.Is(err, vault.ErrNotFound) {
			t.Fatalf("%s after the erase: %v", n, err)
		}
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
