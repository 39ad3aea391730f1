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
