package tui_test

// Component tests: the real program (teatest) on a real vault file. The
// harness (harness_test.go) records every frame the root model draws, so
// waits look at the screen as it is, not at the renderer's diffs.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/tui"
	"github.com/hush-secrets/hush/vault"
)

func fixedNow() time.Time { return tui.FixtureNow }

// start runs the UI on a fixture vault holding the three fixture secrets.
func start(t *testing.T) (*tui.UI, string) {
	t.Helper()
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("3 secrets", "ci/GITHUB_TOKEN")
	return u, path
}

func mustGet(t *testing.T, v *vault.Vault, name string) *vault.Secret {
	t.Helper()
	s, err := v.Get(name)
	if err != nil {
		t.Fatalf("Get(%s): %v", name, err)
	}
	return s
}

func count(t *testing.T, v *vault.Vault) int {
	t.Helper()
	n, err := v.Count()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func noFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (or cannot be checked: %v); nothing should have been created", path, err)
	}
}

// --- 1. First run ----------------------------------------------------------

func firstRun(t *testing.T) (*tui.UI, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "new.hush")
	u := tui.StartUI(t, tui.Options{
		VaultName: "test",
		VaultPath: path,
		CreateKDF: crypto.FloorKDF,
		Clipboard: tui.OSC52{},
		Now:       fixedNow,
	})
	u.WaitText("first run", "No vault yet", "New passphrase:", "Repeat it:")
	return u, path
}

func TestFirstRunCreatesTheVault(t *testing.T) {
	u, path := firstRun(t)
	u.Type(tui.FixturePass)
	// Four common words: a real estimator does not call them strong.
	u.WaitText("Strength: fair")
	u.Press("enter")
	u.Type(tui.FixturePass)
	u.Press("enter")
	u.WaitOutputText("The vault is empty. Press n to add a secret.")
	// The first run ends on the quick start.
	u.WaitText("0 secrets", "unlocked (new vault)", "The vault is empty. Press n to add a secret.",
		"Quick start", "hush run --from app/dev -- npm start")
	u.Press("q")
	u.Finish()

	if bytes.Contains(u.Output(), []byte(tui.FixturePass)) {
		t.Error("the passphrase was echoed")
	}
	for _, f := range u.Frames() {
		if strings.Contains(f, tui.FixturePass) {
			t.Fatalf("a frame shows the passphrase:\n%s", f)
		}
	}
	v := tui.UnlockFixtureVault(t, path) // the file exists and the passphrase opens it
	if n := count(t, v); n != 0 {
		t.Errorf("new vault holds %d secrets", n)
	}
}

func TestFirstRunRefusesAShortPassphrase(t *testing.T) {
	u, path := firstRun(t)
	u.Type("short")
	u.WaitText("Strength: too short")
	u.Press("enter")
	u.WaitText("Use at least 8 characters")
	// Both fields short and equal: still refused, back to the first field.
	u.Press("tab")
	u.Type("short")
	u.Press("enter")
	s := u.WaitText("Use at least 8 characters", "No vault yet")
	if strings.Contains(s, "Creating the vault") {
		t.Errorf("creating with a short passphrase:\n%s", s)
	}
	u.Press("esc")
	u.Finish()
	noFile(t, path)
}

func TestFirstRunMismatchedPassphrases(t *testing.T) {
	u, path := firstRun(t)
	u.Type(tui.FixturePass)
	u.Press("enter")
	u.Type(tui.FixturePass + "!")
	u.Press("enter")
	u.WaitOutputText("The two passphrases differ")
	u.WaitText("The two passphrases differ")
	noFile(t, path)

	// The second field was emptied: typing it right now creates the vault.
	u.Type(tui.FixturePass)
	u.Press("enter")
	u.WaitText("0 secrets", "The vault is empty")
	u.Press("q")
	u.Finish()
	tui.UnlockFixtureVault(t, path)
}

// --- 2. Unlock ---------------------------------------------------------------

func startLocked(t *testing.T) *tui.UI {
	t.Helper()
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	o := tui.FixtureOptions(t, path, nil)
	o.Vault = tui.OpenFixtureVault(t, path)
	if !o.Vault.Locked() {
		t.Fatal("vault.Open returned an unlocked vault")
	}
	u := tui.StartUI(t, o)
	u.WaitText("The vault is locked.", "Passphrase:")
	return u
}

