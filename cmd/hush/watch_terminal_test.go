//go:build linux

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// run --watch in a terminal: each start of the program, the one after a
// restart included, has the terminal (it reads what is typed), and its
// exit code ends hush run.
func TestTerminalWatchRestartKeepsTheKeyboard(t *testing.T) {
	env, hush, _ := terminalFixture(t)
	dir := t.TempDir()
	x := startTmux(t, 100, 24, env, "cd "+dir+` && `+hush+` run --watch --from app -- sh -c "echo start \${#TOKEN}; read x; echo got \$x; exit 5"`)
	x.waitFor("start 19")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	set := exec.Command(exe, "set", "app/TOKEN", "a-new-token")
	set.Env = append(env, "HUSH_TEST_AS=hush")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("hush set: %v\n%s", err, out)
	}
	x.waitFor("secrets changed: restarting sh")
	x.waitFor("start 11")
	x.keys("hello", "Enter")
	x.waitFor("got hello")
	x.waitFor("[exit=5]")
}

// run --watch --mask in a terminal: each start gets a pseudo-terminal of
// its own (it is a terminal; what it prints is masked, the old value and
// the new), and reads what is typed after a restart; its exit code ends
// hush run.
func TestTerminalWatchMaskRestart(t *testing.T) {
	env, hush, _ := terminalFixture(t)
	dir := t.TempDir()
	x := startTmux(t, 100, 24, env, "cd "+dir+` && `+hush+` run --watch --mask --from app -- sh -c "[ -t 1 ] && echo tty; echo start \$TOKEN; echo old tok_live_0123456789; read x; echo got \$x; exit 5"`)
	x.waitFor("start <concealed by hush>")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	set := exec.Command(exe, "set", "app/TOKEN", "a-new-token")
	set.Env = append(env, "HUSH_TEST_AS=hush")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("hush set: %v\n%s", err, out)
	}
	x.waitFor("secrets changed: restarting sh")
	// Keys typed while no program runs go nowhere: type once the second
	// start is on the screen (its terminal keeps them until it reads).
	deadline := time.Now().Add(60 * time.Second)
	for strings.Count(x.screen(), "start <concealed by hush>") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second start; the screen:\n%s", x.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	x.keys("hello", "Enter")
	s := x.waitFor("got hello")
	x.waitFor("[exit=5]")
	if n := strings.Count(s, "start <concealed by hush>"); n != 2 {
		t.Errorf("want two masked starts, got %d:\n%s", n, s)
	}
	if n := strings.Count(s, "old <concealed by hush>"); n != 2 {
		t.Errorf("the old value is not masked in both starts:\n%s", s)
	}
	if strings.Count(s, "tty") < 2 {
		t.Errorf("a start had no terminal:\n%s", s)
	}
	for _, v := range []string{"tok_live", "a-new-token"} {
		if strings.Contains(s, v) {
			t.Errorf("the screen shows %s:\n%s", v, s)
		}
	}
}
