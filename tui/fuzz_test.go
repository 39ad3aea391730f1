package tui

import (
	"strings"
	"testing"
	"unicode/utf8"

	"charm.land/bubbles/v2/textarea"
	"github.com/charmbracelet/x/ansi"
)

// The filter's ranking agrees with the full programme for any name and
// query, and never panics.
func FuzzRank(f *testing.F) {
	f.Add("app/prod/billing_secret_key", "billingsecret")
	f.Add("a/b", "ab")
	f.Add("x", "x")
	var scratch []int
	f.Fuzz(func(t *testing.T, s, q string) {
		s, q = strings.ToLower(s), strings.ToLower(q)
		if q == "" || len(s) > 200 || len(q) > 20 || !matches(s, q) {
			return
		}
		if got, want := rank(s, q, &scratch), rankFull(s, q); got != want {
			t.Fatalf("rank(%q, %q) = %d, want %d", s, q, got, want)
		}
	})
}

// A shortened name fits its width, and keeps the name's end.
func FuzzShorten(f *testing.F) {
	f.Add("app/prod/STRIPE_WEBHOOK_SIGNING_SECRET", 18)
	f.Add("a/b/c", 4)
	f.Add("NAME_WITHOUT_FOLDER", 6)
	f.Fuzz(func(t *testing.T, name string, w int) {
		if !utf8.ValidString(name) || w < 4 || w > 300 || strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			return // names are ASCII (vault.ValidName)
		}
		got := shorten(name, w)
		if n := len([]rune(got)); n > w {
			t.Fatalf("shorten(%q, %d) = %q: %d wide", name, w, got, n)
		}
		if got != name && !strings.Contains(got, "…") {
			t.Fatalf("shorten(%q, %d) = %q cuts without saying so", name, w, got)
		}
	})
}

// The value field masked: whatever value is in the text area, what the
// terminal shows of its view is bullets and spaces only.
func FuzzMaskRunes(f *testing.F) {
	f.Add("-----BEGIN CERTIFICATE-----\nMIIB\tx\r\n")
	f.Add("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\")
	f.Add("日本語 and ✓ wide")
	f.Fuzz(func(t *testing.T, value string) {
		if len(value) > 2000 {
			return
		}
		area := textarea.New()
		area.ShowLineNumbers, area.Prompt, area.CharLimit, area.MaxHeight = false, "", 0, 0
		area.SetWidth(40)
		area.SetHeight(8)
		area.Focus()
		area.SetValue(value)
		shown := ansi.Strip(maskRunes(area.View()))
		for _, r := range shown {
			if r != '•' && r != ' ' && r != '\n' {
				t.Fatalf("the masked view of %q shows %q:\n%s", value, r, shown)
			}
		}
	})
}
