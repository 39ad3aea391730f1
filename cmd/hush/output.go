package main

import (
	"bytes"
	"encoding/json"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/cmd/hush/internal/secretinput"
	"github.com/hush-secrets/hush/vault"
)

// writeJSON prints v as indented JSON. The shapes are documented in
// docs/cli.md and kept stable.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printValue prints a value byte for byte; on a terminal, a newline
// follows one that does not end with one, for display.
func (a *app) printValue(value []byte) error {
	a.stdout.Write(value) // as it always was: a closed stdout is the reader's choice
	if f, ok := a.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && !bytes.HasSuffix(value, []byte("\n")) {
		a.printf("\n")
	}
	return nil
}

func (a *app) stderrIsTerminal() bool {
	f, ok := a.stderr.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// parseDuration accepts Go durations plus days and weeks: 30d, 2w, 12h.
func parseDuration(s string) (time.Duration, error) { return vault.ParseInterval(s) }

// formatDuration prints 720h as 30d.
func formatDuration(d time.Duration) string { return vault.FormatInterval(d) }

// newTable is a table on stdout.
func (a *app) newTable() human.Table { return human.NewTable(a.stdout) }

// input reads values to keep from stdin or the terminal.
func (a *app) input() secretinput.Reader { return secretinput.Reader{Stdin: a.stdin, Notef: a.notef} }
