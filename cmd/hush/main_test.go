//go:build linux

// The end-to-end tests of the hush binary are Linux tests: they use the
// kernel keyring, pseudo-terminals, tmux and Unix signals. On Windows and
// macOS, `make cross` type-checks them; docs/desktop.md says what only a
// machine of that kind can check.

package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/keychain"
	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

// TestMain lets the test binary act as the real hush command, so scripts
// run `exec hush ...` as separate processes, exactly as a user would.
func TestMain(m *testing.M) {
	// The terminal tests start this binary in tmux as hush or as the child.
	switch os.Getenv("HUSH_TEST_AS") {
	case "hush":
		os.Unsetenv("HUSH_TEST_AS")
		_ = harden.Process()
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
	case "hushchild":
		os.Exit(hushchild())
	}
	testscript.Main(withPostgres{m}, map[string]func(){
		"hushchild": func() { os.Exit(hushchild()) },
		"hush": func() {
			_ = harden.Process()
			os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
		},
		// The names git and docker run a credential helper by.
		"git-credential-hush": func() {
			os.Exit(Main(credhelper.MultiCall("git-credential-hush", os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Environ()))
		},
		"docker-credential-hush": func() {
			os.Exit(Main(credhelper.MultiCall("docker-credential-hush", os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Environ()))
		},
	})
}

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "kernelkeyring":
				// A container whose seccomp profile blocks keyctl has none;
				// under HUSH_TEST_REAL=1 the test runs and fails instead.
				_, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false)
				return keychaintest.Real() || err == nil, nil
			case "secretservice":
				// Under HUSH_TEST_REAL=1 the tests run and fail if it is missing.
				_, err1 := exec.LookPath("gnome-keyring-daemon")
				_, err2 := exec.LookPath("dbus-daemon")
				return keychaintest.Real() || (err1 == nil && err2 == nil), nil
			case "openssh":
				// ssh-add and ssh-keygen (openssh-client, installed by
				// scripts/install-test-deps.sh); under HUSH_TEST_REAL=1 a
				// missing client fails the test instead of skipping it.
				_, err1 := exec.LookPath("ssh-add")
				_, err2 := exec.LookPath("ssh-keygen")
				return keychaintest.Real() || (err1 == nil && err2 == nil), nil
			case "postgres":
				// Started on first use; under HUSH_TEST_REAL=1 a missing
				// PostgreSQL is an error, not a skip.
				s, err := pgServer()
				return s != nil, err
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Setup: func(env *testscript.Env) error {
			// A -race binary otherwise sleeps a second before exiting.
			env.Setenv("GORACE", goraceNoExitSleep())
			env.Setenv("HUSH_HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("VAULT", filepath.Join(env.WorkDir, "home", "vaults", "default.db"))
			env.Setenv("AUDIT", filepath.Join(env.WorkDir, "home", "vaults", "default.audit.db"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sqlexec":       cmdSQLExec,
			"integrity":     cmdIntegrity,
			"noplain":       cmdNoPlain,
			"genenv":        cmdGenEnv,
			"filemode":      cmdFileMode,
			"allbytes":      cmdAllBytes,
			"exits":         cmdExits,
			"sleep":         cmdSleep,
			"keyput":        cmdKeyPut,
			"waitfile":      cmdWaitFile,
			"waitgrep":      cmdWaitGrep,
			"gone":          cmdGone,
			"sigparent":     cmdSigParent,
			"gencert":       cmdGenCert,
			"secretservice": cmdSecretService,
			"pgsetup":       cmdPGSetup,
			"pgroles":       cmdPGRoles,
			"pgexpiry":      cmdPGExpiry,
			"pgrefused":     cmdPGRefused,
			"noleak":        cmdNoLeak,
			"urluser":       cmdURLUser,
			"pgdrop":        cmdPGDrop,
			"pgbusy":        cmdPGBusy,
		},
	})
}

// sqlexec DB SQL... changes a vault file behind hush's back.
func cmdSQLExec(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: sqlexec DB SQL...")
	}
	db, err := sql.Open("sqlite3", "file:"+ts.MkAbs(args[0]))
	ts.Check(err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range args[1:] {
		_, err := db.Exec(s)
		if neg {
			if err == nil {
				ts.Fatalf("sqlexec %q succeeded", s)
			}
			return
		}
		ts.Check(err)
	}
}

// integrity DB [N]: the SQLite file passes integrity_check and, with N, holds
// whole batches of N live secrets only (a batch is all or nothing).
func cmdIntegrity(ts *testscript.TestScript, neg bool, args []string) {
	db, err := sql.Open("sqlite3", "file:"+ts.MkAbs(args[0])+"?mode=ro")
	ts.Check(err)
	defer db.Close()
	var res string
	ts.Check(db.QueryRow("PRAGMA integrity_check").Scan(&res))
	if res != "ok" {
		ts.Fatalf("integrity_check: %s", res)
	}
	if len(args) > 1 {
		var n int
		ts.Check(db.QueryRow("SELECT count(*) FROM secrets WHERE deleted IS NULL").Scan(&n))
		want, _ := strconv.Atoi(args[1])
		if want <= 0 || n%want != 0 {
			ts.Fatalf("%d secrets: a batch of %d was half written", n, want)
		}
		ts.Logf("%d secrets", n)
	}
}

// noplain FILE WORD...: none of the words appears in FILE or its -wal,
// -shm or -journal companions.
func cmdNoPlain(ts *testscript.TestScript, neg bool, args []string) {
	base := ts.MkAbs(args[0])
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		b, err := os.ReadFile(base + suffix)
		if err != nil {
			continue
		}
		for _, w := range args[1:] {
			if bytes.Contains(b, []byte(w)) {
				ts.Fatalf("%q found in plaintext in %s", w, filepath.Base(base+suffix))
			}
		}
	}
}

