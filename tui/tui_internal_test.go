package tui

// Internal component tests: the reveal and clipboard timeouts are
// unexported messages, sent here directly instead of waiting 15 and 30 s.

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/hush-secrets/hush/vault"
)

const dbName, masked = "app/prod/DATABASE_URL", "••••••••"

var dbValue = FixtureSecrets[0].Value

// startDetail opens the detail of app/prod/DATABASE_URL (masked).
func startDetail(t *testing.T, clip Clipboard) *UI {
	t.Helper()
	path := NewFixtureVault(t, FixtureSecrets)
	u := StartUI(t, FixtureOptions(t, path, clip))
	u.WaitText("3 secrets", "ci/GITHUB_TOKEN")
	u.Press("j", "enter")
	u.WaitText(dbName, "primary database", masked+"  (r reveal, c copy)")
	return u
}

// neverShown fails if value is in any frame drawn or any byte written so far.
func neverShown(t *testing.T, u *UI, value, when string) {
	t.Helper()
	if bytes.Contains(u.Output(), []byte(value)) {
		t.Fatalf("%s: the value is in the output", when)
	}
	for _, f := range u.Frames() {
		if strings.Contains(f, value) {
			t.Fatalf("%s: a frame shows the value:\n%s", when, f)
		}
	}
}

func wiped(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return len(b) > 0
}

// revealed returns the detail's reveal sequence and the revealed bytes.
func revealed(u *UI) (seq int, value []byte) {
	u.Inspect(func(m *Model) {
		if d := m.browser.detail; d != nil {
			seq, value = d.seq, d.value
		}
	})
	return seq, value
}

func TestRevealThenTimeoutHides(t *testing.T) {
	u := startDetail(t, nil)
	neverShown(t, u, dbValue, "before reveal")

	u.Press("r")
	u.WaitText(dbValue, "value shown; it hides again in 15 s", "r hide")
	if strings.Contains(u.Screen(), masked) {
		t.Errorf("revealed and masked at once:\n%s", u.Screen())
	}
	first, _ := revealed(u)

	// Hide with r and reveal again: the first reveal's timeout is stale and
	// must not cut the second one short.
	u.Press("r")
	u.WaitScreen("the value hidden by r", func(s string) bool { return !strings.Contains(s, dbValue) })
	u.Press("r")
	u.WaitText(dbValue)
	seq, shown := revealed(u)
	if seq == first {
		t.Fatalf("a new reveal kept the sequence %d", seq)
	}
	u.Send(revealTimeoutMsg{seq: first})
	u.Inspect(func(*Model) {}) // the stale timeout is handled
	if !strings.Contains(u.Screen(), dbValue) {
		t.Fatalf("a stale timeout hid the value:\n%s", u.Screen())
	}

	u.Send(revealTimeoutMsg{seq: seq})
	s := u.WaitText(masked + "  (r reveal, c copy)")
	if strings.Contains(s, dbValue) {
		t.Errorf("still shown after the timeout:\n%s", s)
	}
	u.Inspect(func(*Model) {})
	if !wiped(shown) {
		t.Errorf("the hidden value was not wiped: %q", shown)
	}
	u.Press("q")
	u.Finish()
}

