//go:build unix

package sshagent

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// memVault holds keys made by ssh-keygen in the test; the real vault is
// tested through `hush ssh-agent` in cmd/hush/testdata/script.
type memVault struct {
	mu      sync.Mutex
	keys    []Key
	locked  bool
	records []string
}

func (m *memVault) Keys() ([]Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locked {
		return nil, ErrLocked
	}
	return m.keys, nil
}

func (m *memVault) recorded() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return strings.Join(m.records, ",")
}

func (m *memVault) Record(action, name string, result error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := action + " " + name
	if result != nil {
		s += " failed"
	}
	m.records = append(m.records, s)
}

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("HUSH_TEST_REAL") == "1" {
				t.Fatalf("%s is missing (scripts/install-test-deps.sh installs it)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// keygen makes a key with the real ssh-keygen and returns its file.
func keygen(t *testing.T, dir, typ string) string {
	t.Helper()
	f := filepath.Join(dir, "id_"+typ)
	args := []string{"-q", "-t", typ, "-N", "", "-C", "test", "-f", f}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command("ssh-keygen", args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	return f
}

type fixture struct {
	dir, sock string
	v         *memVault
	env       []string
}

func start(t *testing.T, o Options, typs ...string) *fixture {
	t.Helper()
	need(t, "ssh-add", "ssh-keygen")
	// A short path: a Unix socket's path is limited to about 100 bytes.
	dir, err := os.MkdirTemp("", "hush-agent")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fixture{dir: dir, sock: filepath.Join(dir, "s"), v: &memVault{}}
	for _, typ := range typs {
		b, err := os.ReadFile(keygen(t, dir, typ))
		if err != nil {
			t.Fatal(err)
		}
		k, err := ParseKey("ssh/"+typ, b)
		if err != nil {
			t.Fatal(err)
		}
		f.v.keys = append(f.v.keys, k)
	}
	l, err := net.Listen("unix", f.sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go New(f.v, o).Serve(l)
	f.env = append(os.Environ(), "SSH_AUTH_SOCK="+f.sock)
	return f
}

func (f *fixture) run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env, cmd.Dir = f.env, f.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// The real ssh-add lists the vault's keys, named by their secrets.
func TestListWithSSHAdd(t *testing.T) {
	f := start(t, Options{}, "ed25519", "rsa")
	out, err := f.run(t, "ssh-add", "-L")
	if err != nil {
		t.Fatalf("ssh-add -L: %v: %s", err, out)
	}
	for _, typ := range []string{"ed25519", "rsa"} {
		pub, _ := os.ReadFile(filepath.Join(f.dir, "id_"+typ+".pub"))
		fields := strings.Fields(string(pub))
		if !strings.Contains(out, fields[0]+" "+fields[1]+" ssh/"+typ) {
			t.Errorf("ssh-add -L does not list ssh/%s:\n%s", typ, out)
		}
	}
	if strings.Contains(out, "PRIVATE KEY") {
		t.Fatal("a private key was listed")
	}
}

// ssh-keygen -Y sign asks the agent for a signature (the -f file is only
// the public key), and ssh-keygen verifies it: ed25519 and RSA (which
// ssh-keygen signs with rsa-sha2-512, through the agent's flags).
func TestSignWithSSHKeygen(t *testing.T) {
	f := start(t, Options{}, "ed25519", "rsa")
	os.WriteFile(filepath.Join(f.dir, "data"), []byte("signed by hush\n"), 0o600)
	for _, typ := range []string{"ed25519", "rsa"} {
		// Only the public key is left on disk: the signature must come
		// from the agent.
		os.Remove(filepath.Join(f.dir, "id_"+typ))
		pub := "id_" + typ + ".pub"
		if out, err := f.run(t, "ssh-keygen", "-Y", "sign", "-f", pub, "-n", "file", "data"); err != nil {
			t.Fatalf("%s: ssh-keygen -Y sign: %v: %s", typ, err, out)
		}
		cmd := exec.Command("ssh-keygen", "-Y", "check-novalidate", "-n", "file", "-s", "data.sig")
		cmd.Dir = f.dir
		cmd.Stdin = bytes.NewReader([]byte("signed by hush\n"))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: signature does not verify: %v: %s", typ, err, out)
		}
		os.Remove(filepath.Join(f.dir, "data.sig"))
	}
	if got := f.v.recorded(); got != "ssh-sign ssh/ed25519,ssh-sign ssh/rsa" {
		t.Errorf("audit records %q", got)
	}
}

// A client cannot add, remove or lock keys unless the agent allows it.
func TestClientChangesRefused(t *testing.T) {
	f := start(t, Options{}, "ed25519")
	other := keygen(t, f.dir, "ecdsa")
	if out, err := f.run(t, "ssh-add", other); err == nil {
		t.Fatalf("ssh-add KEY was accepted: %s", out)
	}
	if out, err := f.run(t, "ssh-add", "-D"); err == nil {
		t.Fatalf("ssh-add -D was accepted: %s", out)
	}
	out, err := f.run(t, "ssh-add", "-L")
	if err != nil || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "ssh/ed25519") {
		t.Fatalf("after refused changes, ssh-add -L: %v\n%s", err, out)
	}

	g := start(t, Options{AllowChanges: true}, "ed25519")
	other = keygen(t, g.dir, "ecdsa")
	if out, err := g.run(t, "ssh-add", other); err != nil {
		t.Fatalf("with AllowChanges, ssh-add KEY: %v: %s", err, out)
	}
	if out, _ := g.run(t, "ssh-add", "-L"); !strings.Contains(out, "ecdsa-sha2") {
		t.Fatalf("added key not listed:\n%s", out)
	}
}

// A locked vault: nothing is listed, nothing is signed.
func TestLockedVault(t *testing.T) {
	f := start(t, Options{}, "ed25519")
	f.v.mu.Lock()
	f.v.locked = true
	f.v.mu.Unlock()
	if out, err := f.run(t, "ssh-add", "-L"); err == nil || strings.Contains(out, "ssh-ed25519") {
		t.Fatalf("ssh-add -L on a locked vault: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(f.dir, "data"), []byte("x"), 0o600)
	os.Remove(filepath.Join(f.dir, "id_ed25519"))
	if out, err := f.run(t, "ssh-keygen", "-Y", "sign", "-f", "id_ed25519.pub", "-n", "file", "data"); err == nil {
		t.Fatalf("signed with a locked vault: %s", out)
	}
}

// --confirm: the askpass program decides; a refusal is recorded.
func TestConfirm(t *testing.T) {
	dir := t.TempDir()
	askpass := filepath.Join(dir, "askpass")
	answer := filepath.Join(dir, "answer")
	asked := filepath.Join(dir, "asked")
	script := "#!/bin/sh\necho \"$SSH_ASKPASS_PROMPT $1\" >> " + asked + "\nexit $(cat " + answer + ")\n"
	if err := os.WriteFile(askpass, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	f := start(t, Options{Confirm: Askpass(askpass, os.Environ())}, "ed25519")
	os.WriteFile(filepath.Join(f.dir, "data"), []byte("x"), 0o600)
	os.Remove(filepath.Join(f.dir, "id_ed25519"))
	sign := func() error {
		os.Remove(filepath.Join(f.dir, "data.sig"))
		_, err := f.run(t, "ssh-keygen", "-Y", "sign", "-f", "id_ed25519.pub", "-n", "file", "data")
		return err
	}
	os.WriteFile(answer, []byte("1"), 0o600)
	if err := sign(); err == nil {
		t.Fatal("signed although askpass said no")
	}
	os.WriteFile(answer, []byte("0"), 0o600)
	if err := sign(); err != nil {
		t.Fatalf("askpass said yes: %v", err)
	}
	b, _ := os.ReadFile(asked)
	if n := strings.Count(string(b), "confirm Allow use of SSH key ssh/ed25519 (SHA256:"); n != 2 {
		t.Errorf("askpass asked %d times, want 2:\n%s", n, b)
	}
	if got := f.v.recorded(); got != "ssh-sign ssh/ed25519 failed,ssh-sign ssh/ed25519" {
		t.Errorf("audit records %q", got)
	}
}

func TestParseKeyNeverShowsTheValue(t *testing.T) {
	for _, v := range []string{"hunter2-not-a-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ9 pub"} {
		_, err := ParseKey("ssh/x", []byte(v))
		if err == nil || strings.Contains(err.Error(), v) {
			t.Errorf("ParseKey(%q) = %v", v, err)
		}
	}
	if _, err := ParseKey("ssh/x", nil); err == nil {
		t.Error("empty value accepted")
	}
}
