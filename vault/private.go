package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnsafePath means a folder or file hush would trust is not the user's
// own: a link, another user's, or writable by others. It is wrapped in an
// [*UnsafePathError].
var ErrUnsafePath = errors.New("unsafe vault path")

// UnsafePathError names the folder or file, what is wrong with it and how
// to fix it, in one line.
type UnsafePathError struct {
	Path    string
	Problem string // "is a symbolic link", "is owned by uid 1001, not by you (uid 0)"
	Fix     string // "run `chmod 700 /x`", "move your vault to a folder of your own"
}

func (e *UnsafePathError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Path, e.Problem, e.Fix)
}

func (e *UnsafePathError) Unwrap() error { return ErrUnsafePath }

// guard decides whether a folder or file may hold a vault. Another user who
// can write the vault's folder can plant a -wal file that SQLite replays, a
// link that makes hush write where it points, or read every state of the
// file; so hush checks before it opens anything.
//
// Each platform has its own guard (private_unix.go, private_other.go).
type guard interface {
	// Dir checks an existing folder: a folder (not a link to one), owned
	// by the current user, not writable by group or others.
	Dir(path string) error
	// File checks a file if it exists (a missing one is fine): a regular
	// file (not a link), owned by the current user, no permission bits for
	// group or others.
	File(path string) error
	// Above checks the folders and links on the way to HUSH_HOME: none
	// may let another user replace HUSH_HOME. It returns HUSH_HOME's real
	// path (no link in it), which every later open uses.
	Above(home string) (string, error)
	// Open opens a file like os.OpenFile without following a link in its
	// last element, and checks the opened file as File does.
	Open(path string, flag int, perm fs.FileMode) (*os.File, error)
}

// private is this platform's guard.
var private guard = osGuard{}

// OpenPrivate opens a file beside a vault (a lock file, say) as hush opens
// its own: never through a link, and only if it is the user's own with no
// permissions for others.
func OpenPrivate(path string, flag int, perm fs.FileMode) (*os.File, error) {
	return private.Open(path, flag, perm)
}

// companions are the files SQLite and hush keep beside a vault file.
func companions(path string) []string {
	audit := AuditPath(path)
	return []string{path, path + "-wal", path + "-shm", path + "-journal", audit, audit + "-journal", path + ".sync.lock"}
}

// checkLayout checks, before anything is opened, the folder that holds the
// vault file (HUSH_HOME/vaults), the folder above it (HUSH_HOME), and every
// file hush or SQLite opens for the vault.
func checkLayout(path string) error {
	if err := checkFolders(path); err != nil {
		return err
	}
	for _, f := range companions(path) {
		if err := private.File(f); err != nil {
			return err
		}
	}
	return nil
}

// realPath checks the folders and links on the way to HUSH_HOME (the
// folder above the vaults folder of the vault at path) and returns the
// vault's path through HUSH_HOME's real folder: hush opens only that, so
// a link on the way re-pointed after the check redirects nothing.
//
// SQLite opens its files (the vault, its journals, the attached audit
// log) by name, so they cannot be opened relative to a checked folder's
// descriptor (openat with O_NOFOLLOW, openat2's RESOLVE_NO_SYMLINKS). A
// real path whose every folder only you or root can change gives the same
// guarantee: nobody else can swap a part of it after the check.
func realPath(path string) (string, error) {
	dir := filepath.Dir(path)
	home, err := private.Above(filepath.Dir(dir))
	if err != nil {
		return "", err
	}
	return filepath.Join(home, filepath.Base(dir), filepath.Base(path)), nil
}

// checkFolders checks the folders of checkLayout: HUSH_HOME and its
// vaults folder (realPath checked those above).
func checkFolders(path string) error {
	dir := filepath.Dir(path)
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := private.Dir(d); err != nil {
			return err
		}
	}
	return nil
}

// lstatDir refuses a link or anything but a folder where hush keeps vaults.
func lstatDir(path string) (fs.FileInfo, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, fmt.Errorf("failed to check vault folder: %w", err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil, &UnsafePathError{path, "is a symbolic link", "hush does not follow links to its folders; set HUSH_HOME to the real folder"}
	}
	if !st.IsDir() {
		return nil, &UnsafePathError{path, "is not a folder", "move it away, or set HUSH_HOME to a folder of your own"}
	}
	return st, nil
}

// fileKind refuses a link or anything but a regular file beside a vault.
func fileKind(path string, st fs.FileInfo) error {
	if st.Mode()&fs.ModeSymlink != 0 {
		return &UnsafePathError{path, "is a symbolic link", "hush does not follow links beside a vault; remove the link"}
	}
	if !st.Mode().IsRegular() {
		return &UnsafePathError{path, "is not a regular file", "remove it"}
	}
	return nil
}

// afterCheck, when a test sets it, runs between Open's checks and its
// first open: the moment a link re-pointed by someone else would matter.
var afterCheck func()
