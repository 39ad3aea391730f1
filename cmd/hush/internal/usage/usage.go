// Package usage owns the one mark of a mistake in how hush was called:
// the command line exits 2 for an error that carries it and points at
// `hush --help`. The packages that make a command's decisions (which
// flags go together, which values are allowed) return it themselves, so
// that the command line need not know which of their errors are usage
// errors.
package usage

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// Error marks Err as a usage error.
type Error struct{ Err error }

func (e Error) Error() string { return e.Err.Error() }
func (e Error) Unwrap() error { return e.Err }

// Errorf is a new usage error.
func Errorf(format string, args ...any) error { return Error{fmt.Errorf(format, args...)} }

// Wrap marks err as a usage error.
func Wrap(err error) error { return Error{err} }

// Is says whether err is, or wraps, a usage error.
func Is(err error) bool { return errors.As(err, new(Error)) }

// Names checks names before anything asks for a passphrase. A bad name is
// a usage error: how hush was called was wrong.
func Names(names ...string) error {
	for _, n := range names {
		if err := vault.ValidName(n); err != nil {
			return Error{err}
		}
	}
	return nil
}

// Folder is vault.CleanFolder with a bad folder as a usage error.
func Folder(folder string) (string, error) {
	f, err := vault.CleanFolder(folder)
	if err != nil {
		return "", Error{err}
	}
	return f, nil
}

// FlagError marks a flag parser's error as a usage error, in words a
// person reads: pflag's "invalid argument "x" for "--n" flag:
// strconv.ParseInt: parsing "x": invalid syntax" says "not a number".
func FlagError(err error) error {
	msg := err.Error()
	if i := strings.Index(msg, ": strconv."); i >= 0 {
		return Errorf("%s: not a number", strings.Replace(msg[:i], "invalid argument", "invalid value", 1))
	}
	if i := strings.Index(msg, ": time: "); i >= 0 {
		return Errorf("%s: use a duration such as 30s, 5m or 1h", strings.Replace(msg[:i], "invalid argument", "invalid value", 1))
	}
	return Wrap(err)
}

// CommandLine says whether msg is one of the command-line parser's own
// errors (cobra's): an unknown command or flag, a wrong argument count.
func CommandLine(msg string) bool {
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument",
		"invalid argument", "accepts ", "requires at least", "requires at most", "bad flag syntax", "if any flags in the group"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}
