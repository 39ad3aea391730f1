package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Under tmux with set-clipboard on, a copy lands in a tmux paste buffer,
// which an empty OSC 52 does not clear: hush deletes the buffer that holds
// the value when it clears the clipboard (here on quitting), so "cleared"
// is true where hush put it.
func TestTUIClipboardClearedInTmux(t *testing.T) {
	env, hush, _ := terminalFixture(t) // app/TOKEN = tok_live_0123456789
	const value = "tok_live_0123456789"
	x := startTmux(t, 100, 30, env, hush+" tui")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("set-option", "-g", "set-clipboard", "on")
	tmux("set-buffer", "-b", "mine", "something the user copied")
	x.waitFor("app/TOKEN")
	x.key("c")
	x.waitFor("copied with OSC 52 (tmux)")
	buffers := func() string { return tmux("list-buffers", "-F", "#{buffer_name}: #{buffer_sample}") }
	x.waitUntil("the value in a tmux buffer", 30*time.Second, buffers, func(s string) bool { return strings.Contains(s, value) })
	x.key("q")
	x.waitFor("[exit=0]")
	left := buffers()
	if strings.Contains(left, value) {
		t.Errorf("a tmux buffer still holds the value after quitting:\n%s", left)
	}
	if !strings.Contains(left, "something the user copied") {
		t.Errorf("the user's own buffer was deleted:\n%s", left)
	}
}
