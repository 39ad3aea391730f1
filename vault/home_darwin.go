package vault

import "path/filepath"

// macOS: ~/Library/Application Support/hush, where Mac programs keep their
// data (and Time Machine backs it up: the vault is ciphertext). A user who
// set XDG_DATA_HOME asked for the XDG layout, and gets it.
func defaultHome(getenv func(string) string) (string, error) {
	if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) { // the spec: a relative path is ignored
		return filepath.Join(d, "hush"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, "Library", "Application Support", "hush"), nil
	}
	return "", ErrNoHome
}