// genenv N FILE writes a dotenv file of N secrets.
func cmdGenEnv(ts *testscript.TestScript, neg bool, args []string) {
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "KEY_%05d=\"value %d\\nsecond line\"\n", i, i)
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), b.Bytes(), 0o600))
}

// filemode PATH MODE: the file's permission bits are MODE (octal).
func cmdFileMode(ts *testscript.TestScript, neg bool, args []string) {
	st, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	if got := st.Mode().Perm(); (uint64(got) == want) == neg {
		ts.Fatalf("%s has mode %04o, want %s%04o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// allbytes FILE writes every byte value, then invalid UTF-8 and a NUL.
func cmdAllBytes(ts *testscript.TestScript, neg bool, args []string) {
	b := make([]byte, 0, 300)
	for i := range 256 {
		b = append(b, byte(i))
	}
	b = append(b, "\xc3\x28 tail\x00\n"...)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// exits N CMD ARGS... runs CMD and checks its exit code is N; stdout and
// stderr are kept for the next stdout/stderr assertions.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// sleep DURATION waits, to let a background command get going.
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

func vaultID(ts *testscript.TestScript, path string) string {
	db, err := sql.Open("sqlite3", "file:"+ts.MkAbs(path)+"?mode=ro")
	ts.Check(err)
	defer db.Close()
	var id []byte
	ts.Check(db.QueryRow("SELECT vault_id FROM header").Scan(&id))
	return hex.EncodeToString(id)
}

// keyput DB wrong|corrupt|forget puts a key that does not fit, a damaged
// entry, or nothing (deleting what is there) into the kernel keyring under
// the vault's id.
func cmdKeyPut(ts *testscript.TestScript, neg bool, args []string) {
	id := vaultID(ts, args[0])
	k := keychain.Kernel{}
	switch args[1] {
	case "wrong":
		key, err := crypto.NewKey()
		ts.Check(err)
		ts.Check(k.Put(id, keychain.Entry{Key: key, Expires: time.Now().Add(time.Minute)}))
	case "corrupt":
		_, err := unix.AddKey("user", "hush:v1:"+id, []byte("truncated"), unix.KEY_SPEC_USER_KEYRING)
		ts.Check(err)
	case "forget":
		ts.Check(k.Delete(id))
	default:
		ts.Fatalf("usage: keyput DB wrong|corrupt|forget")
	}
	ts.Defer(func() { k.Delete(id) })
}

// secretservice starts a private D-Bus session with an unlocked
// gnome-keyring and points the script's environment at it.
func cmdSecretService(ts *testscript.TestScript, neg bool, args []string) {
	svc, err := keychaintest.Start()
	ts.Check(err)
	ts.Defer(svc.Stop)
	for _, kv := range svc.Env() {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
}

// waitfile FILE waits (at most 10 s) until FILE exists.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(ts.MkAbs(args[0])); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	ts.Fatalf("%s did not appear within 60s", args[0])
}

// gone PIDFILE checks (waiting at most 30 s) that the process whose pid is in
// PIDFILE no longer exists.
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	ts.Check(err)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := unix.Kill(pid, 0); err == unix.ESRCH {
			return
		}
		// A zombie (exited, not yet reaped) counts as gone.
		if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil && strings.Contains(string(st), ") Z ") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("process %d is still running", pid)
}

// sigparent SIG PIDFILE sends signal SIG (USR1, HUP, WINCH, TERM, INT, ...)
// to the parent of the process whose pid is in PIDFILE: the hush that
// supervises it.
func cmdSigParent(ts *testscript.TestScript, neg bool, args []string) {
	sig := unix.SignalNum("SIG" + args[0])
	if sig == 0 {
		ts.Fatalf("unknown signal %s", args[0])
	}
	b, err := os.ReadFile(ts.MkAbs(args[1]))
	ts.Check(err)
	stat, err := os.ReadFile("/proc/" + strings.TrimSpace(string(b)) + "/stat")
	ts.Check(err)
	// pid (comm) state ppid ...
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	ppid, err := strconv.Atoi(fields[1])
	ts.Check(err)
	ts.Check(unix.Kill(ppid, sig))
}

// gencert FILE DAYS [CN] writes a self-signed PEM certificate for CN
// (default shop.example.com) that ends in DAYS days (negative: ended).
func cmdGenCert(ts *testscript.TestScript, neg bool, args []string) {
	days, err := strconv.Atoi(args[1])
	ts.Check(err)
	cn := "shop.example.com"
	if len(args) > 2 {
		cn = args[2]
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	ts.Check(err)
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn, "www." + cn},
		NotBefore:    now.Add(-48 * time.Hour),
		NotAfter:     now.Add(time.Duration(days) * 24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
}

// waitgrep FILE REGEXP waits (at most 60 s) until FILE has a line matching
// REGEXP: a background program has got that far.
func cmdWaitGrep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: waitgrep FILE REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(ts.MkAbs(args[0]))
		if re.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s has no line matching %q after 60s; it holds:\n%s", args[0], args[1], b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
