package tui_test

// Values keep their bytes however they are entered: pasted (several lines,
// tabs, carriage returns), or written in $EDITOR.

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hush-secrets/hush/tui"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/kinds"
)

// describe is what hush passes the UI: kinds reads and checks the value.
func describe(typ vault.Type, value []byte) (string, time.Time, error) {
	info, err := kinds.Inspect(string(typ), value)
	if err != nil {
		return "", time.Time{}, err
	}
	return info.Summary, info.NotAfter, nil
}

// testCertPEM is a self-signed certificate in PEM.
func testCertPEM(t *testing.T) string {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "shop.example.com"},
		NotBefore: tui.FixtureNow.Add(-time.Hour), NotAfter: tui.FixtureNow.Add(365 * 24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func startDescribing(t *testing.T) (*tui.UI, string) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	o := tui.FixtureOptions(t, path, nil)
	o.Describe = describe
	u := tui.StartUI(t, o)
	u.WaitText("3 secrets")
	return u, path
}

// newWithType opens the new-secret form, types name and picks the type
// (right arrow presses from password), leaving the cursor on the value.
func newWithType(u *tui.UI, name string, typ vault.Type) {
	u.Press("n")
	u.WaitText("New secret")
	u.Type(name)
	u.Press("tab")
	for _, x := range vault.Types {
		if x == typ {
			break
		}
		u.Send(tea.KeyPressMsg{Code: tea.KeyRight})
	}
	u.WaitText("‹ " + string(typ) + " ›")
	u.Press("tab")
}

func storedValue(t *testing.T, path, name string) string {
	t.Helper()
	v := tui.UnlockFixtureVault(t, path)
	return string(mustGet(t, v, name).Value)
}

// Terminals send a pasted newline as a carriage return: it is a newline
// again in the value.
func TestPastedCarriageReturnsAreNewlines(t *testing.T) {
	cert := testCertPEM(t)
	u, path := startDescribing(t)
	newWithType(u, "app/prod/TLS_CERT", vault.TypeCertificate)
	u.Send(tea.PasteMsg{Content: strings.ReplaceAll(cert, "\n", "\r")})
	u.WaitText("bytes")
	u.Press("ctrl+s")
	u.WaitText("created app/prod/TLS_CERT")
	u.Press("q")
	u.Finish()
	if got := storedValue(t, path, "app/prod/TLS_CERT"); got != cert {
		t.Errorf("stored %q, want %q", got, cert)
	}
}

func TestPastedValuesKeepTheirBytes(t *testing.T) {
	cert := testCertPEM(t)
	for _, c := range []struct {
		test, name string
		typ        vault.Type
		value      string
	}{
		{"certificate", "app/prod/TLS_CERT", vault.TypeCertificate, cert},
		{"note with tabs and CRLF", "app/prod/RUNBOOK", vault.TypeNote, "step 1:\tlog in\r\nstep 2:\tdon't panic\r\n"},
		{"several lines as a password", "app/prod/MULTI", vault.TypePassword, "first line\nsecond line"},
		{"a password with a tab", "app/prod/TABBED", vault.TypePassword, "pa\tss"},
	} {
		t.Run(c.test, func(t *testing.T) {
			u, path := startDescribing(t)
			newWithType(u, c.name, c.typ)
			u.Send(tea.PasteMsg{Content: c.value})
			u.WaitText("bytes")
			neverShownNow(t, u, c.value)
			u.Press("ctrl+s")
			u.WaitText("created " + c.name)
			u.Press("q")
			u.Finish()
			if got := storedValue(t, path, c.name); got != c.value {
				t.Errorf("stored %q, want the pasted %q", got, c.value)
			}
		})
	}
}

// neverShownNow fails if any line of value is on the screen.
func neverShownNow(t *testing.T, u *tui.UI, value string) {
	t.Helper()
	s := u.Screen()
	for _, l := range strings.Split(value, "\n") {
		if l = strings.TrimSpace(l); len(l) > 4 && strings.Contains(s, l) {
			t.Errorf("the value's line %q is on screen:\n%s", l, s)
		}
	}
}

