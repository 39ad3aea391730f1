//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// basicRecorder is a plain-HTTP server that asks for a login (401, Basic)
// and keeps every Authorization header it is sent: an on-path attacker
// answering a port-80 request.
type basicRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newBasicRecorder(t *testing.T) *basicRecorder {
	r := &basicRecorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if a := req.Header.Get("Authorization"); a != "" {
			r.mu.Lock()
			r.seen = append(r.seen, a)
			r.mu.Unlock()
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="x"`)
		http.Error(w, "who are you?", http.StatusUnauthorized)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *basicRecorder) headers() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// approve hands a login to hush through the real `git credential approve`.
func approve(t *testing.T, env []string, dir, protocol, host, user, pass string) {
	t.Helper()
	cmd := exec.Command("git", "-c", "credential.helper=", "-c", "credential.helper=hush", "credential", "approve")
	cmd.Env = append(append(os.Environ(), "HOME="+dir, "GIT_CONFIG_NOSYSTEM=1"), env...)
	cmd.Stdin = strings.NewReader("protocol=" + protocol + "\nhost=" + host + "\nusername=" + user + "\npassword=" + pass + "\n\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git credential approve: %v: %s", err, out)
	}
}

// A login stored for https is never handed to git for http, where git
// would send it in clear (outside attack attack25 #5), and neither is one
// an older hush kept under the host's name alone.
func TestGitCredentialNotForPlainHTTP(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	env := credVault(t)
	dir := t.TempDir()
	rec := newBasicRecorder(t)
	host := strings.TrimPrefix(rec.URL, "http://")

	approve(t, env, dir, "https", host, "alice", "Https-Only-PW")
	if out, err := git(t, env, dir, "ls-remote", rec.URL+"/repo.git"); err == nil {
		t.Fatalf("ls-remote against a server that refuses everyone worked: %s", out)
	}
	if h := rec.headers(); len(h) != 0 {
		t.Fatalf("the https login went to http://%s in clear: %q", host, h)
	}

	// A login under the old name (git/HOST, ":" written "_") says nothing
	// of its protocol: never answered for http either.
	old := "git/" + strings.ReplaceAll(host, ":", "_")
	for _, kv := range [][2]string{{old + "/username", "alice"}, {old + "/password", "Old-Https-PW"}} {
		var errb bytes.Buffer
		if code := Main([]string{"set", kv[0], kv[1]}, strings.NewReader(""), &bytes.Buffer{}, &errb, env); code != 0 {
			t.Fatalf("set %s: %s", kv[0], errb.String())
		}
	}
	git(t, env, dir, "ls-remote", rec.URL+"/repo.git")
	if h := rec.headers(); len(h) != 0 {
		t.Fatalf("the old login went to http://%s in clear: %q", host, h)
	}
}

// A login an older hush kept under the host's name alone is answered over
// https, and the store git sends after it worked moves it to the new name.
func TestGitCredentialOldNameMoves(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	env := credVault(t)
	srv := newGitServerTLS(t)
	host := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	old := "git/" + strings.ReplaceAll(host, ":", "_")
	for _, kv := range [][2]string{{old + "/username", "ann"}, {old + "/password", "s3cret-1"}} {
		var errb bytes.Buffer
		if code := Main([]string{"set", kv[0], kv[1]}, strings.NewReader(""), &bytes.Buffer{}, &errb, env); code != 0 {
			t.Fatalf("set %s: %s", kv[0], errb.String())
		}
	}
	// git trusts the test server's certificate (the variable, which this
	// machine's environment may set too, wins over http.sslCAInfo).
	tlsEnv := append(append([]string(nil), env...), "GIT_SSL_CAINFO="+ca)
	if out, err := git(t, tlsEnv, dir, "clone", "-q", srv.URL+"/repo.git", "c1"); err != nil {
		t.Fatalf("clone over https with the old login: %v: %s", err, out)
	}
	if _, code := hushGet(t, env, old+"/password"); code == 0 {
		t.Fatal("the old login is still under the old name after git stored it")
	}
	var ls bytes.Buffer
	Main([]string{"ls", "git/https"}, strings.NewReader(""), &ls, &bytes.Buffer{}, env)
	if !strings.Contains(ls.String(), "git/https/"+strings.ReplaceAll(host, ":", "_")+"-") {
		t.Fatalf("no login under git/https:\n%s", ls.String())
	}
	// The move is one change under one audit entry, which names both.
	var aout, aerr bytes.Buffer
	if code := Main([]string{"audit", "--verify"}, strings.NewReader(""), &aout, &aerr, env); code != 0 {
		t.Fatalf("audit --verify after the move: %s%s", aout.String(), aerr.String())
	}
	aout.Reset()
	Main([]string{"audit", "--json"}, strings.NewReader(""), &aout, &bytes.Buffer{}, env)
	if n := strings.Count(aout.String(), `"git-credential-store"`); n != 1 || !strings.Contains(aout.String(), old+"/password") {
		t.Fatalf("%d store entries, want one naming %s:\n%s", n, old, aout.String())
	}
	// The moved login answers the next clone.
	if out, err := git(t, tlsEnv, dir, "clone", "-q", srv.URL+"/repo.git", "c2"); err != nil {
		t.Fatalf("clone with the moved login: %v: %s", err, out)
	}
}

// newGitServerTLS is newGitServer's repository and login (ann,
// s3cret-1) served over https.
func newGitServerTLS(t *testing.T) *httptest.Server {
	plain := newGitServer(t)
	s := httptest.NewTLSServer(plain.Config.Handler)
	t.Cleanup(s.Close)
	return s
}

// auditEntry is what the test reads of `hush audit --json`.
type auditEntry struct {
	Action  string   `json:"action"`
	Names   []string `json:"names"`
	Changes int      `json:"changes"`
}

// An erase's audit entry is written with the removal, so that it has seen
// the vault's last change (an entry written when the password was read to
// compare it came before the removal).
func TestGitCredentialEraseEntryWithItsChange(t *testing.T) {
	env := credVault(t)
	helper := func(op, in string) {
		var errb bytes.Buffer
		if code := Main([]string{"credential", "git", op}, strings.NewReader(in), &bytes.Buffer{}, &errb, env); code != 0 {
			t.Fatalf("%s: %s", op, errb.String())
		}
	}
	login := "protocol=https\nhost=example.com\nusername=ann\npassword=pw-1\n\n"
	helper("store", login)
	helper("erase", login)
	var out, errb bytes.Buffer
	if code := Main([]string{"audit", "--json"}, strings.NewReader(""), &out, &errb, env); code != 0 {
		t.Fatalf("audit: %s", errb.String())
	}
	var entries []auditEntry
	if err := json.Unmarshal(out.Bytes(), &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Action != "git-credential-store" || entries[1].Action != "git-credential-erase" {
		t.Fatalf("entries %+v", entries)
	}
	if entries[1].Changes <= entries[0].Changes {
		t.Fatalf("the erase's entry has seen change %d, the store's %d: it was written before the removal", entries[1].Changes, entries[0].Changes)
	}
	if _, code := hushGet(t, env, entries[0].Names[0]); code == 0 {
		t.Fatal("the login is still there after the erase")
	}
	// An erase that removes nothing still leaves its entry.
	helper("erase", login)
	out.Reset()
	Main([]string{"audit", "--json"}, strings.NewReader(""), &out, &bytes.Buffer{}, env)
	if n := strings.Count(out.String(), `"git-credential-erase"`); n != 2 {
		t.Fatalf("%d erase entries, want 2:\n%s", n, out.String())
	}
}