func TestUnlockWrongThenRight(t *testing.T) {
	u := startLocked(t)
	u.Type("not the passphrase")
	u.Press("enter")
	u.WaitOutputText("Wrong passphrase, try again.")
	s := u.WaitText("Wrong passphrase, try again.")
	if !strings.Contains(s, "The vault is locked.") || strings.Contains(s, "secrets") {
		t.Fatalf("after a wrong passphrase the unlock screen should stay:\n%s", s)
	}
	if strings.Contains(s, "Passphrase: •") {
		t.Errorf("the field was not emptied after a wrong passphrase:\n%s", s)
	}

	u.Type(tui.FixturePass)
	u.Press("enter")
	s = u.WaitText("3 secrets", "unlocked (passphrase)", "app/prod/DATABASE_URL", "app/dev/API_KEY", "ci/GITHUB_TOKEN")
	if strings.Contains(s, "Wrong passphrase") {
		t.Errorf("the error outlived the unlock:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

func TestUnlockCtrlCQuits(t *testing.T) {
	u := startLocked(t)
	u.Type("half typed")
	u.Press("ctrl+c")
	m := u.Finish() // fails if the program does not end, or ends with an error (a panic)
	if !strings.Contains(ansi.Strip(m.View().Content), "The vault is locked.") {
		t.Errorf("ctrl+c left the unlock screen for:\n%s", ansi.Strip(m.View().Content))
	}
}

func TestUnlockEmptyPassphrase(t *testing.T) {
	u := startLocked(t)
	u.Press("enter")
	u.WaitText("Type the vault's passphrase, or Esc to quit.")
	u.Press("esc")
	u.Finish()
}

// --- 3. Filter ---------------------------------------------------------------

func TestFilterNarrowsFuzzilyAndEscClears(t *testing.T) {
	u, _ := start(t)
	u.Press("/")
	u.WaitText("3 of 3", "esc clear filter")

	u.Type("pdb") // p…d…b across the path: app/prod/DATABASE_URL only
	s := u.WaitText("1 of 3")
	if !strings.Contains(s, "/ pdb") || !strings.Contains(s, "▸ app/prod/DATABASE_URL") {
		t.Fatalf("filter pdb:\n%s", s)
	}
	for _, gone := range []string{"API_KEY", "GITHUB_TOKEN"} {
		if strings.Contains(s, gone) {
			t.Errorf("filter pdb still shows %s:\n%s", gone, s)
		}
	}

	u.Press("esc")
	s = u.WaitText("/ to filter")
	for _, n := range []string{"app/dev/API_KEY", "app/prod/DATABASE_URL", "ci/GITHUB_TOKEN"} {
		if !strings.Contains(s, n) {
			t.Errorf("after esc %s is missing:\n%s", n, s)
		}
	}
	if strings.Contains(s, "of 3") {
		t.Errorf("after esc the counter stays:\n%s", s)
	}

	// Nothing matches; then a match on the name's end, opened with enter.
	u.Press("/")
	u.Type("zzz")
	u.WaitText("0 of 3", "Nothing matches. Esc clears the filter.")
	u.Press("backspace", "backspace", "backspace")
	u.Type("token")
	s = u.WaitText("1 of 3", "ci/GITHUB_TOKEN")
	if strings.Contains(s, "DATABASE_URL") {
		t.Errorf("filter token:\n%s", s)
	}
	u.Press("enter")
	u.WaitText("Version", "1 (1 in history)", "token")
	u.Press("q")
	u.Finish()
}

func TestFilterKeptAfterLeavingTheField(t *testing.T) {
	u, _ := start(t)
	u.Press("/")
	u.Type("app")
	u.WaitText("2 of 3")
	u.Press("down") // to the list: the filter stays
	u.Press("j")    // and j moves, it is not typed
	s := u.WaitText("▸ app/prod/DATABASE_URL")
	if !strings.Contains(s, "2 of 3") || strings.Contains(s, "GITHUB") {
		t.Fatalf("filter lost when leaving the field:\n%s", s)
	}
	u.Press("esc") // esc in the list clears it
	u.WaitText("/ to filter", "ci/GITHUB_TOKEN")
	u.Press("q")
	u.Finish()
}

// --- 6. New, edit, delete, rollback change the vault ---------------------------

func TestNewSecretIsSaved(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret", "hidden as you type")
	u.Type("app/prod/SMTP_PASSWORD")
	u.Press("tab", "tab") // type, then value
	const value = "smtp-s3cret-value"
	u.Type(value)
	u.Press("tab")
	u.Type("mail relay")
	u.Press("ctrl+s")
	s := u.WaitText("created app/prod/SMTP_PASSWORD", "4 secrets")
	if !strings.Contains(s, "▸ app/prod/SMTP_PASSWORD") {
		t.Errorf("the cursor is not on the new secret:\n%s", s)
	}
	u.Press("q")
	u.Finish()
	if bytes.Contains(u.Output(), []byte(value)) {
		t.Error("the typed value was echoed")
	}

	v := tui.UnlockFixtureVault(t, path)
	got := mustGet(t, v, "app/prod/SMTP_PASSWORD")
	if string(got.Value) != value || got.Note != "mail relay" || got.Type != vault.TypePassword || got.Version != 1 {
		t.Errorf("saved %q note %q type %s version %d", got.Value, got.Note, got.Type, got.Version)
	}
}

func TestNewSecretInvalidNameSavesNothing(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Type("/leading/slash")
	u.Press("tab", "tab")
	u.Type("some value")
	u.Press("ctrl+s")
	u.WaitOutputText("Fix the fields marked above.")
	s := u.WaitText(`starts with "/"`, "Fix the fields marked above.")
	// In place: the error is on the line under the name field.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.Contains(l, `starts with "/"`) && (i == 0 || !strings.Contains(lines[i-1], "Name")) {
			t.Errorf("the name's error is not under the name field:\n%s", s)
		}
	}
	// The cursor is on the field in error; editing it clears its error.
	u.Press("ctrl+u")
	u.Type("app/dev/OK")
	u.WaitScreen("the name's error gone", func(s string) bool { return !strings.Contains(s, `starts with "/"`) })
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved", "3 secrets")
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	if n := count(t, v); n != 3 {
		t.Errorf("vault holds %d secrets, want 3", n)
	}
}

func TestNewSecretExistingNameSavesNothing(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Type("ci/GITHUB_TOKEN")
	u.Press("tab", "tab")
	u.Type("overwritten")
	u.Press("ctrl+s")
	u.WaitText("a secret with this name exists", "Fix the fields marked above.")
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved")
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	if got := mustGet(t, v, "ci/GITHUB_TOKEN"); string(got.Value) != "ghp_T0kenValue42xyz" || got.Version != 1 {
		t.Errorf("existing secret changed: %q version %d", got.Value, got.Version)
	}
}

func TestNewSecretEmptyValueSavesNothing(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Type("app/dev/EMPTY")
	u.Press("ctrl+s")
	u.WaitText("type or paste a value, ctrl+g to generate one")
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved")
	u.Press("q")
	u.Finish()
	v := tui.UnlockFixtureVault(t, path)
	if _, err := v.Get("app/dev/EMPTY"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
}

func TestNewSecretGenerated(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Type("app/prod/JWT_SECRET")
	u.Press("ctrl+g")
	u.WaitText("generated a 24-character password")
	u.Press("ctrl+s")
	u.WaitText("created app/prod/JWT_SECRET", "4 secrets")
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	got := mustGet(t, v, "app/prod/JWT_SECRET")
	if n := len([]rune(string(got.Value))); n != 24 {
		t.Errorf("generated value has %d characters, want 24", n)
	}
	if bytes.Contains(u.Output(), got.Value) {
		t.Error("the generated value was shown")
	}
}

func TestEditKeepsTheValueAndChangesTheNote(t *testing.T) {
	u, path := start(t)
	u.Press("j") // app/prod/DATABASE_URL, the second row
	u.WaitText("▸ app/prod/DATABASE_URL")
	u.Press("e")
	u.WaitText("Edit app/prod/DATABASE_URL", "primary database", "(unchanged; type to replace")
	u.Press("tab", "tab", "tab") // type, value (left empty), note
	u.Press("ctrl+u")            // the note's text before the cursor (all of it)
	u.WaitScreen("the note emptied", func(s string) bool { return !strings.Contains(s, "primary database") })
	u.Type("read replica")
	u.Press("ctrl+s")
	u.WaitText("saved app/prod/DATABASE_URL (version 2)")
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	got := mustGet(t, v, "app/prod/DATABASE_URL")
	if string(got.Value) != tui.FixtureSecrets[0].Value {
		t.Errorf("value changed to %q", got.Value)
	}
	if got.Note != "read replica" || got.Version != 2 || got.Type != vault.TypePassword {
		t.Errorf("note %q version %d type %s", got.Note, got.Version, got.Type)
	}
}

func TestEditRenames(t *testing.T) {
	u, path := start(t)
	u.Press("G") // ci/GITHUB_TOKEN
	u.WaitText("▸ ci/GITHUB_TOKEN")
	u.Press("e")
	u.WaitText("Edit ci/GITHUB_TOKEN")
	u.Press("ctrl+u")
	u.Type("ci/GITLAB_TOKEN")
	u.Press("ctrl+s")
	// Back to the secret's detail, saying what happened.
	u.WaitText("renamed ci/GITHUB_TOKEN to ci/GITLAB_TOKEN", "Version       2 (2 in history)")
	u.Press("esc")
	s := u.WaitText("▸ ci/GITLAB_TOKEN", "3 secrets")
	if strings.Contains(s, "GITHUB") {
		t.Errorf("old name still listed:\n%s", s)
	}
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	if got := mustGet(t, v, "ci/GITLAB_TOKEN"); string(got.Value) != "ghp_T0kenValue42xyz" {
		t.Errorf("renamed secret holds %q", got.Value)
	}
	if _, err := v.Get("ci/GITHUB_TOKEN"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("old name: %v, want ErrNotFound", err)
	}
	// The audit log says it was a rename, with both names.
	log, err := v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action+" "+strings.Join(e.Names, " "))
	}
	if !slices.Contains(actions, "mv ci/GITHUB_TOKEN ci/GITLAB_TOKEN") {
		t.Errorf("audit log %q has no rename", actions)
	}
}