// A damaged certificate is refused on the value field with advice for the
// TUI, not for the command line.
func TestDamagedCertificateIsRefusedOnItsField(t *testing.T) {
	u, path := startDescribing(t)
	newWithType(u, "app/prod/TLS_CERT", vault.TypeCertificate)
	cert := testCertPEM(t)
	u.Send(tea.PasteMsg{Content: cert[:len(cert)/2]})
	u.Press("ctrl+s")
	s := u.WaitText("this is not a valid certificate", "Fix the fields marked above.")
	if strings.Contains(s, "--type") {
		t.Errorf("command-line advice in the TUI:\n%s", s)
	}
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved")
	u.Press("q")
	u.Finish()
	if n := count(t, tui.UnlockFixtureVault(t, path)); n != 3 {
		t.Errorf("vault holds %d secrets, want 3", n)
	}
}

// Every mistake shows at once, each under its field, and the cursor goes to
// the first.
func TestFormShowsEveryMistakeAtOnce(t *testing.T) {
	u, _ := startDescribing(t)
	newWithType(u, "/bad", vault.TypeCertificate)
	u.Send(tea.PasteMsg{Content: "not a certificate\n"})
	u.Press("tab", "tab", "tab") // note, tags, rotate every
	u.Type("soon")
	u.Press("ctrl+s")
	s := u.WaitText(`starts with "/"`, "this is not a valid certificate", "Fix the fields marked above.")
	lines := strings.Split(s, "\n")
	under := func(err, field string) {
		for i, l := range lines {
			if strings.Contains(l, err) {
				for j := i - 1; j >= 0; j-- {
					if strings.TrimSpace(lines[j][:min(14, len(lines[j]))]) != "" {
						if !strings.HasPrefix(strings.TrimSpace(lines[j]), field) {
							t.Errorf("%q is under %q, not under %s", err, lines[j], field)
						}
						return
					}
				}
			}
		}
		t.Errorf("%q not on screen:\n%s", err, s)
	}
	under(`starts with "/"`, "Name")
	under("this is not a valid certificate", "Value")
	if !strings.Contains(s, "soon") || !regexpMatch(`(?s)Rotate every\s+soon\s*\n\s+\S`, s) {
		t.Errorf("no mistake shown under Rotate every:\n%s", s)
	}
	// The cursor is on the name: typing goes there.
	u.Type("X")
	u.WaitText("/badX")
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved")
	u.Press("q")
	u.Finish()
}

