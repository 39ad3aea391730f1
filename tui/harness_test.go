package tui

// The harness the component tests share (the black-box ones in tui_test.go
// reach it the way export_test.go files are reached): a real vault file, the
// real program run by teatest, and a recorder around the root model that
// keeps every frame it drew, so that tests wait for what is on screen rather
// than for fragments of the renderer's diffed output.

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// TestMain pins the local time zone: the detail pane prints dates in local
// time, and golden files must not depend on the machine.
func TestMain(m *testing.M) {
	time.Local = time.UTC
	os.Exit(m.Run())
}

// HarnessWait bounds every wait of the harness.
const HarnessWait = 30 * time.Second

// FixturePass is the passphrase of fixture vaults.
const FixturePass = "correct horse battery staple"

var (
	// FixtureWritten is when fixture secrets were written.
	FixtureWritten = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	// FixtureNow is the UI's clock: three days (and two hours) later.
	FixtureNow = FixtureWritten.Add(3*24*time.Hour + 2*time.Hour)
)

// FixtureSecret is one secret of a fixture vault.
type FixtureSecret struct {
	Name, Value, Note string
	Type              vault.Type
}

// FixtureSecrets are the three secrets most tests use.
var FixtureSecrets = []FixtureSecret{
	{Name: "app/prod/DATABASE_URL", Value: "postgres://app:pr0d-s3cret@db.internal/app", Note: "primary database", Type: vault.TypePassword},
	{Name: "app/dev/API_KEY", Value: "dev-4f9c2e7a1bd0", Type: vault.TypeAPIKey},
	{Name: "ci/GITHUB_TOKEN", Value: "ghp_T0kenValue42xyz", Type: vault.TypeToken},
}

// NewFixtureVault creates a vault file at the floor KDF in a temporary
// directory, writes secrets at FixtureWritten, closes it and returns its path.
func NewFixtureVault(t testing.TB, secrets []FixtureSecret) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "vault.hush")
	v, err := vault.Create(path, []byte(FixturePass), vault.CreateOptions{KDF: crypto.FloorKDF, Now: FixtureWritten})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if len(secrets) == 0 {
		return path
	}
	reqs := make([]vault.SetRequest, len(secrets))
	for i, s := range secrets {
		typ, note := s.Type, s.Note
		if typ == "" {
			typ = vault.TypeOther
		}
		reqs[i] = vault.SetRequest{Name: s.Name, Value: []byte(s.Value), Update: vault.Update{Type: &typ, Note: &note}}
	}
	if _, err := v.SetMany(reqs, FixtureWritten); err != nil {
		t.Fatal(err)
	}
	return path
}

// OpenFixtureVault opens the vault file at path, locked.
func OpenFixtureVault(t testing.TB, path string) *vault.Vault {
	t.Helper()
	v, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// UnlockFixtureVault opens the vault file at path and unlocks it.
func UnlockFixtureVault(t testing.TB, path string) *vault.Vault {
	t.Helper()
	v := OpenFixtureVault(t, path)
	if err := v.Unlock([]byte(FixturePass)); err != nil {
		t.Fatal(err)
	}
	return v
}

// FixtureOptions are the UI options for a vault file: unlocked, the fixed
// clock, and the given clipboard (OSC 52 when nil, so that no test ever
// touches the desktop's clipboard).
func FixtureOptions(t testing.TB, path string, clip Clipboard) Options {
	if clip == nil {
		clip = OSC52{}
	}
	return Options{
		VaultName: "test",
		VaultPath: path,
		Vault:     UnlockFixtureVault(t, path),
		Clipboard: clip,
		Now:       func() time.Time { return FixtureNow },
	}
}

// PlainProgram are the program options for plain, stable output.
func PlainProgram() []tea.ProgramOption {
	return []tea.ProgramOption{
		tea.WithEnvironment([]string{"TERM=xterm-256color"}),
		tea.WithColorProfile(colorprofile.ASCII),
	}
}

// recorder wraps the root model for the program: it keeps every frame the
// model drew and runs probes in the program's own goroutine.
type recorder struct {
	m *Model

	mu     sync.Mutex
	frames []string
	msgs   []tea.Msg
}

// probeMsg runs fn on the model inside the event loop, where reading the
// model's state is not a data race.
type probeMsg struct {
	fn   func(*Model)
	done chan struct{}
}

func (r *recorder) Init() tea.Cmd { return r.m.Init() }

func (r *recorder) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if p, ok := msg.(probeMsg); ok {
		p.fn(r.m)
		close(p.done)
		return r, nil
	}
	r.mu.Lock()
	r.msgs = append(r.msgs, msg)
	r.mu.Unlock()
	_, cmd := r.m.Update(msg)
	return r, cmd
}

