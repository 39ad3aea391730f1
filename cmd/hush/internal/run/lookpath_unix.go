//go:build !windows

package run

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// searchPath is the child's PATH.
func searchPath(env map[string]string) string { return env["PATH"] }

// lookPath finds the command as the child would: in the child's PATH.
func lookPath(name, path string) (string, error) {
	if strings.Contains(name, "/") {
		return checkExecutable(name)
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("command not found: %s (not in the PATH hush would give it)", name)
}

func checkExecutable(p string) (string, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("command not found: %s", p)
	}
	if err != nil {
		return "", fmt.Errorf("cannot run %s: %w", p, err)
	}
	if st.IsDir() {
		return "", fmt.Errorf("cannot run %s: it is a folder", p)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("cannot run %s: it is not executable (chmod +x %s)", p, p)
	}
	return p, nil
}