// editorScript is an $EDITOR that records the file's and folder's modes
// and what it was given, then writes want into the file.
func editorScript(t *testing.T, want string) (runtime, seen string) {
	t.Helper()
	dir := t.TempDir()
	runtime = filepath.Join(dir, "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	seen = filepath.Join(dir, "seen")
	if err := os.WriteFile(filepath.Join(dir, "want"), []byte(want), 0o600); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "editor")
	body := `#!/bin/sh
set -e
d=$(dirname "$1")
stat -c '%a' "$1" "$d" | tr '\n' ' ' > "` + seen + `.modes"
echo "$d" > "` + seen + `.dir"
cp "$1" "` + seen + `"
cp "` + filepath.Join(dir, "want") + `" "$1"
`
	if err := os.WriteFile(script, []byte(body), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", runtime)
	t.Setenv("VISUAL", "")
	t.Setenv("EDITOR", script)
	return runtime, seen
}

func TestEditorEditsTheValueInAPrivateFile(t *testing.T) {
	const edited = "-----BEGIN NOTE-----\n\tindented line\r\nlast line\n"
	runtime, seen := editorScript(t, edited)
	u, path := start(t)
	u.Press("j") // app/prod/DATABASE_URL
	u.WaitText("▸ app/prod/DATABASE_URL")
	u.Press("e")
	u.WaitText("Edit app/prod/DATABASE_URL")
	u.Press("tab", "tab") // type, value
	u.Press("ctrl+e")
	u.WaitText("the value from the editor")
	u.Press("ctrl+s")
	u.WaitText("saved app/prod/DATABASE_URL (version 2)")
	u.Press("q")
	u.Finish()

	// The value had no final newline: the one editors add is dropped.
	if got, want := storedValue(t, path, "app/prod/DATABASE_URL"), strings.TrimSuffix(edited, "\n"); got != want {
		t.Errorf("stored %q, want %q", got, want)
	}
	if got := fileText(t, seen); got != tui.FixtureSecrets[0].Value {
		t.Errorf("the editor was given %q, want the current value", got)
	}
	if got := fileText(t, seen+".modes"); got != "600 700 " {
		t.Errorf("file and folder modes %q, want 600 700", got)
	}
	dir := strings.TrimSpace(fileText(t, seen+".dir"))
	if filepath.Dir(dir) != runtime {
		t.Errorf("edited in %s, not under XDG_RUNTIME_DIR %s", dir, runtime)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the private folder is still there: %v", err)
	}
}

// Without a private runtime folder, nothing is written anywhere.
func TestEditorNeedsARuntimeFolder(t *testing.T) {
	editorScript(t, "x")
	t.Setenv("XDG_RUNTIME_DIR", "")
	u, _ := start(t)
	u.Press("n")
	u.WaitText("New secret")
	u.Press("tab", "tab", "ctrl+e")
	u.WaitText("XDG_RUNTIME_DIR is not set")
	u.Press("esc")
	u.Press("q")
	u.Finish()
}

func fileText(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

// Changing only the type, to one the value is not, is refused on the type
// field, with advice for the TUI.
func TestRetypeToAWrongTypeIsRefusedOnTheTypeField(t *testing.T) {
	u, path := startDescribing(t)
	u.Press("G") // ci/GITHUB_TOKEN
	u.WaitText("▸ ci/GITHUB_TOKEN")
	u.Press("e")
	u.WaitText("Edit ci/GITHUB_TOKEN")
	u.Press("tab", "right") // token → certificate
	u.WaitText("‹ certificate ›")
	u.Press("ctrl+s")
	s := u.WaitText("the value is not a valid certificate", "Fix the fields marked above.")
	if strings.Contains(s, "--type") {
		t.Errorf("command-line advice in the TUI:\n%s", s)
	}
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.WaitText("nothing saved")
	u.Press("q")
	u.Finish()
	if got := mustGet(t, tui.UnlockFixtureVault(t, path), "ci/GITHUB_TOKEN"); got.Type != vault.TypeToken || got.Version != 1 {
		t.Errorf("type %s version %d, want unchanged", got.Type, got.Version)
	}
}

// At 60×16 every mistake is reachable: the form scrolls to the focused
// field, and the message stays.
func TestSmallFormScrollsToTheFocusedField(t *testing.T) {
	path := tui.NewFixtureVault(t, tui.FixtureSecrets)
	o := tui.FixtureOptions(t, path, nil)
	o.Describe = describe
	u := tui.StartUISized(t, o, 60, 16)
	u.WaitText("3 secrets")
	newWithType(u, "/bad", vault.TypeCertificate)
	u.Send(tea.PasteMsg{Content: "not a certificate\n"})
	u.Press("tab", "tab", "tab") // note, tags, rotate every
	u.Type("soon")
	u.Press("ctrl+s")
	u.WaitText(`starts with "/"`, "Fix the fields marked above.")
	// Through the fields to the last one: its mistake comes into view.
	for range 5 {
		u.Press("tab")
	}
	s := u.WaitText("Rotate every", "Fix the fields marked above.")
	if !strings.Contains(s, "soon") {
		t.Errorf("the rotate field is not in view:\n%s", s)
	}
	u.Press("esc")
	u.WaitText("Discard what you typed? y/n")
	u.Press("y")
	u.Press("q")
	u.Finish()
}