func (r *recorder) View() tea.View {
	v := r.m.View()
	r.mu.Lock()
	r.frames = append(r.frames, v.Content)
	r.mu.Unlock()
	return v
}

// UI is a running program on a root model.
type UI struct {
	t     testing.TB
	TM    *teatest.TestModel
	rec   *recorder
	out   bytes.Buffer // every byte of output read so far
	final *Model
	Width int
}

// StartUI runs New(o) at 80×24 under teatest, with PlainProgram's options
// unless others are given. The program is ended at cleanup if the test did
// not end it.
func StartUI(t testing.TB, o Options, programOpts ...tea.ProgramOption) *UI {
	return StartUISized(t, o, 80, 24, programOpts...)
}

// StartUISized is StartUI at another size.
func StartUISized(t testing.TB, o Options, w, h int, programOpts ...tea.ProgramOption) *UI {
	t.Helper()
	if len(programOpts) == 0 {
		programOpts = PlainProgram()
	}
	u := &UI{t: t, rec: &recorder{m: New(o)}, Width: w}
	u.TM = teatest.NewTestModel(t, u.rec,
		teatest.WithInitialTermSize(w, h),
		teatest.WithProgramOptions(programOpts...))
	t.Cleanup(func() { u.Quit() })
	return u
}

// Send sends messages to the program.
func (u *UI) Send(msgs ...tea.Msg) {
	for _, m := range msgs {
		u.TM.Send(m)
	}
}

// Type types text, one key press per character.
func (u *UI) Type(s string) { u.TM.Type(s) }

// Press sends named keys: "enter", "esc", "tab", "up", "down", "ctrl+s",
// or a single character.
func (u *UI) Press(keys ...string) {
	for _, k := range keys {
		u.TM.Send(Key(u.t, k))
	}
}

// Key makes the key press a key name stands for.
func Key(t testing.TB, k string) tea.KeyPressMsg {
	t.Helper()
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab,
		"up": tea.KeyUp, "down": tea.KeyDown, "backspace": tea.KeyBackspace,
		"home": tea.KeyHome, "end": tea.KeyEnd, "left": tea.KeyLeft, "right": tea.KeyRight,
	}
	if c, ok := named[k]; ok {
		return tea.KeyPressMsg{Code: c}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok && len(c) == 1 {
		return tea.KeyPressMsg{Code: rune(c[0]), Mod: tea.ModCtrl}
	}
	if r := []rune(k); len(r) == 1 {
		return tea.KeyPressMsg{Code: r[0], Text: k}
	}
	t.Fatalf("unknown key %q", k)
	return tea.KeyPressMsg{}
}

// Screen is the last frame drawn, without escape sequences.
func (u *UI) Screen() string {
	u.rec.mu.Lock()
	defer u.rec.mu.Unlock()
	if len(u.rec.frames) == 0 {
		return ""
	}
	return ansi.Strip(u.rec.frames[len(u.rec.frames)-1])
}

// Frames are all frames drawn so far, with their escape sequences.
func (u *UI) Frames() []string {
	u.rec.mu.Lock()
	defer u.rec.mu.Unlock()
	return append([]string(nil), u.rec.frames...)
}

