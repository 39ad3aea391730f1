//go:build unix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// osGuard checks owner and mode bits: on Unix they say who can change a file.
type osGuard struct{}

func (osGuard) Dir(path string) error {
	st, err := lstatDir(path)
	if err != nil {
		return err
	}
	if err := owned(path, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return &UnsafePathError{path, fmt.Sprintf("is writable by group or others (mode %s)", octal(st.Mode())),
			fmt.Sprintf("run `chmod 700 %s`", path)}
	}
	return nil
}

// octal is a mode as chmod takes it, with the sticky, setuid and setgid
// bits: a 1777 folder is not shown as 0777.
func octal(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	return fmt.Sprintf("%04o", n)
}

// Above checks every folder and link on the way to HUSH_HOME, as
// OpenSSH's StrictModes does: each folder must be owned by root or by you,
// and not writable by group or others unless it is sticky (as /tmp is,
// where others cannot rename or remove what is yours); each link must be
// owned by root or by you. Otherwise whoever can write one of them, or
// owns the link, can swap HUSH_HOME for a folder of their own (or another
// of yours) between hush's checks and its opens. It returns HUSH_HOME's
// real path, through folders nobody else can change, for every later
// open: a link re-pointed after the check redirects nothing.
func (osGuard) Above(home string) (string, error) {
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", fmt.Errorf("failed to check vault folder: %w", err)
	}
	me := os.Geteuid()
	check := func(d string, st fs.FileInfo) error {
		if st.Mode()&fs.ModeSymlink != 0 {
			return linkOwned(d, st, fmt.Sprintf("(on the way to %s) ", home),
				"its owner can point it at any folder, also another of yours; set HUSH_HOME to a path without it")
		}
		if !st.IsDir() {
			return nil // walk says it is not a folder
		}
		uid, err := owner(st)
		if err != nil {
			return fmt.Errorf("failed to check the owner of %s", d)
		}
		if uid != me && uid != 0 {
			return &UnsafePathError{d, fmt.Sprintf("(above %s) is owned by uid %d, not by you (uid %d) or root", home, uid, me),
				"its owner can replace your vault's folder; move your vault to a folder of your own (HUSH_HOME)"}
		}
		if st.Mode().Perm()&0o022 != 0 && st.Mode()&fs.ModeSticky == 0 {
			return &UnsafePathError{d, fmt.Sprintf("(above %s) is writable by group or others and not sticky (mode %s)", home, octal(st.Mode())),
				fmt.Sprintf("others can replace your vault's folder; run `chmod go-w %s` (or `chmod +t %s`), or move your vault to a folder of your own (HUSH_HOME)", d, d)}
		}
		return nil
	}
	real, _, err := walk(filepath.Dir(abs), check)
	if err != nil {
		var ue *UnsafePathError
		if errors.As(err, &ue) {
			return "", err
		}
		return "", fmt.Errorf("failed to check the folders above %s: %w", home, err)
	}
	return filepath.Join(real, filepath.Base(abs)), nil
}

func (osGuard) File(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("failed to check vault file: %w", err)
	}
	return checkFile(path, st)
}

func checkFile(path string, st fs.FileInfo) error {
	if err := fileKind(path, st); err != nil {
		return err
	}
	if err := owned(path, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: st.Mode()}
	}
	// SQLite finds a database's journal and -wal by the file's name: a
	// change made through another name of the same file goes into another
	// -wal, which can corrupt it ("How To Corrupt An SQLite Database
	// File", 2.5); and a "backup" that is a hard link is no copy.
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Nlink > 1 {
		return &UnsafePathError{path, fmt.Sprintf("has %d names (hard links)", sys.Nlink),
			fmt.Sprintf("changes made through another name go to another journal and can damage it; remove the other names (`find / -xdev -samefile %s`), or keep a copy made with `cp` instead", path)}
	}
	return nil
}

func owned(path string, st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("failed to check the owner of %s", path)
	}
	if me := os.Geteuid(); int(sys.Uid) != me {
		return &UnsafePathError{path, fmt.Sprintf("is owned by uid %d, not by you (uid %d)", sys.Uid, me),
			"another user can change it; move your vault to a folder of your own (HUSH_HOME)"}
	}
	return nil
}

func (osGuard) Open(path string, flag int, perm fs.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if errors.Is(err, syscall.ELOOP) {
		return nil, &UnsafePathError{path, "is a symbolic link", "hush does not follow links beside a vault; remove the link"}
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil {
		err = checkFile(path, st)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
