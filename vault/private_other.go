//go:build !unix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// osGuard, where owners and mode bits do not say who can write a file,
// refuses links and anything but folders and regular files; the folder's
// access list is the platform's business.
type osGuard struct{}

func (osGuard) Dir(path string) error {
	_, err := lstatDir(path)
	return err
}

func (osGuard) File(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to check vault file: %w", err)
	}
	return fileKind(path, st)
}

func (g osGuard) Open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := g.File(path); err != nil {
		return nil, err
	}
	return os.OpenFile(path, flag, perm)
}

// Above: the folders' access lists above HUSH_HOME are the platform's
// business, as for Dir; HUSH_HOME is used as given (made absolute).
func (osGuard) Above(home string) (string, error) {
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("failed to check vault folder: %w", err)
	}
	return abs, nil
}
