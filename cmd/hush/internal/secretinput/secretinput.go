// Package secretinput reads a value a person hands to hush to keep: a
// secret's value (`hush set`) or a dynamic source's admin URL (`hush
// dynamic add`), from an argument, stdin ("-"), the generator, or a hidden
// prompt on the terminal. It owns the size limits and the warnings that
// go with each way in: an argument is seen by ps and kept in the shell's
// history, and `echo VALUE |` adds a newline that breaks a key silently.
package secretinput

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/vault"
)

// MaxAdminURL is the longest admin URL read from stdin.
const MaxAdminURL = 8 << 10

// Reader reads values from a process's stdin, or asks on its terminal.
type Reader struct {
	Stdin io.Reader
	// Notef warns the person (stderr).
	Notef func(format string, args ...any)
}

// Value is the value of secret name: generated (gen), from stdin (args
// is "-", kept byte for byte), the argument itself (args[0], with a
// warning), or else asked, hidden. noTerminal is the error when it
// would have to be asked and there is no terminal.
func (r Reader) Value(name string, args []string, gen bool, noTerminal error) ([]byte, error) {
	switch {
	case gen:
		g, err := generate.New(generate.Options{})
		if err != nil {
			return nil, err
		}
		return g.Value, nil
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(io.LimitReader(r.Stdin, vault.MaxValueSize+1))
		if err != nil {
			return nil, fmt.Errorf("failed to read the value from stdin: %w", err)
		}
		if len(b) > vault.MaxValueSize {
			return nil, fmt.Errorf("value on stdin is larger than %d bytes", vault.MaxValueSize)
		}
		// `echo TOKEN | hush set NAME -` stores TOKEN and a newline, which
		// breaks an API key or a password silently: keep the bytes (a file
		// piped in means them) but say so for a one-line value.
		if n := bytes.IndexByte(b, '\n'); n >= 0 && n == len(b)-1 {
			r.Notef("note: the value from stdin ends with a newline, stored as given (%d bytes); use `printf %%s VALUE | hush set %s -` or `echo -n` if it should not", len(b), name)
		}
		return b, nil
	case len(args) == 1:
		// Whatever stderr is: the value was in every user's `ps` while
		// hush ran, and a script's log is where this should be seen.
		r.Notef("warning: a value given as an argument is visible to every user's `ps` while hush runs, and stays in your shell history; use `hush set %s -` (stdin) or `hush set %s` (hidden prompt)", name, name)
		return []byte(args[0]), nil
	}
	return prompt.Hidden(fmt.Sprintf("Value for %s: ", name), noTerminal,
		fmt.Errorf("empty value: nothing stored (use `printf '' | hush set %s -` for an empty secret)", name))
}

// AdminURL is the admin URL of dynamic source name: from stdin (flag is
// "-"), the flag itself (with a note when warn: stderr is a terminal), or
// when flag is "" asked, hidden. noTerminal is the error when it would
// have to be asked and there is no terminal.
func (r Reader) AdminURL(name, flag string, warn bool, noTerminal error) ([]byte, error) {
	switch {
	case flag == "-":
		b, err := io.ReadAll(io.LimitReader(r.Stdin, MaxAdminURL))
		if err != nil {
			return nil, fmt.Errorf("failed to read the admin URL from stdin: %w", err)
		}
		b = bytes.TrimRight(b, "\r\n")
		if len(b) == 0 {
			return nil, fmt.Errorf("no admin URL on stdin")
		}
		return b, nil
	case flag != "":
		if warn {
			r.Notef("note: an admin URL given as an argument is visible to ps and stays in your shell history; `--postgres -` reads it from stdin")
		}
		return []byte(flag), nil
	}
	return prompt.Hidden(fmt.Sprintf("PostgreSQL admin URL for %s (postgres://USER:PASSWORD@HOST:PORT/DB): ", name),
		noTerminal, errors.New("empty admin URL: nothing stored"))
}