func TestDeleteYesRemoves(t *testing.T) {
	u, path := start(t)
	u.Press("G")
	u.WaitText("▸ ci/GITHUB_TOKEN")
	u.Press("d")
	u.WaitText("Remove ci/GITHUB_TOKEN? Its history is kept", "y yes")
	u.Press("y")
	s := u.WaitText("removed ci/GITHUB_TOKEN", "2 secrets")
	if strings.Contains(s, "GITHUB") && !strings.Contains(s, "removed ci/GITHUB_TOKEN") {
		t.Errorf("still listed:\n%s", s)
	}
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	if _, err := v.Get("ci/GITHUB_TOKEN"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
	if n := count(t, v); n != 2 {
		t.Errorf("%d secrets left, want 2", n)
	}
}

func TestDeleteNoKeeps(t *testing.T) {
	u, path := start(t)
	u.Press("G")
	u.WaitText("▸ ci/GITHUB_TOKEN")
	u.Press("d")
	u.WaitText("Remove ci/GITHUB_TOKEN?")
	u.Press("n")
	s := u.WaitText("cancelled")
	if !strings.Contains(s, "3 secrets") || !strings.Contains(s, "ci/GITHUB_TOKEN") {
		t.Errorf("after n:\n%s", s)
	}
	// The n answered the question: it did not open a new-secret form.
	if strings.Contains(s, "New secret") {
		t.Errorf("n leaked to the list:\n%s", s)
	}
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	mustGet(t, v, "ci/GITHUB_TOKEN")
}

func TestDeleteFromDetail(t *testing.T) {
	u, path := start(t)
	u.Press("enter") // app/dev/API_KEY
	u.WaitText("app/dev/API_KEY", "1 (1 in history)")
	u.Press("d")
	u.WaitText("Remove app/dev/API_KEY?")
	u.Press("y")
	s := u.WaitText("removed app/dev/API_KEY", "2 secrets", "/ to filter")
	if strings.Contains(s, "in history") {
		t.Errorf("the detail of a removed secret is still open:\n%s", s)
	}
	u.Press("q")
	u.Finish()
	v := tui.UnlockFixtureVault(t, path)
	if _, err := v.Get("app/dev/API_KEY"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("Get after delete: %v, want ErrNotFound", err)
	}
}

func TestHistoryRollback(t *testing.T) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	{ // a second version, a day later
		v := tui.UnlockFixtureVault(t, path)
		note, every, tags := "rotated", 30*24*time.Hour, []string{"billing"}
		if _, err := v.SetMany([]vault.SetRequest{{Name: "app/dev/API_KEY", Value: []byte("dev-rotated-2"), Update: vault.Update{Note: &note, RotateEvery: &every, Tags: &tags}}}, tui.FixtureWritten.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		v.Close()
	}
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("3 secrets", "▸ app/dev/API_KEY")
	u.Press("enter")
	u.WaitText("2 (2 in history)", "rotated")
	u.Press("h")
	s := u.WaitText("History of app/dev/API_KEY", "VERSION")
	if !strings.Contains(s, "▸ 2") || !strings.Contains(s, "current") {
		t.Fatalf("history should start on the current version:\n%s", s)
	}
	u.Press("enter")
	u.WaitText("version 2 is the current one")
	u.Press("up")
	s = u.WaitText("▸ 1")
	if strings.Contains(s, "dev-4f9c2e7a1bd0") {
		t.Fatalf("an old value shown unasked:\n%s", s)
	}
	// r reveals the old version, with a diff against the current value.
	u.Press("r")
	s = u.WaitText("Version 1", "Changes from version 1 to the current value:", "- dev-4f9c2e7a1bd0", "+ dev-rotated-2")
	u.Press("r")
	u.WaitScreen("the old value hidden", func(s string) bool { return !strings.Contains(s, "dev-4f9c2e7a1bd0") })
	u.Press("enter")
	u.WaitText("Restore the value of version 1 of app/dev/API_KEY (metadata stays)? y/n")
	u.Press("y")
	s = u.WaitText("restored the value of version 1 as version 3")
	if !strings.Contains(s, "▸ 3") {
		t.Errorf("history not refreshed after the rollback:\n%s", s)
	}
	u.Press("esc") // back to the detail, reloaded
	u.WaitText("3 (3 in history)", "Type", "api-key")
	u.Press("q")
	u.Finish()

	v := tui.UnlockFixtureVault(t, path)
	got := mustGet(t, v, "app/dev/API_KEY")
	v1, err := v.GetVersion("app/dev/API_KEY", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 3 || string(got.Value) != string(v1.Value) || string(got.Value) != "dev-4f9c2e7a1bd0" {
		t.Errorf("current: version %d value %q; version 1: %q", got.Version, got.Value, v1.Value)
	}
	// The value is restored; the metadata set since stays.
	if got.Note != "rotated" || got.RotateEvery != 30*24*time.Hour || len(got.Tags) != 1 {
		t.Errorf("metadata rolled back too: note %q rotate %v tags %v", got.Note, got.RotateEvery, got.Tags)
	}
}

// --- 7. Resize ---------------------------------------------------------------

func manySecrets(n int) []tui.FixtureSecret {
	s := make([]tui.FixtureSecret, n)
	for i := range s {
		s[i] = tui.FixtureSecret{Name: fmt.Sprintf("team/service-%02d/A_RATHER_LONG_VARIABLE_NAME_%02d", i, i), Value: fmt.Sprintf("value-%02d", i), Type: vault.TypeAPIKey}
	}
	return s
}

// checkFrame checks a frame fits w×h exactly where it must: no line wider
// than w, no more than h lines, the header first and the help bar last.
func checkFrame(t *testing.T, frame string, w, h int, what, help string) {
	t.Helper()
	plain := ansi.Strip(frame)
	lines := strings.Split(plain, "\n")
	if len(lines) > h {
		t.Errorf("%s at %d×%d: %d lines:\n%s", what, w, h, len(lines), plain)
	}
	for i, l := range strings.Split(frame, "\n") {
		if lipgloss.Width(l) > w || ansi.StringWidth(ansi.Strip(l)) > w {
			t.Errorf("%s at %d×%d: line %d is %d wide: %q", what, w, h, i+1, ansi.StringWidth(l), ansi.Strip(l))
		}
	}
	if !strings.HasPrefix(lines[0], " hush  vault test") {
		t.Errorf("%s at %d×%d: no header:\n%s", what, w, h, plain)
	}
	if len(lines) != h {
		t.Errorf("%s at %d×%d: %d lines, want %d:\n%s", what, w, h, len(lines), h, plain)
	}
	if !strings.HasPrefix(lines[len(lines)-1], help) {
		t.Errorf("%s at %d×%d: the help bar (%q) is not the last line:\n%s", what, w, h, help, plain)
	}
}

func TestResize(t *testing.T) {
	path := tui.NewFixtureVault(t, manySecrets(30))
	u := tui.StartUISized(t, tui.FixtureOptions(t, path, nil), 120, 40)
	u.WaitText("30 secrets", "▸ team/service-00/")

	sizes := []struct{ w, h int }{{60, 16}, {120, 40}, {60, 16}}
	for _, sz := range sizes {
		u.Send(tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
		s := u.WaitScreen(fmt.Sprintf("a %d-wide header", sz.w), func(s string) bool {
			return ansi.StringWidth(strings.SplitN(s, "\n", 2)[0]) == sz.w
		})
		checkFrame(t, u.Frames()[len(u.Frames())-1], sz.w, sz.h, "list", "/ filter")
		if !strings.Contains(s, "▸ ") {
			t.Errorf("the selected row is not visible at %d×%d:\n%s", sz.w, sz.h, s)
		}
	}

	// Every screen at the small size.
	u.Press("enter")
	checkFrame(t, latest(u, "in history"), 60, 16, "detail", "r reveal")
	u.Press("h")
	checkFrame(t, latest(u, "History of"), 60, 16, "history", "↑/k up")
	u.Press("esc", "esc", "n")
	checkFrame(t, latest(u, "New secret"), 60, 16, "form", "tab next field")
	u.Press("esc") // nothing typed: no question
	u.WaitText("nothing saved")
	u.Press("?")
	checkFrame(t, latest(u, "page down"), 60, 16, "full help", "end/G")
	u.Press("?")
	u.Press("q")
	u.Finish()
}

// latest waits for text on screen and returns the frame, styled.
func latest(u *tui.UI, text string) string {
	u.WaitText(text)
	f := u.Frames()
	return f[len(f)-1]
}

// TestResizeKeepsTheSelectionVisible: shrinking the window must scroll the
// list so the row under the cursor stays on screen.
func TestResizeKeepsTheSelectionVisible(t *testing.T) {
	path := tui.NewFixtureVault(t, manySecrets(30))
	u := tui.StartUISized(t, tui.FixtureOptions(t, path, nil), 120, 40)
	u.WaitText("30 secrets")
	u.Press("G")
	u.WaitText("▸ team/service-29/")
	u.Send(tea.WindowSizeMsg{Width: 60, Height: 16})
	s := u.WaitScreen("a 60-wide header", func(s string) bool {
		return ansi.StringWidth(strings.SplitN(s, "\n", 2)[0]) == 60
	})
	if !strings.Contains(s, "▸ ") || !strings.Contains(s, "_29") {
		t.Errorf("after shrinking, the selected row (the last) is off screen:\n%s", s)
	}
	// Growing back shows every row again, not the last few and blank space.
	u.Send(tea.WindowSizeMsg{Width: 120, Height: 40})
	s = u.WaitScreen("a 120-wide header", func(s string) bool {
		return ansi.StringWidth(strings.SplitN(s, "\n", 2)[0]) == 120
	})
	if !strings.Contains(s, "team/service-00/") || !strings.Contains(s, "▸ team/service-29/") {
		t.Errorf("after growing, rows are hidden above the list:\n%s", s)
	}
	u.Press("q")
	u.Finish()
}

// --- 8. Golden screens ---------------------------------------------------------

// golden compares the final model's screen, without escape sequences, to
// testdata/<test>.golden (go test ./tui/ -run TestGolden -update rewrites it).
func golden(t *testing.T, m *tui.Model) {
	t.Helper()
	teatest.RequireEqualOutput(t, []byte(ansi.Strip(m.View().Content)))
}

func TestGolden(t *testing.T) {
	t.Run("unlock", func(t *testing.T) {
		u := startLocked(t)
		u.Press("esc")
		golden(t, u.Finish())
	})
	t.Run("browser", func(t *testing.T) {
		u, _ := start(t)
		u.Press("q")
		golden(t, u.Finish())
	})
	t.Run("detail", func(t *testing.T) {
		u, _ := start(t)
		u.Press("j", "enter")
		u.WaitText("primary database")
		u.Press("q")
		golden(t, u.Finish())
	})
	t.Run("first_run", func(t *testing.T) {
		// A fixed path (the temporary directory's name changes from run to
		// run); esc quits before anything is created.
		u := tui.StartUI(t, tui.Options{
			VaultName: "test",
			VaultPath: "/home/user/.local/share/hush/test.hush",
			CreateKDF: crypto.FloorKDF,
			Clipboard: tui.OSC52{},
			Now:       fixedNow,
		})
		u.WaitText("No vault yet")
		u.Press("esc")
		golden(t, u.Finish())
	})
}

// --- 9. NO_COLOR -----------------------------------------------------------------

var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// colourSGR reports the first SGR sequence in out that sets a colour.
func colourSGR(out []byte) string {
	for _, m := range sgr.FindAllSubmatch(out, -1) {
		for _, p := range strings.FieldsFunc(string(m[1]), func(r rune) bool { return r == ';' || r == ':' }) {
			n, _ := strconv.Atoi(p)
			if n >= 30 && n <= 38 || n >= 40 && n <= 48 || n >= 90 && n <= 97 || n >= 100 && n <= 107 || n == 58 {
				return strconv.Quote(string(m[0]))
			}
		}
	}
	return ""
}

func TestNoColor(t *testing.T) {
	run := func(t *testing.T, env []string) []byte {
		path := tui.NewFixtureVault(t, tui.FixtureSecrets)
		// The output is a buffer, not a terminal: TTY_FORCE makes Bubble Tea
		// detect the colour profile as it would on a terminal.
		u := tui.StartUI(t, tui.FixtureOptions(t, path, nil), tea.WithEnvironment(env))
		u.WaitText("3 secrets", "ci/GITHUB_TOKEN")
		u.Press("j", "enter")
		u.WaitText("primary database")
		u.Press("esc")
		u.WaitText("▸ app/prod/DATABASE_URL")
		u.Press("q")
		u.Finish()
		return u.Output()
	}
	t.Run("colour", func(t *testing.T) { // the check below can see colours
		out := run(t, []string{"TERM=xterm-256color", "TTY_FORCE=1"})
		if colourSGR(out) == "" {
			t.Fatalf("no colour in the output of a 256-colour terminal: %q", out)
		}
	})
	t.Run("NO_COLOR", func(t *testing.T) {
		out := run(t, []string{"NO_COLOR=1", "TERM=xterm-256color", "TTY_FORCE=1"})
		if c := colourSGR(out); c != "" {
			t.Errorf("NO_COLOR output sets a colour: %s", c)
		}
		if !regexp.MustCompile(`\x1b\[[0-9;]*\b7m[^\x1b]*▸ app/`).Match(out) {
			t.Errorf("the selected row is not in reverse video: %q", out)
		}
	})
}

// TestLongNamesKeepAGapBeforeTheType: a name cut to its column must not run
// into the TYPE column ("…NAME_00api-key" reads as one word).
func TestLongNamesKeepAGapBeforeTheType(t *testing.T) {
	path := tui.NewFixtureVault(t, manySecrets(3))
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	for _, w := range []int{80, 60} {
		u.Send(tea.WindowSizeMsg{Width: w, Height: 24})
		s := u.WaitScreen(fmt.Sprintf("the list at width %d", w), func(s string) bool {
			return strings.Contains(s, "TYPE") && ansi.StringWidth(strings.SplitN(s, "\n", 2)[0]) == w
		})
		var col int
		for _, l := range strings.Split(s, "\n") {
			r := []rune(l)
			if i := strings.Index(l, "TYPE"); i >= 0 && strings.Contains(l, "NAME") {
				col = len([]rune(l[:i]))
				continue
			}
			if col > 0 && strings.Contains(l, "api-key") {
				if len(r) <= col || r[col-1] != ' ' || string(r[col:col+7]) != "api-key" {
					t.Errorf("width %d: no gap between name and type in %q", w, l)
				}
			}
		}
		if col == 0 {
			t.Fatalf("no column titles:\n%s", s)
		}
	}
	u.Press("q")
	u.Finish()
}

// TestFilterTextIsText: q and ? typed in the filter are text, not commands;
// n after a filter that is a valid name starts the form with that name.
func TestFilterTextIsText(t *testing.T) {
	u, path := start(t)
	u.Press("/")
	u.Type("app/dev/q?")
	u.WaitText("/ app/dev/q?", "0 of 3")
	u.Press("backspace", "backspace")
	u.Type("NEW_KEY")
	u.WaitText("/ app/dev/NEW_KEY", "0 of 3")
	u.Press("enter") // nothing to open: leaves the field
	u.WaitScreen("the filter field left", func(s string) bool { return !strings.Contains(s, "esc clear filter") })
	u.Press("n")
	s := u.WaitText("New secret")
	if !strings.Contains(s, "app/dev/NEW_KEY") {
		t.Fatalf("the name is not taken from the filter:\n%s", s)
	}
	u.Press("tab", "tab")
	u.Type("fresh")
	u.Press("ctrl+s")
	u.WaitText("created app/dev/NEW_KEY")
	u.Press("q")
	u.Finish()
	v := tui.UnlockFixtureVault(t, path)
	if got := mustGet(t, v, "app/dev/NEW_KEY"); string(got.Value) != "fresh" {
		t.Errorf("saved %q", got.Value)
	}
}

// Esc on a form with typing in it asks first; "n" keeps the form.
func TestFormEscAsksBeforeDiscarding(t *testing.T) {
	u, path := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Type("app/dev/KEEP")
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("n")
	u.WaitText("New secret", "cancelled")
	u.Press("tab", "tab")
	u.Type("kept-value")
	u.Press("ctrl+s")
	u.WaitText("created app/dev/KEEP")
	u.Press("q")
	u.Finish()
	v := tui.UnlockFixtureVault(t, path)
	if got := mustGet(t, v, "app/dev/KEEP"); string(got.Value) != "kept-value" {
		t.Errorf("saved %q", got.Value)
	}
}

// A dynamic source's type is not offered for change: editing its note
// keeps it a source, whose admin URL is never injected.
func TestEditKeepsADynamicSource(t *testing.T) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	v := tui.UnlockFixtureVault(t, path)
	typ := vault.TypeDynamicPostgres
	if _, err := v.Set("db/prod", []byte("postgres://admin:pw@db/shop"), vault.Update{Type: &typ,
		Dynamic: &vault.DynamicSource{Template: "GRANT r TO {{name}}", TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	v.Close()
	u := tui.StartUI(t, tui.FixtureOptions(t, path, nil))
	u.WaitText("4 secrets")
	u.Press("G")
	u.WaitText("▸ db/prod")
	u.Press("e")
	u.WaitText("Edit db/prod", "dynamic-postgres (made by hush dynamic add)")
	u.Press("tab", "tab", "tab")
	u.Type("admin login")
	u.Press("ctrl+s")
	u.WaitText("saved db/prod (version 2)")
	u.Press("q")
	u.Finish()

	v = tui.UnlockFixtureVault(t, path)
	got := mustGet(t, v, "db/prod")
	if got.Type != vault.TypeDynamicPostgres || got.Dynamic == nil || got.Note != "admin login" {
		t.Errorf("type %s, dynamic %v, note %q", got.Type, got.Dynamic, got.Note)
	}
}