func TestRevealTimeoutAfterLeavingIsHarmless(t *testing.T) {
	u := startDetail(t, nil)
	u.Press("r")
	u.WaitText(dbValue)
	seq, shown := revealed(u)

	u.Press("esc") // leaving hides and wipes
	s := u.WaitText("/ to filter", "▸ app/prod/DATABASE_URL")
	if strings.Contains(s, dbValue) {
		t.Fatalf("value on the list:\n%s", s)
	}
	u.Inspect(func(*Model) {})
	if !wiped(shown) {
		t.Errorf("leaving did not wipe the value: %q", shown)
	}
	u.Send(revealTimeoutMsg{seq: seq}) // the tick still fires later
	u.Press("enter")
	s = u.WaitText(dbName, masked)
	if strings.Contains(s, dbValue) {
		t.Errorf("reopened detail shows the value:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

func TestRevealFromTheListAndQuitWipes(t *testing.T) {
	path := NewFixtureVault(t, FixtureSecrets)
	u := StartUI(t, FixtureOptions(t, path, nil))
	u.WaitText("3 secrets")
	u.Press("j", "r") // r on a row opens it revealed
	u.WaitText(dbName, dbValue)
	_, shown := revealed(u)
	u.Press("q")
	u.Finish() // what Run does after the program: hide, close
	if !wiped(shown) {
		t.Errorf("quitting did not wipe the value: %q", shown)
	}
}

func TestRevealHiddenWhenEditing(t *testing.T) {
	u := startDetail(t, nil)
	u.Press("r")
	u.WaitText(dbValue)
	_, shown := revealed(u)
	u.Press("e")
	s := u.WaitText("Edit app/prod/DATABASE_URL")
	if strings.Contains(s, dbValue) {
		t.Errorf("the form shows the value:\n%s", s)
	}
	u.Inspect(func(*Model) {})
	if !wiped(shown) {
		t.Errorf("opening the form did not wipe the value: %q", shown)
	}
	u.Press("esc") // back to the detail, masked
	s = u.WaitText("nothing saved", masked)
	if strings.Contains(s, dbValue) {
		t.Errorf("value shown after the form:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

// fakeClipboard is a clipboard tool that is a file.
func fakeClipboard(t *testing.T) (Clipboard, string) {
	file := filepath.Join(t.TempDir(), "clipboard")
	return NewToolClipboard("fake", []string{"sh", "-c", `cat > "$0"`, file}, []string{"cat", file}), file
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// copyValue presses c in the detail and waits for the tool to finish.
func copyValue(t *testing.T, u *UI) {
	t.Helper()
	mark := u.MsgMark()
	u.Press("c")
	u.WaitOutputText("copied with fake; the clipboard is cleared in 30 s")
	u.WaitText("copied with fake; the clipboard is cleared in 30 s")
	u.WaitMsg("the copy to finish", mark, func(m tea.Msg) bool { _, ok := m.(copiedMsg); return ok })
}

// copyTimeout is the timeout of the last copy, as its tick sends it 30 s
// after the copy.
func copyTimeout(u *UI) clipboardTimeoutMsg {
	var m clipboardTimeoutMsg
	u.Inspect(func(root *Model) {
		m = clipboardTimeoutMsg{seq: root.browser.copySeq, value: bytes.Clone(root.browser.copied)}
	})
	return m
}

func TestCopyWithAToolThenClearIfUnchanged(t *testing.T) {
	clip, file := fakeClipboard(t)
	u := startDetail(t, clip)
	copyValue(t, u)
	if got := readFile(t, file); got != dbValue {
		t.Fatalf("clipboard holds %q, want the value", got)
	}
	neverShown(t, u, dbValue, "after copying")

	// The timeout clears it whatever view is open by then.
	u.Press("esc")
	u.WaitText("/ to filter")
	u.Send(copyTimeout(u))
	u.WaitText("clipboard cleared")
	if got := readFile(t, file); got != "" {
		t.Errorf("clipboard holds %q after the timeout, want it empty", got)
	}
	u.Press("q")
	u.Finish()
}

func TestCopyWithAToolThenClearLeavesTheUsersCopy(t *testing.T) {
	clip, file := fakeClipboard(t)
	u := startDetail(t, clip)
	copyValue(t, u)
	const theirs = "something the user copied since"
	if err := os.WriteFile(file, []byte(theirs), 0o600); err != nil {
		t.Fatal(err)
	}
	mark := u.MsgMark()
	u.Send(copyTimeout(u))
	var cleared clearedMsg
	u.WaitMsg("the clipboard check", mark, func(m tea.Msg) bool {
		c, ok := m.(clearedMsg)
		cleared = c
		return ok
	})
	if cleared.cleared {
		t.Error("reported cleared")
	}
	if got := readFile(t, file); got != theirs {
		t.Errorf("clipboard holds %q, want the user's %q", got, theirs)
	}
	if s := u.Screen(); strings.Contains(s, "clipboard cleared") {
		t.Errorf("status says cleared:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

func TestCopyToolFailureIsReported(t *testing.T) {
	clip := NewToolClipboard("broken", []string{"sh", "-c", "exit 3"}, []string{"true"})
	u := startDetail(t, clip)
	u.Press("c")
	u.WaitText("could not copy: exit status 3")
	u.Press("q")
	u.Finish()
}

func TestCopyWithOSC52(t *testing.T) {
	path := NewFixtureVault(t, FixtureSecrets)
	u := StartUI(t, FixtureOptions(t, path, OSC52{}))
	u.WaitText("3 secrets")
	u.Press("j", "c") // c on a row copies it
	u.WaitText(dbName, "copied with OSC 52; the clipboard is cleared in 30 s")
	want := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(dbValue)) + "\a"
	u.WaitOutput("the OSC 52 sequence", func(out []byte) bool { return bytes.Contains(out, []byte(want)) })
	neverShown(t, u, dbValue, "after an OSC 52 copy")

	u.Send(copyTimeout(u))
	u.WaitText("clipboard cleared")
	u.WaitOutput("the OSC 52 clear", func(out []byte) bool { return bytes.Contains(out, []byte("\x1b]52;c;\a")) })
	u.Press("q")
	u.Finish()
}

// TestStaleRevealTimeoutOfAnotherSecret: the timeout of a value revealed
// in an earlier detail must not hide, early, a value revealed since in
// another one.
func TestStaleRevealTimeoutOfAnotherSecret(t *testing.T) {
	u := startDetail(t, nil)
	u.Press("r")
	u.WaitText(dbValue)
	first, _ := revealed(u)
	u.Press("esc", "k", "enter") // app/dev/API_KEY
	u.WaitText("app/dev/API_KEY", masked)
	u.Press("r")
	apiValue := FixtureSecrets[1].Value
	u.WaitText(apiValue)
	u.Send(revealTimeoutMsg{seq: first}) // the first reveal's tick, 15 s after it
	u.Inspect(func(*Model) {})
	if !strings.Contains(u.Screen(), apiValue) {
		t.Errorf("the first secret's timeout hid the second's value:\n%s", u.Screen())
	}
	seq, _ := revealed(u)
	u.Send(revealTimeoutMsg{seq: seq})
	u.WaitScreen("the value hidden", func(s string) bool { return !strings.Contains(s, apiValue) })
	u.Press("q")
	u.Finish()
}

// Quitting takes a copied value off the clipboard at once, instead of
// leaving it there after hush is gone.
func TestQuitClearsTheClipboard(t *testing.T) {
	for _, quitKey := range []string{"q", "ctrl+c"} {
		t.Run(quitKey, func(t *testing.T) {
			clip, file := fakeClipboard(t)
			u := startDetail(t, clip)
			copyValue(t, u)
			if got := readFile(t, file); got != dbValue {
				t.Fatalf("clipboard holds %q, want the value", got)
			}
			u.Press(quitKey)
			u.Finish()
			if got := readFile(t, file); got != "" {
				t.Errorf("clipboard holds %q after quitting, want it empty", got)
			}
		})
	}
}

// Copy A, copy B, then A's timeout: B stays on the clipboard until its own
// timeout, and quitting still takes B off it (A's timeout used to forget
// that B was there).
func TestAnEarlierCopysTimeoutLeavesTheLaterCopy(t *testing.T) {
	for _, name := range []string{"tool", "OSC 52"} {
		t.Run(name, func(t *testing.T) {
			clip, file := fakeClipboard(t)
			if name == "OSC 52" {
				clip = OSC52{}
			}
			u := startDetail(t, clip)
			mark := u.MsgMark()
			u.Press("c")
			u.WaitMsg("the first copy to finish", mark, func(m tea.Msg) bool { _, ok := m.(copiedMsg); return ok })
			first := copyTimeout(u)
			u.Press("esc", "k", "enter") // app/dev/API_KEY
			u.WaitText("app/dev/API_KEY", masked)
			apiValue := FixtureSecrets[1].Value
			mark = u.MsgMark()
			u.Press("c")
			if name == "tool" {
				u.WaitMsg("the second copy to finish", mark, func(m tea.Msg) bool { _, ok := m.(copiedMsg); return ok })
			}
			u.Send(first)
			u.Inspect(func(*Model) {})
			if name == "tool" {
				if got := readFile(t, file); got != apiValue {
					t.Fatalf("after the first copy's timeout the clipboard holds %q, want the second value", got)
				}
			} else {
				if bytes.Contains(u.Output(), []byte("\x1b]52;c;\a")) {
					t.Fatal("the first copy's timeout emptied the clipboard, which held the second value")
				}
			}
			var held []byte
			u.Inspect(func(m *Model) { held = bytes.Clone(m.browser.copied) })
			if string(held) != apiValue {
				t.Fatalf("hush forgot the second copy: it holds %q", held)
			}
			u.Press("q")
			u.Finish()
			if name == "tool" {
				if got := readFile(t, file); got != "" {
					t.Errorf("clipboard holds %q after quitting, want it empty", got)
				}
			} else if !bytes.Contains(u.Output(), []byte("\x1b]52;c;\a")) {
				t.Error("quitting did not empty the clipboard")
			}
		})
	}
}

// A filter typed while the rest of the index loads narrows the rows
// loaded so far, and the same filter refines over the whole index when it
// arrives; actions that need the vault wait until then.
func TestFilterRefinesWhenTheRestOfTheIndexArrives(t *testing.T) {
	var secrets []FixtureSecret
	for _, n := range []string{"app/one/KEY", "app/two/KEY", "db/one/URL", "db/two/URL"} {
		secrets = append(secrets, FixtureSecret{Name: n, Value: "v-" + n})
	}
	path := NewFixtureVault(t, secrets)
	m := New(FixtureOptions(t, path, nil))
	m.width, m.height = 80, 24
	b := m.browser
	all, err := b.v.Index()
	if err != nil || len(all) != 4 {
		t.Fatalf("Index = %d, %v", len(all), err)
	}
	// The first rows: two of the four.
	b.update(indexHeadMsg{entries: []vault.IndexEntry{all[0], all[3]}, total: 4})
	if b.loadingRest != 4 || len(b.rows) != 2 {
		t.Fatalf("after the first rows: loadingRest %d, %d rows", b.loadingRest, len(b.rows))
	}
	if v := b.view(); !strings.Contains(v, "loading names: 2 of 4") || !strings.Contains(v, "4 secrets") {
		t.Fatalf("the list does not say it is loading:\n%s", v)
	}
	b.filterInput.SetValue("one")
	b.applyFilter()
	if len(b.rows) != 1 || b.entries[b.rows[0]].Name != all[0].Name {
		t.Fatalf("filter over the first rows: %d rows", len(b.rows))
	}
	if b.update(tea.KeyPressMsg{Code: 'n', Text: "n"}); b.mode != modeList || !strings.Contains(b.status, "still reading the index") {
		t.Fatalf("n while loading: mode %v, status %q", b.mode, b.status)
	}
	b.update(indexMsg{entries: all})
	if b.loadingRest != 0 || len(b.rows) != 2 {
		t.Fatalf("after the whole index: loadingRest %d, %d rows match \"one\", want 2", b.loadingRest, len(b.rows))
	}
	if v := b.view(); strings.Contains(v, "loading names") {
		t.Fatalf("still says loading:\n%s", v)
	}
}
