//go:build linux

package main

import (
	"os"
	"os/exec"
	"testing"
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
