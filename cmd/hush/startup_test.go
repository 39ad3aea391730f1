//go:build linux

package main

import (
	"bufio"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

// A command pays only for what it uses: package initialisation (every
// command runs all of it) and building the command tree do no file or
// network I/O, and a read-only command looks no user up. These tests run
// the real binary, built with `go build` as a user builds it, under
// strace(1), and read every file and network system call it makes.

// runtimeFiles are what the Go runtime and the dynamic loader read in any
// program before main: the loader's cache and libc, /proc/self/* and
// /sys/* (huge page size, cgroup CPU limits).
var runtimeFiles = []string{"/etc/ld.so.", "/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/", "/proc/self/", "/sys/"}

// straceCalls runs bin with args and env under strace and returns the
// file and network system calls it made, one per line, with the binary's
// own execve left out.
func straceCalls(t *testing.T, env []string, bin string, args ...string) []string {
	t.Helper()
	strace, err := exec.LookPath("strace")
	if err != nil {
		if keychaintest.Real() {
			t.Fatal("HUSH_TEST_REAL=1 but strace is not installed")
		}
		t.Skip("strace is not installed")
	}
	out := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command(strace, append([]string{"-f", "-qq", "-e", "trace=%file,%network", "-o", out, bin}, args...)...)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(msg), "PTRACE_TRACEME") || strings.Contains(string(msg), "ptrace(") {
			if keychaintest.Real() {
				t.Fatalf("HUSH_TEST_REAL=1 but strace cannot trace here: %s", msg)
			}
			t.Skipf("strace cannot trace here: %s", msg)
		}
		t.Fatalf("%s %v: %v\n%s", bin, args, err, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var calls []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		// "PID call(args) = result": drop the pid.
		if _, rest, ok := strings.Cut(line, " "); ok && strings.Contains(line, "(") {
			line = strings.TrimSpace(rest)
		}
		if strings.HasPrefix(line, "execve(") || strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
			continue
		}
		calls = append(calls, line)
	}
	return calls
}

// callPath is the first quoted argument of a system call line, or "".
func callPath(call string) string {
	_, rest, ok := strings.Cut(call, `"`)
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, `"`)
	return p
}

func isRuntimeFile(p string) bool {
	if p == "" { // relative to a descriptor already open (fstatat(fd, ""))
		return true
	}
	for _, prefix := range runtimeFiles {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func buildHush(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the hush binary")
	}
	bin := filepath.Join(t.TempDir(), "hush")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	return bin
}

// TestStartupDoesNoIO fails when a package's init (or the construction of
// the command tree, which every command runs) starts reading files,
// searching PATH, looking a user up or opening a socket: `hush version`
// needs none of that, so any such call beyond the runtime's own is a cost
// that every command, `hush get` included, would pay.
func TestStartupDoesNoIO(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("strace is Linux only")
	}
	bin := buildHush(t)
	home := t.TempDir()
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "HUSH_HOME=" + filepath.Join(home, "hush"),
		"DISPLAY=:0", "WAYLAND_DISPLAY=wayland-0", "TERM=xterm-256color"}
	for _, call := range straceCalls(t, env, bin, "version") {
		if strings.HasPrefix(call, "socket(") || strings.HasPrefix(call, "connect(") || !isRuntimeFile(callPath(call)) {
			t.Errorf("hush version made a system call that no command needs at startup: %s", call)
		}
	}
}

// TestGetLooksNoUserUp: `hush get` with the key remembered in the kernel
// keyring reads the vault and writes its audit entry, and looks nothing up
// in /etc/passwd, /etc/group or nsswitch.conf.
func TestGetLooksNoUserUp(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("strace and the kernel keyring are Linux only")
	}
	bin := buildHush(t)
	home := t.TempDir()
	path := filepath.Join(home, "vaults", "default.db")
	v, err := vault.Create(path, []byte("startup test passphrase"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/TOKEN", []byte("startup-value"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	key, _ := v.Key()
	id := hex.EncodeToString(v.ID())
	v.Close()
	if err := (keychain.Kernel{}).Put(id, keychain.Entry{Key: key, Expires: time.Now().Add(10 * time.Minute)}); err != nil {
		if keychaintest.Real() {
			t.Fatalf("HUSH_TEST_REAL=1 but the kernel keyring is unavailable: %v", err)
		}
		t.Skipf("kernel keyring unavailable: %v", err)
	}
	t.Cleanup(func() { keychain.Kernel{}.Delete(id) })
	env := []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "HUSH_HOME=" + home}
	calls := straceCalls(t, env, bin, "get", "app/TOKEN")
	opened := false
	for _, call := range calls {
		p := callPath(call)
		switch {
		case p == "/etc/passwd" || p == "/etc/group" || p == "/etc/nsswitch.conf":
			t.Errorf("hush get looked a user up: %s", call)
		case p == path:
			opened = true
		}
	}
	if !opened {
		t.Fatalf("strace saw no open of the vault %s: the test watches the wrong calls\n%s", path, strings.Join(calls, "\n"))
	}
}

// TestStartupAllocatesLittle fails when a package's init starts building
// something big again (a word list decompressed, a table computed): every
// command, `hush get` included, would pay for it before main (the password
// meter's 19 MB once did; docs/benchmarks.md). It reads the runtime's own
// account of each package's init (GODEBUG=inittrace=1): bytes allocated,
// which do not depend on the machine's speed or load. Today the largest
// is about 27 KB and all of them together about 190 KB.
func TestStartupAllocatesLittle(t *testing.T) {
	const perPackage, total = 64 << 10, 512 << 10
	bin := buildHush(t)
	home := t.TempDir()
	cmd := exec.Command(bin, "version")
	cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH"), "HUSH_HOME=" + filepath.Join(home, "hush"), "GODEBUG=inittrace=1"}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("hush version: %v\n%s", err, stderr.String())
	}
	sum, n := 0, 0
	for _, line := range strings.Split(stderr.String(), "\n") {
		// init PKG @T ms, C ms clock, B bytes, A allocs
		f := strings.Fields(line)
		if len(f) != 11 || f[0] != "init" || f[8] != "bytes," {
			continue
		}
		b, err := strconv.Atoi(f[7])
		if err != nil {
			t.Fatalf("unreadable inittrace line %q", line)
		}
		n++
		sum += b
		if b > perPackage {
			t.Errorf("package %s allocates %d bytes in its init (at most %d): make that work happen on first use", f[1], b, perPackage)
		}
	}
	if n < 50 {
		t.Fatalf("read %d package inits from GODEBUG=inittrace=1 (hush links about 150): the test reads the wrong output\n%s", n, stderr.String())
	}
	if sum > total {
		t.Errorf("package inits allocate %d bytes in all (at most %d): every command pays for it", sum, total)
	}
}
