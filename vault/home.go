package vault

import "errors"

// ErrNoHome: no folder for vaults could be found from the environment.
var ErrNoHome = errors.New("cannot find a folder for vaults: set HUSH_HOME")

// DefaultHome is the folder that holds the vaults when HUSH_HOME is not
// set, from getenv (the environment a command was given): the usual
// per-user data folder of this system (home_*.go).
func DefaultHome(getenv func(string) string) (string, error) {
	return defaultHome(getenv)
}
