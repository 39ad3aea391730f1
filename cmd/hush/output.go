package main

import (
	"encoding/json"
	"os"
	"time"
	"unicode/utf8"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/vault"
)

// writeJSON prints v as indented JSON. The shapes are documented in
// docs/cli.md and kept stable.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// stdoutIsTerminal reports whether stdout is a terminal: then values get a
// trailing newline for display, and tables are printed for a person.
func (a *app) stdoutIsTerminal() bool {
	f, ok := a.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) stderrIsTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// jsonTime is the one time format of JSON output: RFC 3339 in UTC.
func jsonTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// age is a short, human "how long ago".
func age(t, now time.Time) string {
	if a := vault.Ago(t, now); a != "now" {
		return a + " ago"
	}
	return "just now"
}

// flags lists what needs attention about a secret.
func flags(m vault.Meta, updated, now time.Time) []string {
	var f []string
	for _, mark := range vault.Attention(m, updated, now) {
		f = append(f, string(mark))
	}
	return f
}

// parseDuration accepts Go durations plus days and weeks: 30d, 2w, 12h.
func parseDuration(s string) (time.Duration, error) { return vault.ParseInterval(s) }

// formatDuration prints 720h as 30d.
func formatDuration(d time.Duration) string { return vault.FormatInterval(d) }

// jsonValue puts a value into JSON without losing bytes: text as a string,
// anything else as base64 under another key.
func jsonValue(m map[string]any, value []byte) {
	if utf8.Valid(value) {
		m["value"] = string(value)
	} else {
		m["value_base64"] = value
	}
}
