package importer

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// real reports whether a missing real component must fail the test.
func real() bool { return os.Getenv("HUSH_TEST_REAL") == "1" }

// gpgHome makes a throw-away GnuPG home with one key without passphrase,
// and returns the environment that uses it and the key's fingerprint. The
// agent it starts is stopped when the test ends.
func gpgHome(t *testing.T) (env []string, fpr string) {
	t.Helper()
	gpg, err := exec.LookPath("gpg")
	if err != nil {
		if real() {
			t.Fatal("gpg is not installed (HUSH_TEST_REAL=1): run scripts/install-test-deps.sh")
		}
		t.Skip("gpg is not installed")
	}
	// A short path: the agent's socket path must fit in 108 bytes.
	home, err := os.MkdirTemp("", "hushgpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	env = append(os.Environ(), "GNUPGHOME="+home)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(gpg, append([]string{"--batch", "--quiet", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = env
		cmd.Run()
		os.RemoveAll(home)
	})
	run("--quick-gen-key", "hush test <test@hush.invalid>", "ed25519", "cert,sign", "never")
	for _, l := range strings.Split(run("--with-colons", "--list-keys", "test@hush.invalid"), "\n") {
		if f := strings.Split(l, ":"); len(f) > 9 && f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	run("--quick-add-key", fpr, "cv25519", "encr", "never")
	return env, fpr
}

// passStore lays out a store as `pass init` and `pass insert` do: a
// .gpg-id with the key and NAME.gpg files encrypted to it.
func passStore(t *testing.T, env []string, fpr string, entries map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ".gpg-id"), []byte(fpr+"\n"), 0o600)
	for name, content := range entries {
		file := filepath.Join(dir, name+".gpg")
		os.MkdirAll(filepath.Dir(file), 0o700)
		cmd := exec.Command("gpg", "--batch", "--quiet", "--yes", "--encrypt", "--recipient", fpr, "--output", file)
		cmd.Env, cmd.Stdin = env, bytes.NewReader(content)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg --encrypt: %v\n%s", err, out)
		}
	}
	return dir
}

func TestPassStore(t *testing.T) {
	env, fpr := gpgHome(t)
	dir := passStore(t, env, fpr, map[string][]byte{
		"email/wendy@example.com": []byte("sekrit-1\nuser: wendy\nurl: https://mail.example.com\n"),
		"dev/github":              []byte("sekrit-2\notpauth://totp/GitHub:wendy?secret=SEKRITSEED&issuer=GitHub\nrecovery: in the safe\n"),
		"dev/keys/signing":        {0x00, 0xff, 0x10, 'k'},
		"single":                  []byte("sekrit-3"),
		"crlf":                    []byte("sekrit-4\r\nnote\r\n"),
	})
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not a secret"), 0o600)
	os.MkdirAll(filepath.Join(dir, ".git", "objects"), 0o700)
	os.WriteFile(filepath.Join(dir, ".git", "objects", "x.gpg"), []byte("ignored"), 0o600)
	os.WriteFile(filepath.Join(dir, "dev", "agekey.age"), []byte("age"), 0o600)
	os.Symlink(filepath.Join(dir, "single.gpg"), filepath.Join(dir, "link.gpg"))

	p, err := Read(Pass, dir, Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, p)
	mail := wantItem(t, p, "email/wendy_example.com", "sekrit-1", vault.TypePassword)
	if mail.Note != "user: wendy\nurl: https://mail.example.com" {
		t.Errorf("note %q", mail.Note)
	}
	gh := wantItem(t, p, "dev/github", "sekrit-2", vault.TypePassword)
	if gh.Note != "recovery: in the safe" {
		t.Errorf("note %q", gh.Note)
	}
	wantItem(t, p, "dev/github.totp", "otpauth://totp/GitHub:wendy?secret=SEKRITSEED&issuer=GitHub", vault.TypeToken)
	wantItem(t, p, "dev/keys/signing", "\x00\xff\x10k", vault.TypeOther)
	wantItem(t, p, "single", "sekrit-3", vault.TypePassword)
	wantItem(t, p, "crlf", "sekrit-4", vault.TypePassword)
	if len(p.Items) != 6 {
		t.Errorf("%d items, want 6", len(p.Items))
	}
	wantSkips(t, p, map[string]int{reasonNotFile: 1, reasonAge: 1, reasonSymlink: 1})

	// A file encrypted to another key: a clear error naming the entry.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, ".gpg-id"), []byte("x\n"), 0o600)
	os.WriteFile(filepath.Join(other, "broken.gpg"), []byte("sekrit, not gpg"), 0o600)
	_, err = Read(Pass, other, Options{Env: env})
	if err == nil || !strings.Contains(err.Error(), "broken.gpg: gpg could not decrypt it") || strings.Contains(err.Error(), "krit") {
		t.Errorf("undecryptable entry gave %v", err)
	}
}

// TestRealPass builds the store with pass itself (pass init, pass insert
// --multiline), then imports it.
func TestRealPass(t *testing.T) {
	passProg, err := exec.LookPath("pass")
	if err != nil {
		if real() {
			t.Fatal("pass is not installed (HUSH_TEST_REAL=1): run scripts/install-test-deps.sh")
		}
		t.Skip("pass is not installed")
	}
	env, fpr := gpgHome(t)
	store := filepath.Join(t.TempDir(), "store")
	env = append(env, "PASSWORD_STORE_DIR="+store)
	run := func(stdin string, args ...string) {
		t.Helper()
		cmd := exec.Command(passProg, args...)
		cmd.Env, cmd.Stdin = env, strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pass %v: %v\n%s", args, err, out)
		}
	}
	run("", "init", fpr)
	run("sekrit-1\nlogin: wendy\n", "insert", "--multiline", "web/example.com")
	run("sekrit-2\n", "insert", "--multiline", "api/STRIPE_KEY")
	p, err := Read(Pass, store, Options{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, p)
	if it := wantItem(t, p, "web/example.com", "sekrit-1", vault.TypePassword); it.Note != "login: wendy" {
		t.Errorf("note %q", it.Note)
	}
	wantItem(t, p, "api/STRIPE_KEY", "sekrit-2", vault.TypePassword)
	if len(p.Items) != 2 || len(p.Skipped) != 0 {
		t.Errorf("plan %+v", p)
	}
}

func TestPassStoreErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		path, want string
	}{
		{filepath.Join(dir, "missing"), "failed to read"},
		{dir, "has no .gpg-id"},
	} {
		if _, err := Read(Pass, c.path, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	if _, err := Read(Pass, file, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Read(file) = %v", err)
	}
	age := t.TempDir()
	os.WriteFile(filepath.Join(age, ".age-recipients"), []byte("age1..."), 0o600)
	if _, err := Read(Pass, age, Options{}); err == nil || !strings.Contains(err.Error(), "age backend") {
		t.Errorf("Read(age store) = %v", err)
	}
	if _, err := Read(Pass, filepath.Join(dir), Options{GPG: "/nonexistent/gpg"}); err == nil {
		t.Error("no error")
	}
}
