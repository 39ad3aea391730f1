//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// maskFixture makes a vault whose folder app holds n secrets (random
// 32-character values, SECRET_0000 ... ) and returns the environment that
// opens it and the value of SECRET_0000.
func maskFixture(t testing.TB, n int) (env []string, first string) {
	t.Helper()
	home := t.TempDir()
	const pass = "correct horse battery staple"
	v, err := vault.Create(filepath.Join(home, "vaults", "default.db"), []byte(pass), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	var reqs []vault.SetRequest
	for i := range n {
		// Never one that starts with "-": `yes "$SECRET_0000"` would take
		// it for an option (1 run in 64 failed on that).
		value := "-"
		for strings.HasPrefix(value, "-") {
			raw := make([]byte, 24)
			rand.Read(raw)
			value = base64.RawURLEncoding.EncodeToString(raw)
		}
		if i == 0 {
			first = value
		}
		reqs = append(reqs, vault.SetRequest{Name: fmt.Sprintf("app/SECRET_%04d", i), Value: []byte(value)})
	}
	if _, err := v.SetMany(reqs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	env = []string{"HUSH_TEST_AS=hush", "HUSH_HOME=" + home, "HUSH_PASSPHRASE=" + pass, "PATH=" + os.Getenv("PATH"),
		"GORACE=" + goraceNoExitSleep()}
	return env, first
}

// cpuHog keeps every core busy with twice as many spinning goroutines as
// there are cores, until the test ends (and at most two minutes).
func cpuHog(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var wg sync.WaitGroup
	for range 2 * runtime.NumCPU() {
		wg.Go(func() {
			for x := 0; ctx.Err() == nil; x++ {
				for range 1 << 16 {
					x ^= x << 1
				}
			}
		})
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// Every byte a masked child writes reaches hush's output, in order, however
// busy the machine is: 2 MB of output and then a secret, with 1 and 1,000
// secrets, through pipes and through a pseudo-terminal, on CPUs kept busy.
// The output is compared byte for byte.
func TestRunMaskKeepsEveryByteUnderLoad(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the pseudo-terminal part is written for Linux")
	}
	const size = 2_000_000
	cpuHog(t)
	for _, n := range []int{1, 1000} {
		env, first := maskFixture(t, n)
		script := fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x; printf 'end %%s\n' "$SECRET_0000"`, size)
		args := []string{"run", "--mask", "--from", "app", "--", "sh", "-c", script}
		exe, _ := os.Executable()
		for _, mode := range []string{"pipe", "pty"} {
			t.Run(fmt.Sprintf("secrets=%d/%s", n, mode), func(t *testing.T) {
				cmd := exec.Command(exe, args...)
				cmd.Env = env
				var out []byte
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				newline := "\n"
				if mode == "pipe" {
					var err error
					out, err = cmd.Output()
					if err != nil {
						t.Fatalf("hush run: %v\n%s", err, stderr.String())
					}
				} else {
					// hush's stdin and stdout are a terminal: the child gets
					// its own pseudo-terminal, whose line discipline turns
					// "\n" into "\r\n"; hush makes ours raw, so no more.
					out = runOnTerminal(t, cmd)
					newline = "\r\n"
				}
				want := strings.Repeat("x", size) + "end " + "<concealed by hush>" + newline
				if !bytes.Equal(out, []byte(want)) {
					i := 0
					for i < min(len(out), len(want)) && out[i] == want[i] {
						i++
					}
					t.Fatalf("got %d bytes, want %d; they part at byte %d: got %q, want %q",
						len(out), len(want), i, out[i:min(len(out), i+40)], want[i:min(len(want), i+40)])
				}
				if bytes.Contains(out, []byte(first)) {
					t.Fatal("the secret is in the output")
				}
			})
		}
	}
}

// Secrets that cross the borders of hush's reads are concealed whole: the
// child writes one secret after another, 4.3 MB of them (over four times
// the 1 MiB pipe and read buffer), so that whatever sizes the reads come
// in, nearly every border between two falls inside a secret. On CPUs kept
// busy, so that the pipe fills and reads come back full; with 1 and 1,000
// secrets, through pipes and through a pseudo-terminal.
func TestRunMaskSecretsAcrossReadBorders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the pseudo-terminal part is written for Linux")
	}
	const lines = 130_000 // of 33 bytes: the secret and a newline
	cpuHog(t)
	for _, n := range []int{1, 1000} {
		env, first := maskFixture(t, n)
		args := []string{"run", "--mask", "--from", "app", "--", "sh", "-c", fmt.Sprintf(`yes "$SECRET_0000" | head -n %d`, lines)}
		exe, _ := os.Executable()
		for _, mode := range []string{"pipe", "pty"} {
			t.Run(fmt.Sprintf("secrets=%d/%s", n, mode), func(t *testing.T) {
				cmd := exec.Command(exe, args...)
				cmd.Env = env
				var out []byte
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				newline := "\n"
				if mode == "pipe" {
					var err error
					if out, err = cmd.Output(); err != nil {
						t.Fatalf("hush run: %v\n%s", err, stderr.String())
					}
				} else {
					out = runOnTerminal(t, cmd)
					newline = "\r\n"
				}
				// Each line is the secret concealed; when the output paused
				// (a busy machine) on a secret's first bytes, up to 3 of them
				// may show before it (docs/run.md), never more.
				rest, line := out, []byte("<concealed by hush>"+newline)
				for i := range lines {
					k := bytes.Index(rest, line)
					if k < 0 || k > 3 || !strings.HasPrefix(first, string(rest[:k])) {
						t.Fatalf("line %d of %d: got %q, want %q after at most 3 bytes of the secret (%d bytes in all)",
							i+1, lines, rest[:min(len(rest), 40)], line, len(out))
					}
					rest = rest[k+len(line):]
				}
				if len(rest) > 0 {
					t.Fatalf("%d bytes more than %d concealed lines: %q", len(rest), lines, rest[:min(len(rest), 40)])
				}
			})
		}
	}
}

// When nobody reads hush's output any more (`hush run --mask ... | head`),
// hush does not wait on the pipe: like any writer to a closed pipe it ends
// with SIGPIPE, and the child, which would go on writing for ever, goes
// with it (its parent-death signal). Through the spliced path: log lines
// with no secret in them.
func TestRunMaskClosedOutput(t *testing.T) {
	env, _ := maskFixture(t, 1000)
	pidFile := filepath.Join(t.TempDir(), "pid")
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "run", "--mask", "--from", "app", "--", "sh", "-c",
		`echo $$ > `+pidFile+`; trap "" PIPE; while :; do echo "level=info msg=served path=/api/v1/items status=200"; done`)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, 4<<20)); err != nil {
		t.Fatalf("reading hush's output: %v\n%s", err, stderr.String())
	}
	out.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("hush run: %v, want SIGPIPE\n%s", err, stderr.String())
		}
		if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGPIPE {
			t.Fatalf("hush run: %v, want SIGPIPE\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("hush still runs 2 minutes after its output was closed")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); syscall.Kill(pid, 0) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatal("the child outlived hush by a minute")
		}
	}
}

// runOnTerminal runs cmd with a new pseudo-terminal as its stdin and
// stdout (stderr stays as set) and returns all it wrote there.
func runOnTerminal(t *testing.T, cmd *exec.Cmd) []byte {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd.Stdin, cmd.Stdout = tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	read := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptmx) // ends with EIO when hush is gone
		read <- b
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("hush run: %v", err)
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("hush did not exit within 2 minutes")
	}
	select {
	case out := <-read:
		return out
	case <-time.After(60 * time.Second):
		t.Fatal("the terminal never reached its end after hush exited")
	}
	return nil
}

// A program the child started that keeps the child's terminal open (it
// ignores the hangup) does not keep hush waiting: after DrainGrace of
// silence hush says so and exits with the child's code.
func TestRunMaskDaemonHoldingTerminal(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("written for Linux pseudo-terminals")
	}
	env, _ := maskFixture(t, 1)
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "run", "--mask", "--from", "app", "--", "sh", "-c",
		`trap "" HUP; sleep 30 & echo "started $SECRET_0000"; exit 3`)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	cmd.Stdin, cmd.Stdout = tty, tty
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	go io.Copy(io.Discard, ptmx)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 {
			t.Fatalf("hush run: %v, want exit code 3\n%s", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatal("hush still waits for the terminal a daemon holds, 2 minutes after its child exited")
	}
	if !strings.Contains(stderr.String(), "still holds its terminal open") {
		t.Fatalf("no note on stderr: %q", stderr.String())
	}
}

// A signal that lands on hush while its output pipe is full does not cut
// the output: the child writes 2 MB and a secret, nobody reads hush's
// output until it is full, and then every thread of hush is sent SIGURG
// (which the Go runtime takes and goes on) again and again while the
// output is read. Waiting for room in a full pipe ends early on a signal
// (poll(2) is never restarted); hush used to take that for a failed
// write, stop copying and exit 0 with the rest of the output lost (about
// one CI run in ten, under load, on the child's SIGCHLD).
func TestRunMaskSignalsWhileOutputFull(t *testing.T) {
	const size = 2_000_000
	env, first := maskFixture(t, 1)
	script := fmt.Sprintf(`head -c %d /dev/zero | tr '\0' x; printf 'end %%s\n' "$SECRET_0000"`, size)
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "run", "--mask", "--from", "app", "--", "sh", "-c", script)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	cmd.Stdout = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	pid := cmd.Process.Pid
	stop := make(chan struct{})
	var signals sync.WaitGroup
	var sent atomic.Int64
	signals.Go(func() {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
			select {
			case <-stop:
				return
			default:
			}
			tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
			for _, task := range tasks {
				if tid, err := strconv.Atoi(task.Name()); err == nil && unix.Tgkill(pid, tid, unix.SIGURG) == nil {
					sent.Add(1)
				}
			}
			time.Sleep(200 * time.Microsecond)
		}
	})
	defer func() { close(stop); signals.Wait() }()
	// Let hush fill its output pipe (and wait on it) before reading.
	size0, _ := unix.FcntlInt(pr.Fd(), unix.F_GETPIPE_SZ, 0)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if n, err := unix.IoctlGetInt(int(pr.Fd()), unix.TIOCINQ); err == nil && n >= size0 {
			break
		}
	}
	var out bytes.Buffer
	buf := make([]byte, 16<<10)
	for {
		n, err := pr.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("hush run: %v\n%s", err, stderr.String())
	}
	want := strings.Repeat("x", size) + "end <concealed by hush>\n"
	if out.String() != want {
		t.Fatalf("got %d bytes, want %d (%d signals sent); stderr: %s", out.Len(), len(want), sent.Load(), stderr.String())
	}
	if bytes.Contains(out.Bytes(), []byte(first)) {
		t.Fatal("the secret is in the output")
	}
}

// When hush cannot pass on its child's output (here: its stdout is
// /dev/full, every write fails), it says so and does not exit 0: output
// never goes missing without a word.
func TestRunMaskLostOutputIsSaid(t *testing.T) {
	env, first := maskFixture(t, 1)
	full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skip("no /dev/full here")
	}
	defer full.Close()
	exe, _ := os.Executable()
	cmd := exec.Command(exe, "run", "--mask", "--from", "app", "--", "sh", "-c", `echo "token $SECRET_0000"`)
	cmd.Env = env
	cmd.Stdout = full
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("hush run: %v, want exit code 1\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "failed to pass on the output of sh") || !strings.Contains(stderr.String(), "no space left") {
		t.Fatalf("stderr does not say the output was lost: %q", stderr.String())
	}
	if strings.Contains(stderr.String(), first) {
		t.Fatal("the secret is on stderr")
	}
}
