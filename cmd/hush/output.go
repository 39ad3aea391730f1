package main

import (
	"encoding/json"
	"os"
	"time"

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

// age is a short, human "how long ago".
func age(t, now time.Time) string {
	if a := vault.Ago(t, now); a != "now" {
		return a + " ago"
	}
	return "just now"
}

// parseDuration accepts Go durations plus days and weeks: 30d, 2w, 12h.
func parseDuration(s string) (time.Duration, error) { return vault.ParseInterval(s) }

// formatDuration prints 720h as 30d.
func formatDuration(d time.Duration) string { return vault.FormatInterval(d) }
