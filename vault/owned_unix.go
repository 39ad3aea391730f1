//go:build unix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

func openOwned(path, fix string) (*os.File, fs.FileInfo, error) {
	abs, _ := filepath.Abs(path)
	_, _, err := walk(path, func(p string, st fs.FileInfo) error {
		where := ""
		if p != abs {
			where = "(on the way to " + path + ") "
		}
		return linkOwned(p, st, where, fix)
	})
	var ue *UnsafePathError
	if errors.As(err, &ue) {
		return nil, nil, err
	}
	// Any other error (a folder hush cannot look into, a /proc/self/fd
	// link to a pipe, which names no path) is the open's to report.
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	uid, err := owner(st)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("failed to check the owner of %s", path)
	}
	if !trustedOwner(uid) {
		f.Close()
		return nil, nil, &UnsafePathError{path, fmt.Sprintf("is owned by uid %d, not by you (uid %d) or root", uid, os.Geteuid()), fix}
	}
	return f, st, nil
}