// WaitScreen waits until the last frame (without escape sequences)
// satisfies cond, and returns it.
func (u *UI) WaitScreen(what string, cond func(screen string) bool) string {
	u.t.Helper()
	deadline := time.Now().Add(HarnessWait)
	for {
		s := u.Screen()
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			u.t.Fatalf("waited %s for %s; the screen is:\n%s", HarnessWait, what, s)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// WaitText waits until the last frame shows every one of texts.
func (u *UI) WaitText(texts ...string) string {
	u.t.Helper()
	return u.WaitScreen(strings.Join(texts, " and "), func(s string) bool {
		for _, x := range texts {
			if !strings.Contains(s, x) {
				return false
			}
		}
		return true
	})
}

// MsgMark counts the messages the model received so far, for WaitMsg.
func (u *UI) MsgMark() int {
	u.rec.mu.Lock()
	defer u.rec.mu.Unlock()
	return len(u.rec.msgs)
}

// WaitMsg waits until the model has received, after mark, a message
// satisfying cond.
func (u *UI) WaitMsg(what string, mark int, cond func(tea.Msg) bool) {
	u.t.Helper()
	deadline := time.Now().Add(HarnessWait)
	for {
		u.rec.mu.Lock()
		msgs := u.rec.msgs[mark:]
		for _, m := range msgs {
			if cond(m) {
				u.rec.mu.Unlock()
				return
			}
		}
		u.rec.mu.Unlock()
		if time.Now().After(deadline) {
			u.t.Fatalf("waited %s for %s", HarnessWait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Inspect runs fn on the model inside the program's event loop (after
// every message sent before it) and waits for it.
func (u *UI) Inspect(fn func(m *Model)) {
	u.t.Helper()
	p := probeMsg{fn: fn, done: make(chan struct{})}
	u.TM.Send(p)
	select {
	case <-p.done:
	case <-time.After(HarnessWait):
		u.t.Fatalf("the program did not run a probe within %s", HarnessWait)
	}
}

// WaitOutput waits with teatest.WaitFor until the program's raw output, all
// of it since the start, satisfies cond.
func (u *UI) WaitOutput(what string, cond func(all []byte) bool) {
	u.t.Helper()
	if cond(u.out.Bytes()) {
		return
	}
	teatest.WaitFor(u.t, io.TeeReader(u.TM.Output(), &u.out), func([]byte) bool {
		return cond(u.out.Bytes())
	}, teatest.WithDuration(HarnessWait), teatest.WithCheckInterval(10*time.Millisecond))
}

// WaitOutputText waits with teatest.WaitFor until the program's output,
// without escape sequences, shows text. The renderer only redraws cells that
// changed, and may skip unchanged blanks with a cursor move, so spaces are
// ignored on both sides; use it for text drawn where nothing similar was.
func (u *UI) WaitOutputText(text string) {
	u.t.Helper()
	want := []byte(strings.ReplaceAll(text, " ", ""))
	u.WaitOutput(strconv.Quote(text), func(out []byte) bool {
		return bytes.Contains(bytes.ReplaceAll([]byte(ansi.Strip(string(out))), []byte(" "), nil), want)
	})
}

// Output is the program's raw output since the start.
func (u *UI) Output() []byte {
	io.Copy(&u.out, u.TM.Output())
	return u.out.Bytes()
}

// Finish waits for the program to end by itself (after q or ctrl+c), then
// does what Run does after it: hides any value and closes the vault.
func (u *UI) Finish() *Model {
	u.t.Helper()
	if u.final == nil {
		u.TM.WaitFinished(u.t, teatest.WithFinalTimeout(HarnessWait))
		fm := u.TM.FinalModel(u.t)
		r, ok := fm.(*recorder)
		if !ok {
			u.t.Fatalf("final model is %T", fm)
		}
		u.final = r.m
		u.final.close()
		u.Output()
	}
	return u.final
}

// Quit asks the program to end and finishes it.
func (u *UI) Quit() *Model {
	u.t.Helper()
	if u.final == nil {
		u.TM.Quit()
	}
	return u.Finish()
}
