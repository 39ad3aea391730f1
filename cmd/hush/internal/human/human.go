// Package human writes values for a person at a terminal: how long ago, a
// time of day, the time left, a date and how far it is, a size, a count
// with its noun, a table cell cut to fit, and the table itself. Every
// command says times and sizes the same way through it; JSON output
// follows package jsonout instead.
package human

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// Ago is a short "how long ago": "3d ago", "just now".
func Ago(t, now time.Time) string {
	if a := vault.Ago(t, now); a != "now" {
		return a + " ago"
	}
	return "just now"
}

// When is a time of day, with the date when it is not today.
func When(t, now time.Time) string {
	t = t.Local()
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Local().Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}

// Left is a remaining time: 7h59m, 12m or 40s.
func Left(d time.Duration) string {
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// Date is a date with its distance from now: "2027-01-01 (in 3w)".
func Date(t, now time.Time) string {
	if t.After(now) {
		return t.Local().Format("2006-01-02") + " (in " + strings.TrimSuffix(Ago(now, t), " ago") + ")"
	}
	return t.Local().Format("2006-01-02") + " (" + Ago(t, now) + ")"
}

// Expiry is a moment to the second, marked when it has passed.
func Expiry(t, now time.Time) string {
	s := t.Local().Format("2006-01-02 15:04:05")
	if !t.After(now) {
		s += " (expired)"
	}
	return s
}

// Size is a byte count: 512 B, 1.5 KiB, 2.0 MiB.
func Size(n int) string {
	switch {
	case n < 1024:
		return strconv.Itoa(n) + " B"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// Count is n with its noun: "1 secret", "3 secrets".
func Count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// Join joins two parts of a cell with ", ", either of them empty.
func Join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// Shorten cuts s to n bytes, the last one an ellipsis.
func Shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// OneLine folds every run of white space, newlines too, into one space.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Cell is a note as a table cell: its first line, cut to max runes.
func Cell(s string, max int) string {
	s, _, more := strings.Cut(s, "\n")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if more {
		return s + " …"
	}
	return s
}
