//go:build unix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// osGuard checks owner and mode bits: on Unix they say who can change a file.
type osGuard struct{}

func (osGuard) Dir(path string) error {
	st, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("failed to check vault folder: %w", err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return &UnsafePathError{path, "is a symbolic link", "hush does not follow links to its folders; set HUSH_HOME to the real folder"}
	}
	if !st.IsDir() {
		return &UnsafePathError{path, "is not a folder", "move it away, or set HUSH_HOME to a folder of your own"}
	}
	if err := owned(path, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o022 != 0 {
		return &UnsafePathError{path, fmt.Sprintf("is writable by group or others (mode %04o)", st.Mode().Perm()),
			fmt.Sprintf("run `chmod 700 %s`", path)}
	}
	return nil
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
	if st.Mode()&fs.ModeSymlink != 0 {
		return &UnsafePathError{path, "is a symbolic link", "hush does not follow links beside a vault; remove the link"}
	}
	if !st.Mode().IsRegular() {
		return &UnsafePathError{path, "is not a regular file", "remove it"}
	}
	if err := owned(path, st); err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: st.Mode()}
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
