//go:build !windows && !darwin

package vault

import "path/filepath"

// Linux and the BSDs: $XDG_DATA_HOME/hush, else ~/.local/share/hush (the
// XDG base directory specification).
func defaultHome(getenv func(string) string) (string, error) {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) { // the spec: a relative path is ignored
		return filepath.Join(d, "hush"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "hush"), nil
	}
	return "", ErrNoHome
}
