//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

// A PEM (here a key, stored as a note) pasted into the TUI in a real terminal (tmux's bracketed paste,
// which sends each newline as a carriage return, as terminals do) is
// stored with its bytes as they were: lines and all.
func TestTUIPastedKeyKeepsItsLines(t *testing.T) {
	env, hush, _ := terminalFixture(t)
	const pem = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nQyNTUxOQAAACD1yJ0nO6B2pnXPvzFmGHfxvC2vJAXbHB7q1w0X1t2ZtAAAAJAdc2lDHXNp\n-----END OPENSSH PRIVATE KEY-----\n"
	x := startTmux(t, 100, 30, env, hush+" tui")
	tmux := func(args ...string) {
		if out, err := exec.Command("tmux", append([]string{"-S", x.sock}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
	}
	x.waitFor("app/TOKEN")
	x.key("n")
	x.waitFor("New secret")
	x.typeText("app/NOTES")
	x.key("Tab")
	for range 6 { // password → note
		x.key("Right")
	}
	x.waitFor("‹ note ›")
	x.key("Tab")
	tmux("set-buffer", "-b", "pem", "--", pem)
	tmux("paste-buffer", "-p", "-d", "-b", "pem")
	x.waitFor("4 lines, " + strconv.Itoa(len(pem)) + " bytes")
	if s := x.screen(); strings.Contains(s, "b3BlbnNzaC1rZXkt") {
		t.Errorf("the pasted value is shown:\n%s", s)
	}
	x.key("C-s")
	x.waitFor("created app/NOTES")
	x.key("q")
	x.waitFor("[exit=0]")

	out, err := exec.Command("sh", "-c", "env "+strings.Join(quoteAll(env), " ")+" "+hush+" get app/NOTES").Output()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if string(out) != pem {
		t.Errorf("stored %q, want %q", out, pem)
	}
}

func quoteAll(env []string) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = "'" + strings.ReplaceAll(e, "'", `'\''`) + "'"
	}
	return out
}

// Ctrl-E in a real terminal: the editor gets the terminal and a 0600 file
// in a 0700 folder under XDG_RUNTIME_DIR; the TUI comes back, saves what
// the editor wrote, and the folder is gone.
func TestTUIEditValueInEditor(t *testing.T) {
	env, hush, _ := terminalFixture(t) // app/TOKEN = tok_live_0123456789
	dir := t.TempDir()
	runtime := filepath.Join(dir, "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	editor := filepath.Join(dir, "editor")
	// An editor that draws on the terminal, waits for a key, and writes.
	script := `#!/bin/sh
stat -c '%a' "$1" "$(dirname "$1")" | tr '\n' ' ' > ` + dir + `/modes
dirname "$1" > ` + dir + `/where
printf 'EDITOR RUNNING: press x\n'
read -r line
printf 'first line\nsecond line\n' > "$1"
`
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	env = append(env, "XDG_RUNTIME_DIR="+runtime, "EDITOR="+editor, "VISUAL=")
	x := startTmux(t, 100, 30, env, hush+" tui")
	x.waitFor("app/TOKEN")
	x.key("e")
	x.waitFor("Edit app/TOKEN")
	x.key("Tab")
	x.key("Tab")
	x.key("C-e")
	x.waitFor("EDITOR RUNNING")
	x.typeText("x")
	x.key("Enter")
	x.waitFor("the value from the editor")
	x.key("C-s")
	x.waitFor("saved app/TOKEN (version 2)")
	x.key("q")
	x.waitFor("[exit=0]")

	out, err := exec.Command("sh", "-c", "env "+strings.Join(quoteAll(env), " ")+" "+hush+" get app/TOKEN").Output()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	// The value had no final newline, so the one the editor wrote is dropped.
	if string(out) != "first line\nsecond line" {
		t.Errorf("stored %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "modes")); string(b) != "600 700 " {
		t.Errorf("file and folder modes %q, want 600 700", b)
	}
	where, _ := os.ReadFile(filepath.Join(dir, "where"))
	w := strings.TrimSpace(string(where))
	if filepath.Dir(w) != runtime {
		t.Errorf("edited in %q, not under %s", w, runtime)
	}
	if _, err := os.Stat(w); !os.IsNotExist(err) {
		t.Errorf("the private folder is still there: %v", err)
	}
}
