package vault

import (
	"errors"
	"fmt"
	"path/filepath"
)

// ErrVaultName is a vault name that cannot be a file name.
var ErrVaultName = errors.New("invalid vault name")

// Home is the folder that holds hush's vaults (and a local team server's
// database): $HUSH_HOME, else this system's [DefaultHome]. getenv reads
// the environment.
func Home(getenv func(string) string) (string, error) {
	if h := getenv("HUSH_HOME"); h != "" {
		return h, nil
	}
	return DefaultHome(getenv)
}

// Locate finds the vault called name ("" means $HUSH_VAULT, else
// "default") and returns its name and file: HOME/vaults/NAME.db. A name is
// 1 to 64 of A-Z a-z 0-9 _ . -, not starting with . or -.
func Locate(name string, getenv func(string) string) (string, string, error) {
	if name == "" {
		name = getenv("HUSH_VAULT")
	}
	if name == "" {
		name = "default"
	}
	if !validVaultName(name) {
		return "", "", fmt.Errorf("%w %q: use up to 64 of A-Z a-z 0-9 _ . - (not starting with . or -)", ErrVaultName, name)
	}
	home, err := Home(getenv)
	if err != nil {
		return "", "", err
	}
	return name, filepath.Join(home, "vaults", name+".db"), nil
}

func validVaultName(name string) bool {
	if name == "" || len(name) > 64 || name[0] == '.' || name[0] == '-' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}
