//go:build linux

package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
)

const credPass = "correct horse battery staple"

// credVault makes a vault for the helper tests and returns the environment
// the helpers (run by git or the docker client) find it with.
func credVault(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	env := []string{"HUSH_HOME=" + home, "HUSH_NEW_PASSPHRASE=" + credPass}
	var errb bytes.Buffer
	if code := Main([]string{"init", "--kdf-memory", "19", "--kdf-passes", "2"}, strings.NewReader(""), &bytes.Buffer{}, &errb, env); code != 0 {
		t.Fatalf("init: %s", errb.String())
	}
	return []string{"HUSH_HOME=" + home, "HUSH_PASSPHRASE=" + credPass}
}

// hushGet reads a secret with hush itself.
func hushGet(t *testing.T, env []string, name string) (string, int) {
	var out, errb bytes.Buffer
	code := Main([]string{"get", name}, strings.NewReader(""), &out, &errb, env)
	return out.String(), code
}

// gitServer serves a bare repository through the real git http-backend,
// behind basic auth for user ann with a password the test can change.
type gitServer struct {
	*httptest.Server
	mu       sync.Mutex
	password string
	seen     []string // "user:password" of each authorized request
}

func newGitServer(t *testing.T) *gitServer {
	t.Helper()
	root := t.TempDir()
	repo := filepath.Join(root, "repo.git")
	git(t, nil, root, "init", "-q", "--bare", repo)
	// A commit, so that a clone has something to fetch.
	work := filepath.Join(root, "work")
	git(t, nil, root, "init", "-q", work)
	os.WriteFile(filepath.Join(work, "README"), []byte("hello\n"), 0o600)
	git(t, nil, work, "add", "README")
	git(t, nil, work, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first")
	git(t, nil, work, "push", "-q", repo, "HEAD:refs/heads/main")
	git(t, nil, repo, "symbolic-ref", "HEAD", "refs/heads/main")

	out, err := exec.Command("git", "--exec-path").Output()
	if err != nil {
		t.Fatal(err)
	}
	backend := &cgi.Handler{
		Path: filepath.Join(strings.TrimSpace(string(out)), "git-http-backend"),
		Env:  []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
	}
	s := &gitServer{password: "s3cret-1"}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		s.mu.Lock()
		good := ok && u == "ann" && p == s.password
		if good {
			s.seen = append(s.seen, u+":"+p)
		}
		s.mu.Unlock()
		if !good {
			w.Header().Set("WWW-Authenticate", `Basic realm="hush test"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		backend.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// git runs the real git with a clean configuration: hush as the only
// credential helper, no prompt, and no controlling terminal (its own
// session), so a helper that waited for input would hang the test, not
// ask a person.
func git(t *testing.T, env []string, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "credential.helper=", "-c", "credential.helper=hush"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir, "GIT_ASKPASS=", "SSH_ASKPASS=")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("git %v hung: %s", args, out.String())
	}
	if env == nil && err != nil {
		t.Fatalf("git %v: %v: %s", args, err, out.String())
	}
	return out.String(), err
}

func TestGitCredentialHelper(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	if _, err := exec.LookPath("git-credential-hush"); err != nil {
		t.Fatalf("git-credential-hush is not on PATH: %v", err)
	}
	env := credVault(t)
	srv := newGitServer(t)
	host := strings.TrimPrefix(srv.URL, "http://")
	// Where hush keeps the login git gives it for http://HOST.
	login, err := credhelper.LocateGit("", credhelper.GitRequest{Protocol: "http", Host: host})
	if err != nil {
		t.Fatal(err)
	}
	pass := login.Folder + "/password"
	dir := t.TempDir()

	// No login stored: git gets nothing from hush and, with no prompt
	// allowed, fails.
	if out, err := git(t, env, dir, "clone", "-q", srv.URL+"/repo.git", "c0"); err == nil {
		t.Fatalf("clone without a login succeeded: %s", out)
	}

	// git credential approve hands the login to hush's store.
	cmd := exec.Command("git", "-c", "credential.helper=", "-c", "credential.helper=hush", "credential", "approve")
	cmd.Env = append(append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1"), env...)
	cmd.Stdin = strings.NewReader("protocol=http\nhost=" + host + "\nusername=ann\npassword=s3cret-1\n\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git credential approve: %v: %s", err, out)
	}
	if v, _ := hushGet(t, env, pass); v != "s3cret-1" {
		t.Fatalf("stored password %q", v)
	}

	// A clone: the server asks, git asks hush, hush answers.
	if out, err := git(t, env, dir, "clone", "-q", srv.URL+"/repo.git", "c1"); err != nil {
		t.Fatalf("clone with the stored login: %v: %s", err, out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "c1", "README")); string(b) != "hello\n" {
		t.Fatalf("cloned README %q", b)
	}
	srv.mu.Lock()
	if len(srv.seen) == 0 || srv.seen[0] != "ann:s3cret-1" {
		t.Errorf("server saw %v", srv.seen)
	}
	srv.mu.Unlock()

	// The password changes on the server: git tells hush to erase the old
	// one, and the vault no longer offers it.
	srv.mu.Lock()
	srv.password = "s3cret-2"
	srv.mu.Unlock()
	if out, err := git(t, env, filepath.Join(dir, "c1"), "fetch", "-q"); err == nil {
		t.Fatalf("fetch with a stale password succeeded: %s", out)
	}
	if _, code := hushGet(t, env, pass); code == 0 {
		t.Fatal("the refused password is still in the vault")
	}

	// A locked vault and no terminal: git fails at once with hush's
	// message, never waits.
	Main([]string{"set", pass, "s3cret-2"}, strings.NewReader(""), &bytes.Buffer{}, &bytes.Buffer{}, env)
	locked := []string{env[0], "HUSH_PASSPHRASE="}
	out, err := git(t, locked, dir, "clone", "-q", srv.URL+"/repo.git", "c2")
	if err == nil || !strings.Contains(out, "vault is locked") {
		t.Fatalf("clone with a locked vault: %v: %s", err, out)
	}
	if strings.Contains(out, "s3cret") {
		t.Fatalf("a password reached git's output: %s", out)
	}

	// Every answer is in the audit log; no value is.
	var aout bytes.Buffer
	Main([]string{"audit"}, strings.NewReader(""), &aout, &bytes.Buffer{}, env)
	for _, want := range []string{"git-credential-store", "git-credential-get", "git-credential-erase"} {
		if !strings.Contains(aout.String(), want) {
			t.Errorf("audit log has no %s:\n%s", want, aout.String())
		}
	}
}

// The docker-credential-helpers reference client drives
// docker-credential-hush through its protocol, as docker does.
func TestDockerCredentialHelper(t *testing.T) {
	if _, err := exec.LookPath("docker-credential-hush"); err != nil {
		t.Fatalf("docker-credential-hush is not on PATH: %v", err)
	}
	env := credVault(t)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	p := client.NewShellProgramFunc("docker-credential-hush")
	regs := []credentials.Credentials{
		{ServerURL: "https://index.docker.io/v1/", Username: "ann", Secret: "tok-1"},
		{ServerURL: "localhost:5000", Username: "bob", Secret: "tok-2"},
	}
	for i := range regs {
		if err := client.Store(p, &regs[i]); err != nil {
			t.Fatalf("store %s: %v", regs[i].ServerURL, err)
		}
	}
	got, err := client.Get(p, "https://index.docker.io/v1/")
	if err != nil || got.Username != "ann" || got.Secret != "tok-1" {
		t.Fatalf("get: %+v %v", got, err)
	}
	// A URL that reads alike is another registry.
	if _, err := client.Get(p, "https://index.docker.io/v1"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get of another URL: %v, want not found", err)
	}
	list, err := client.List(p)
	if err != nil || len(list) != 2 || list["localhost:5000"] != "bob" {
		t.Fatalf("list: %v %v", list, err)
	}
	if err := client.Erase(p, "localhost:5000"); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := client.Get(p, "localhost:5000"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("get after erase: %v, want not found", err)
	}

	// Locked, no terminal: a clear error at once, no value anywhere.
	t.Setenv("HUSH_PASSPHRASE", "")
	cmd := exec.Command("docker-credential-hush", "get")
	cmd.Stdin = strings.NewReader("https://index.docker.io/v1/")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "vault is locked") || strings.Contains(string(out), "tok-1") {
		t.Fatalf("get with a locked vault: %v: %s", err, out)
	}
}
