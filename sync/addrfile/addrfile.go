// Package addrfile writes the file that `hush server --addr-file` and
// `hush agent --addr-file` fill with the URL they serve on, for scripts.
//
// The path is the user's, and its folder may be one that others can write
// (a shared, non-sticky folder): a link planted at the path must not make
// hush write to the file it leads to (attack18 F6). So the URL goes into
// a new file beside it (created with O_EXCL, mode 0600, under a name
// nobody can guess), which is synced and renamed over the path: a rename
// replaces a link itself and never follows it, and a reader never sees a
// half-written address. A symbolic link (or anything but a regular file)
// found at the path is refused rather than replaced: it may be the user's
// own (/dev/stdout is one), and replacing it would break what it is for.
package addrfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// checked runs between the check of the path and the write: a test plants
// a link there, as another user could.
var checked = func() {}

// ErrNotFile means the path holds a symbolic link, a folder or another
// thing that is not a regular file.
var ErrNotFile = errors.New("not a regular file")

// Write replaces what is at path with url and a newline, in a file only
// its owner can read. It fails (and leaves nothing behind) when path is
// a symbolic link or anything but a regular file, or its folder cannot be
// written.
func Write(path, url string) error {
	if st, err := os.Lstat(path); err == nil && !st.Mode().IsRegular() {
		what := "is not a regular file"
		if st.Mode()&os.ModeSymlink != 0 {
			what = "is a symbolic link: hush does not write through one"
		}
		return fmt.Errorf("failed to write the address file: %s %s (%w): remove it, or give another path", path, what, ErrNotFile)
	}
	checked() // a link planted from here on is replaced by the rename
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("failed to write the address file %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.WriteString(url + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("failed to write the address file %s: %w", path, err)
	}
	return nil
}
