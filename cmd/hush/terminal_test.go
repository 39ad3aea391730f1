//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

// tmuxTerm is a real terminal: a private tmux server with one pane.
type tmuxTerm struct {
	t    *testing.T
	sock string
}

func startTmux(t *testing.T, w, h int, env []string, command string) *tmuxTerm {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if keychaintest.Real() {
			t.Fatal("tmux is not installed (run scripts/install-test-deps.sh)")
		}
		t.Skip("tmux is not installed")
	}
	x := &tmuxTerm{t: t, sock: filepath.Join(t.TempDir(), "tmux.sock")}
	// tmux 3.3 sometimes never reaps an exited program: keep the pane alive
	// with a sleep and print the exit code ourselves.
	args := []string{"-S", x.sock, "-f", "/dev/null", "new-session", "-d", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	args = append(args, "sh -c '"+command+"; echo \"[exit=$?]\"; exec sleep 600'")
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", x.sock, "kill-server").Run() })
	return x
}

func (x *tmuxTerm) screen() string {
	out, err := exec.Command("tmux", "-S", x.sock, "capture-pane", "-p").Output()
	if err != nil {
		x.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// waitFor polls the screen every 50 ms, for at most 10 s.
func (x *tmuxTerm) waitFor(text string) string {
	x.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := x.screen()
		if strings.Contains(s, text) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("%q never appeared; the screen:\n%s", text, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (x *tmuxTerm) keys(keys ...string) {
	args := append([]string{"-S", x.sock, "send-keys"}, keys...)
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		x.t.Fatalf("send-keys: %v\n%s", err, out)
	}
}

// terminalFixture makes a vault with one secret and returns the environment
// and the command prefixes for hush and the child (this test binary).
func terminalFixture(t *testing.T) (env []string, hush, child string) {
	t.Helper()
	home := t.TempDir()
	v, err := vault.Create(filepath.Join(home, "vaults", "default.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/TOKEN", []byte("tok_live_0123456789"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env = []string{"HUSH_HOME=" + home, "HUSH_PASSPHRASE=correct horse battery staple", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}
	return env, "env HUSH_TEST_AS=hush " + exe, "env HUSH_TEST_AS=hushchild " + exe
}

// A terminal's Ctrl-C reaches the child exactly once, in every mode: hush
// must not forward a SIGINT the terminal already delivered.
func TestTerminalCtrlCOnce(t *testing.T) {
	env, hush, child := terminalFixture(t)
	for _, tc := range []struct{ name, cmd string }{
		{"exec", hush + " run --from app -- " + child + " signals pid"},
		{"mask, pseudo-terminal", hush + " run --mask --from app -- " + child + " signals pid"},
		// A shell with job control runs the pipeline as its own foreground
		// job, as an interactive shell does. The reader ignores Ctrl-C, as
		// a pager does, so the child's report can still be read.
		{"mask, pipes", `bash -c "set -m; ` + hush + " run --mask --from app -- " + child + ` signals pid | (trap \"\" INT; cat)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := startTmux(t, 80, 24, env, "cd "+dir+" && "+tc.cmd)
			x.waitFor("ready")
			x.keys("C-c")
			x.waitFor("got interrupt")
			time.Sleep(300 * time.Millisecond) // a second delivery would show by now
			if n := strings.Count(x.screen(), "got interrupt"); n != 1 {
				t.Fatalf("one Ctrl-C reached the child %d times:\n%s", n, x.screen())
			}
			x.keys("C-c")
			deadline := time.Now().Add(30 * time.Second)
			for strings.Count(x.screen(), "got interrupt") < 2 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			time.Sleep(300 * time.Millisecond)
			if n := strings.Count(x.screen(), "got interrupt"); n != 2 {
				t.Fatalf("two Ctrl-C reached the child %d times:\n%s", n, x.screen())
			}
		})
	}
}

// With a terminal, a masked child gets a pseudo-terminal of its own: it
// sees a terminal, its output is masked on screen, and its exit code comes
// back.
func TestTerminalMaskPTY(t *testing.T) {
	env, hush, child := terminalFixture(t)
	x := startTmux(t, 80, 24, env, hush+" run --mask --from app -- "+child+" isatty && "+hush+" run --mask --from app -- "+child+" print \"the token is tok_live_0123456789\" && "+hush+" run --mask --from app -- "+child+" exit 5")
	s := x.waitFor("[exit=")
	for _, want := range []string{"stdin tty: true, stdout tty: true", "the token is <concealed by hush>", "[exit=5]"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "tok_live_0123456789") {
		t.Fatalf("the secret is on the screen:\n%s", s)
	}
}

// Typed input reaches a masked child through its pseudo-terminal.
func TestTerminalMaskStdin(t *testing.T) {
	env, hush, child := terminalFixture(t)
	x := startTmux(t, 80, 24, env, hush+" run --mask --from app -- "+child+" cat")
	time.Sleep(300 * time.Millisecond)
	x.keys("hello tok_live_0123456789", "Enter")
	x.waitFor("hello <concealed by hush>")
	x.keys("C-d")
	x.waitFor("[exit=0]")
}

// Under job control, hush's child stays in the pipeline's process group:
// another member of the pipeline can still read the terminal (as a pager
// does), instead of being stopped as a background job.
func TestTerminalMaskPipelineKeepsJobControl(t *testing.T) {
	env, hush, child := terminalFixture(t)
	x := startTmux(t, 80, 24, env, `bash -c "set -m; `+hush+" run --mask --from app -- "+child+` print masked-output | (read line </dev/tty; echo typed:\$line; cat)"`)
	time.Sleep(500 * time.Millisecond)
	for _, k := range []string{"h", "i", "Enter"} {
		x.keys(k)
		time.Sleep(30 * time.Millisecond)
	}
	s := x.waitFor("[exit=")
	for _, want := range []string{"typed:hi", "masked-output", "[exit=0]"} {
		if !strings.Contains(s, want) {
			t.Errorf("screen lacks %q:\n%s", want, s)
		}
	}
}

// In a real terminal, Ctrl-C ends a --dynamic child (with a pseudo-terminal,
// and in a job-control pipeline), and hush drops its login before it exits
// with the child's code.
func TestTerminalDynamicCtrlC(t *testing.T) {
	s, err := pgServer()
	if err != nil {
		t.Fatal(err)
	}
	if s == nil {
		t.Skip("PostgreSQL is not installed")
	}
	f, err := newPGFixture(s)
	if err != nil {
		t.Fatal(err)
	}
	env, hush, child := terminalFixture(t)
	home := strings.TrimPrefix(env[0], "HUSH_HOME=")
	v, err := vault.Open(filepath.Join(home, "vaults", "default.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Unlock([]byte("correct horse battery staple")); err != nil {
		t.Fatal(err)
	}
	typ := vault.TypeDynamicPostgres
	if _, err := v.Set("db/prod", []byte(f.adminURL), vault.Update{Type: &typ,
		Dynamic: &vault.DynamicSource{Template: "GRANT " + f.readers + " TO {{name}}", TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	for _, tc := range []struct{ name, cmd string }{
		{"pseudo-terminal", hush + " run --dynamic DATABASE_URL=db/prod -- " + child + " pgsleep DATABASE_URL pid url"},
		{"pipes", `bash -c "set -m; ` + hush + " run --dynamic DATABASE_URL=db/prod -- " + child + ` pgsleep DATABASE_URL pid url | (trap \"\" INT; cat)"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			x := startTmux(t, 80, 24, env, "cd "+dir+" && "+tc.cmd)
			deadline := time.Now().Add(30 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(dir, "pid")); err == nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the child never started:\n%s", x.screen())
				}
				time.Sleep(50 * time.Millisecond)
			}
			u, err := os.ReadFile(filepath.Join(dir, "url"))
			if err != nil {
				t.Fatal(err)
			}
			role := strings.TrimPrefix(strings.SplitN(string(u), ":", 3)[1], "//")
			if !roleExists(t, s, role) {
				t.Fatalf("login %s does not exist while the child runs", role)
			}
			x.keys("C-c")
			scr := x.waitFor("[exit=")
			if roleExists(t, s, role) {
				t.Fatalf("login %s outlived the child:\n%s", role, scr)
			}
			if tc.name == "pseudo-terminal" && !strings.Contains(scr, "[exit=130]") {
				t.Errorf("exit code: %s", scr)
			}
		})
	}
}
