package human

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
)

func TestWords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.Local)
	for _, c := range []struct{ got, want string }{
		{Ago(now, now), "just now"},
		{Ago(now.Add(-3*24*time.Hour), now), "3d ago"},
		{Left(7*time.Hour + 59*time.Minute + 30*time.Second), "7h59m"},
		{Left(12 * time.Minute), "12m"},
		{Left(40 * time.Second), "40s"},
		{When(now.Add(time.Hour), now), "13:00"},
		{When(now.Add(48*time.Hour), now), "2026-12-09 12:00"},
		{Date(now.Add(-72*time.Hour), now), "2026-12-04 (3d ago)"},
		{Expiry(now.Add(-time.Second), now), "2026-12-07 11:59:59 (expired)"},
		{Size(512), "512 B"},
		{Size(1536), "1.5 KiB"},
		{Size(3 << 20), "3.0 MiB"},
		{Count(1, "secret"), "1 secret"},
		{Count(2, "login"), "2 logins"},
		{Join("", "current"), "current"},
		{Join("named a/B", "current"), "named a/B, current"},
		{Shorten("abcdef", 4), "abc…"},
		{OneLine("GRANT x\n  TO {{name}}"), "GRANT x TO {{name}}"},
		{Cell("first line\nsecond", 60), "first line …"},
		{Cell("ééééé", 3), "éé…"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestTableAligns(t *testing.T) {
	var b bytes.Buffer
	w := NewTable(&b)
	fmt.Fprintln(w, "NAME\tTYPE")
	fmt.Fprintln(w, "app/LONG_NAME\tpassword")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "NAME           TYPE\napp/LONG_NAME  password\n"; b.String() != want {
		t.Errorf("table = %q, want %q", b.String(), want)
	}
}

// TestTableIsTabwriter: whatever is written, a Table writes exactly what
// text/tabwriter (minwidth 2, padding 2, spaces) writes: the tables of
// hush's commands (every line with the same cells, aligned in one pass)
// and any other text (which goes through tabwriter).
func TestTableIsTabwriter(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"", "a", "app/prod/KEY", "ключ", "日本語", "x y", strings.Repeat("w", 300), "-", "\xff", "é\u0301"}
	for i := range 3000 {
		var text strings.Builder
		cols := r.IntN(5)
		lines := r.IntN(6)
		for range lines {
			n := cols
			if i%3 == 0 { // not every line with the same cells
				n = r.IntN(5)
			}
			for range n {
				text.WriteString(words[r.IntN(len(words))])
				text.WriteByte('\t')
			}
			text.WriteString(words[r.IntN(len(words))])
			if i%7 != 0 || r.IntN(2) == 0 {
				text.WriteByte('\n')
			}
		}
		if i%11 == 0 {
			text.WriteString("\v\f")
		}
		var want, got bytes.Buffer
		tw := tabwriter.NewWriter(&want, 2, 4, 2, ' ', 0)
		tw.Write([]byte(text.String()))
		tw.Flush()
		tb := NewTable(&got)
		// In pieces, as fmt.Fprintf writes.
		s := text.String()
		for len(s) > 0 {
			k := min(len(s), 1+r.IntN(20))
			tb.Write([]byte(s[:k]))
			s = s[k:]
		}
		if err := tb.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("table of %q:\n got %q\nwant %q", text.String(), got.String(), want.String())
		}
	}
}
