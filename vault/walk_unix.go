//go:build unix

package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// maxLinks is how many links one path may pass, as Linux's limit.
const maxLinks = 40

// walk resolves path as the kernel does, one component at a time, and
// calls check with each folder it enters and each link it follows, as
// lstat sees them (a link as itself), from / down. It returns the real
// path: folders only, no link. A component that does not exist ends the
// walk: the rest of the path is appended as written and missing is true.
//
// Resolving by hand, instead of filepath.EvalSymlinks then a second walk
// over the result, checks each link and folder in the same pass that
// follows it: there is no moment between a check and the resolution it
// vouches for.
func walk(path string, check func(p string, st fs.FileInfo) error) (real string, missing bool, err error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false, err
	}
	cur := "/"
	st, err := os.Lstat(cur)
	if err != nil {
		return "", false, err
	}
	if err := check(cur, st); err != nil {
		return "", false, err
	}
	rest := strings.Split(abs, "/")
	links := 0
	for len(rest) > 0 {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			cur = filepath.Dir(cur)
			continue
		}
		next := filepath.Join(cur, name)
		st, err := os.Lstat(next)
		if errors.Is(err, fs.ErrNotExist) {
			return filepath.Join(append([]string{next}, rest...)...), true, nil
		}
		if err != nil {
			return "", false, err
		}
		if err := check(next, st); err != nil {
			return "", false, err
		}
		if st.Mode()&fs.ModeSymlink != 0 {
			if links++; links > maxLinks {
				return "", false, &fs.PathError{Op: "resolve", Path: path, Err: syscall.ELOOP}
			}
			target, err := os.Readlink(next)
			if err != nil {
				return "", false, err
			}
			if filepath.IsAbs(target) {
				cur = "/"
			}
			rest = append(strings.Split(target, "/"), rest...)
			continue
		}
		if !st.IsDir() && strings.Join(rest, "") != "" {
			return "", false, &fs.PathError{Op: "resolve", Path: next, Err: syscall.ENOTDIR}
		}
		cur = next
	}
	return cur, false, nil
}

// owner is the uid that owns st.
func owner(st fs.FileInfo) (int, error) {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, errors.New("no owner")
	}
	return int(sys.Uid), nil
}

// trustedOwner: you or root, who can change anything anyway.
func trustedOwner(uid int) bool { return uid == os.Geteuid() || uid == 0 }

// linkOwned refuses a link another user owns: its owner can point it
// anywhere at any time, also at another file or folder of yours.
// where, when not "", says where the link is: "(on the way to X) ".
func linkOwned(p string, st fs.FileInfo, where, fix string) error {
	if st.Mode()&fs.ModeSymlink == 0 {
		return nil
	}
	uid, err := owner(st)
	if err != nil {
		return fmt.Errorf("failed to check the owner of %s", p)
	}
	if !trustedOwner(uid) {
		return &UnsafePathError{p, fmt.Sprintf("%sis a symbolic link owned by uid %d, not by you (uid %d) or root", where, uid, os.Geteuid()), fix}
	}
	return nil
}
