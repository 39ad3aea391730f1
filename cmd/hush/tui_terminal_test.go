//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// End-to-end tests of the terminal UI: the real program in a real terminal
// (tmux) against a real vault, typed at one key at a time.

const tuiPassphrase = "correct horse battery staple" // terminalFixture's

// key presses one key (a tmux key name: "Enter", "Tab", "C-s", "r") and
// leaves the program the ~30 ms it needs between keys.
func (x *tmuxTerm) key(k string) {
	x.t.Helper()
	x.keys(k)
	time.Sleep(30 * time.Millisecond)
}

// typeText types s literally, one character per send-keys call.
func (x *tmuxTerm) typeText(s string) {
	x.t.Helper()
	for _, r := range s {
		x.keys("-l", string(r))
		time.Sleep(30 * time.Millisecond)
	}
}

// esc presses Escape and pauses, or the next key would read as alt+key.
func (x *tmuxTerm) esc() {
	x.t.Helper()
	x.keys("Escape")
	time.Sleep(150 * time.Millisecond)
}

// resize changes the terminal's size; the program gets SIGWINCH.
func (x *tmuxTerm) resize(w, h int) {
	x.t.Helper()
	out, err := exec.Command("tmux", "-S", x.sock, "resize-window", "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)).CombinedOutput()
	if err != nil {
		x.t.Fatalf("resize-window: %v\n%s", err, out)
	}
}

// joined is the screen with lines the terminal wrapped joined again, so a
// line drawn wider than the terminal shows as one long line.
func (x *tmuxTerm) joined() string {
	x.t.Helper()
	out, err := exec.Command("tmux", "-S", x.sock, "capture-pane", "-p", "-J").Output()
	if err != nil {
		x.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// history is everything the pane holds: its scrollback and the screen.
func (x *tmuxTerm) history() string {
	x.t.Helper()
	out, err := exec.Command("tmux", "-S", x.sock, "capture-pane", "-p", "-S", "-").Output()
	if err != nil {
		x.t.Fatalf("capture-pane: %v", err)
	}
	return string(out)
}

// waitUntil polls the screen every 50 ms, for at most limit, until ok
// accepts it.
func (x *tmuxTerm) waitUntil(what string, limit time.Duration, capture func() string, ok func(string) bool) string {
	x.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := capture()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("never %s; the screen:\n%s", what, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// paneLog keeps every frame seen on the pane: those the test captures
// after each step, and those a background poller grabs every few
// milliseconds in between.
type paneLog struct {
	x      *tmuxTerm
	mu     sync.Mutex
	frames []string
	stop   chan struct{}
	done   chan struct{}
}

func (x *tmuxTerm) record() *paneLog {
	l := &paneLog{x: x, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			// Not x.screen: t.Fatal must not run outside the test goroutine.
			if out, err := exec.Command("tmux", "-S", x.sock, "capture-pane", "-p").Output(); err == nil {
				l.add(string(out))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return l
}

func (l *paneLog) add(s string) string {
	l.mu.Lock()
	l.frames = append(l.frames, s)
	l.mu.Unlock()
	return s
}

// snap captures the screen now and keeps it.
func (l *paneLog) snap() string {
	l.x.t.Helper()
	return l.add(l.x.screen())
}

// finish stops the poller and returns every frame seen.
func (l *paneLog) finish() []string {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.frames
}

// neverShown fails if any frame holds any of the secrets.
func neverShown(t *testing.T, frames []string, secrets ...string) {
	t.Helper()
	for i, f := range frames {
		for _, s := range secrets {
			if strings.Contains(f, s) {
				t.Fatalf("%q was on the screen (frame %d of %d):\n%s", s, i+1, len(frames), f)
			}
		}
	}
}

// withoutPassphrase makes hush ask: HUSH_PASSPHRASE is dropped from the
// fixture's environment and from what the tmux server inherits.
func withoutPassphrase(env []string, hush string) ([]string, string) {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "HUSH_PASSPHRASE=") {
			out = append(out, e)
		}
	}
	return out, "env -u HUSH_PASSPHRASE -u HUSH_VAULT " + hush
}

func homeOf(t *testing.T, env []string) string {
	t.Helper()
	for _, e := range env {
		if h, ok := strings.CutPrefix(e, "HUSH_HOME="); ok {
			return h
		}
	}
	t.Fatal("no HUSH_HOME in the fixture")
	return ""
}

// addSecrets stores more secrets in the fixture's vault.
func addSecrets(t *testing.T, env []string, secrets map[string]string) {
	t.Helper()
	v, err := vault.Open(filepath.Join(homeOf(t, env), "vaults", "default.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock([]byte(tuiPassphrase)); err != nil {
		t.Fatal(err)
	}
	for name, value := range secrets {
		if _, err := v.Set(name, []byte(value), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
}

// Unlock, filter, open, reveal, quit: and no value is ever on the screen
// before the user asks for it, nor after the program ends.
func TestTUIEndToEnd(t *testing.T) {
	env, hush, _ := terminalFixture(t) // app/TOKEN = tok_live_0123456789
	addSecrets(t, env, map[string]string{
		"db/prod/PASSWORD": "s3cr3t-VALUE-two",
		"mail/SMTP_KEY":    "s3cr3t-VALUE-three",
	})
	values := []string{"tok_live_0123456789", "s3cr3t-VALUE", "s3cr3t", "VALUE-t"}
	env, hush = withoutPassphrase(env, hush)
	x := startTmux(t, 100, 30, env, hush)
	log := x.record()

	s := log.add(x.waitFor("The vault is locked."))
	if !strings.Contains(s, "Passphrase:") {
		t.Fatalf("no passphrase prompt:\n%s", s)
	}
	for _, r := range tuiPassphrase {
		x.keys("-l", string(r))
		time.Sleep(30 * time.Millisecond)
		log.snap()
	}
	// Masked as one dot a character.
	log.add(x.waitFor("Passphrase: " + strings.Repeat("•", len([]rune(tuiPassphrase))) + "\n"))
	x.key("Enter")
	log.snap()
	log.add(x.waitFor("3 secrets"))
	s = log.add(x.waitFor("mail/SMTP_KEY"))
	for _, name := range []string{"app/TOKEN", "db/prod/PASSWORD", "mail/SMTP_KEY", "unlocked (passphrase)"} {
		if !strings.Contains(s, name) {
			t.Errorf("the browser lacks %q:\n%s", name, s)
		}
	}

	// Filter: "p" matches all three, "pr" only db/prod/PASSWORD.
	x.key("/")
	log.snap()
	x.keys("-l", "p")
	s = log.add(x.waitFor("3 of 3"))
	for _, name := range []string{"app/TOKEN", "db/prod/PASSWORD", "mail/SMTP_KEY"} {
		if !strings.Contains(s, name) {
			t.Fatalf("%q does not match \"p\":\n%s", name, s)
		}
	}
	for _, r := range "rod" {
		x.keys("-l", string(r))
		time.Sleep(30 * time.Millisecond)
		log.snap()
	}
	s = log.add(x.waitFor("/ prod "))
	if !strings.Contains(s, "1 of 3") || !strings.Contains(s, "db/prod/PASSWORD") {
		t.Fatalf("the filter does not show its query and the match:\n%s", s)
	}
	if strings.Contains(s, "app/TOKEN") || strings.Contains(s, "mail/SMTP_KEY") {
		t.Fatalf("the list did not narrow to db/prod/PASSWORD:\n%s", s)
	}

	// Open the detail.
	x.key("Enter")
	log.snap()
	s = log.add(x.waitFor("Version"))
	log.snap()

	// Nothing so far may have shown a value, or the passphrase.
	frames := log.finish()
	t.Logf("%d frames checked before the reveal", len(frames))
	neverShown(t, frames, append(values, "correct horse", "horse battery")...)

	// The value is masked.
	if !strings.Contains(s, "••••••••") || !strings.Contains(s, "r reveal") {
		t.Fatalf("the detail does not show a masked value:\n%s", s)
	}
	if !strings.Contains(s, "db/prod/PASSWORD") {
		t.Fatalf("the detail is not db/prod/PASSWORD's:\n%s", s)
	}

	// Reveal: only the opened secret's value.
	x.key("r")
	s = x.waitFor("s3cr3t-VALUE-two")
	if strings.Contains(s, "VALUE-three") || strings.Contains(s, "tok_live") {
		t.Fatalf("another secret's value is on the screen:\n%s", s)
	}
	if !strings.Contains(s, "r hide") {
		t.Errorf("the help bar does not offer to hide the value:\n%s", s)
	}

	// Back to the list: the value leaves the screen.
	x.esc()
	s = x.waitFor("1 of 3")
	if strings.Contains(s, "s3cr3t") {
		t.Fatalf("the value stayed on the screen after Esc:\n%s", s)
	}

	x.key("q")
	s = x.waitFor("[exit=0]")
	// The alternate screen is gone: neither the browser nor the value stays
	// on the terminal, nor in its scrollback.
	for _, gone := range []string{"s3cr3t", "secrets", "db/prod", "Passphrase", "filter"} {
		if strings.Contains(s, gone) {
			t.Fatalf("%q is still on the terminal after quitting:\n%s", gone, s)
		}
	}
	if h := x.history(); strings.Contains(h, "s3cr3t") || strings.Contains(h, "db/prod") {
		t.Fatalf("the terminal's scrollback holds the UI:\n%s", h)
	}
}

// No vault: the first-run screen creates one, the form adds a secret, and
// the vault really holds it.
func TestTUIFirstRun(t *testing.T) {
	_, hush, _ := terminalFixture(t) // only for the command
	home := t.TempDir()
	env := []string{"HUSH_HOME=" + home, "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}
	_, hush = withoutPassphrase(nil, hush)
	const pass, name, value = "Tr0ub4dor-and-3-more", "app/NEW_KEY", "n3w-s3cr3t-VALUE"
	x := startTmux(t, 100, 30, env, hush)
	log := x.record()

	s := log.add(x.waitFor("first run"))
	if !strings.Contains(s, "New passphrase:") || !strings.Contains(s, filepath.Join(home, "vaults", "default.db")) {
		t.Fatalf("the first-run screen lacks the prompt or the vault's path:\n%s", s)
	}
	x.typeText(pass)
	log.snap()
	x.key("Enter")
	x.typeText(pass)
	dots := strings.Repeat("•", len(pass))
	log.add(x.waitUntil("both passphrases masked", 30*time.Second, x.screen, func(s string) bool {
		return strings.Contains(s, "New passphrase: "+dots+"\n") && strings.Contains(s, "Repeat it:      "+dots+"\n")
	}))
	x.key("Enter")
	log.snap()
	// Calibrating Argon2 takes about half a second, more on a busy machine
	// under -race.
	s = log.add(x.waitUntil("created the vault", 30*time.Second, x.screen, func(s string) bool {
		return strings.Contains(s, "The vault is empty")
	}))
	if !strings.Contains(s, "0 secrets") {
		t.Errorf("the header does not count 0 secrets:\n%s", s)
	}

	x.key("n")
	log.add(x.waitFor("New secret"))
	x.typeText(name)
	// Tab order (tui/form.go): Name, Type, Value.
	x.key("Tab")
	x.key("Tab")
	x.typeText(value)
	s = log.add(x.waitFor("Value         " + strings.Repeat("•", len(value)) + "\n"))
	if !strings.Contains(s, "Name          "+name+"\n") {
		t.Fatalf("the form does not show the name and a masked value:\n%s", s)
	}
	x.key("C-s")
	// The status comes at once, the list when the index is read again.
	s = log.add(x.waitFor("▸ " + name))
	if !strings.Contains(s, "created "+name) || !strings.Contains(s, "1 secret ") {
		t.Fatalf("the list does not show the new secret:\n%s", s)
	}
	x.key("q")
	log.add(x.waitFor("[exit=0]"))
	neverShown(t, log.finish(), value, "s3cr3t", pass, "Tr0ub")

	v, err := vault.Open(filepath.Join(home, "vaults", "default.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	sec, err := v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	if string(sec.Value) != value {
		t.Fatalf("stored value %q, want %q", sec.Value, value)
	}
	if sec.Type != vault.TypePassword {
		t.Errorf("stored type %q, want %q", sec.Type, vault.TypePassword)
	}
	// The UI calibrates from DefaultKDF: never below it.
	if p := v.KDF(); p.MemoryKiB < crypto.DefaultKDF.MemoryKiB || p.Passes < crypto.DefaultKDF.Passes {
		t.Errorf("the new vault's KDF %+v is below the default %+v", p, crypto.DefaultKDF)
	}
}

// Resizing the terminal redraws the browser to the new size: no line wider
// than the terminal, the header on top and the help bar at the bottom.
func TestTUIResize(t *testing.T) {
	env, hush, _ := terminalFixture(t)
	more := map[string]string{}
	for i := range 20 {
		more[fmt.Sprintf("services/payments/production/eu-west-1/STRIPE_SECRET_KEY_%02d", i)] = fmt.Sprintf("s3cr3t-VALUE-%02d", i)
	}
	addSecrets(t, env, more)
	x := startTmux(t, 80, 24, env, hush)
	x.waitFor("21 secrets")

	fits := func(w, h int) func(string) bool {
		return func(s string) bool {
			lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
			if len(lines) != h {
				return false
			}
			for _, l := range lines {
				if ansi.StringWidth(l) > w {
					return false
				}
			}
			last := strings.TrimSpace(lines[h-1])
			return strings.HasPrefix(lines[0], " hush ") && strings.Contains(lines[0], "21 secrets") &&
				strings.HasPrefix(last, "/ filter") && strings.Contains(s, "  NAME")
		}
	}
	for _, size := range []struct{ w, h int }{{80, 24}, {60, 16}, {100, 30}, {40, 10}, {80, 24}} {
		x.resize(size.w, size.h)
		what := fmt.Sprintf("fit %d×%d", size.w, size.h)
		x.waitUntil(what, 30*time.Second, x.joined, fits(size.w, size.h))
		// And it stays so: no late frame drawn for the old size.
		time.Sleep(300 * time.Millisecond)
		if s := x.joined(); !fits(size.w, size.h)(s) {
			t.Fatalf("the screen does not %s:\n%s", what, s)
		}
	}
	// The list scrolls within the body at the small size too.
	x.resize(60, 16)
	x.waitUntil("fit 60×16", 30*time.Second, x.joined, fits(60, 16))
	for range 25 {
		x.key("j")
	}
	s := x.waitUntil("show the last secret", 30*time.Second, x.joined, func(s string) bool {
		return fits(60, 16)(s) && strings.Contains(s, "▸ services/") && strings.Contains(s, "KEY_19") // the middle of the path is cut
	})
	if strings.Contains(s, "s3cr3t") {
		t.Fatalf("a value is on the screen:\n%s", s)
	}
	x.key("q")
	x.waitFor("[exit=0]")
}

// Ctrl+C on the unlock screen quits cleanly.
func TestTUIQuitCtrlC(t *testing.T) {
	env, hush, _ := terminalFixture(t)
	env, hush = withoutPassphrase(env, hush)
	x := startTmux(t, 80, 24, env, hush)
	x.waitFor("The vault is locked.")
	x.typeText("corr")
	x.waitFor("••••")
	x.key("C-c")
	s := x.waitFor("[exit=")
	if !strings.Contains(s, "[exit=0]") {
		t.Fatalf("Ctrl+C did not exit 0:\n%s", s)
	}
	h := x.history()
	for _, bad := range []string{"panic", "goroutine", "terminal UI:", "Error", "The vault is locked", "Passphrase:"} {
		if strings.Contains(h, bad) {
			t.Fatalf("%q on the terminal after Ctrl+C:\n%s", bad, h)
		}
	}
}
