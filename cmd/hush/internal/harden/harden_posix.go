//go:build unix

package harden

// What every Unix shares: a 0077 umask and a core-dump limit of 0 for hush
// itself, and the user's own umask and limit back for a child it starts.

import (
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu        sync.Mutex
	saved     bool
	origUmask int
	origCore  unix.Rlimit
)

// privateFilesNoCore sets the umask and core limit, remembering the first
// values seen for forChild. mu must be held.
func privateFilesNoCore() error {
	old := unix.Umask(0o077)
	e0 := unix.Getrlimit(unix.RLIMIT_CORE, &origCore)
	if !saved {
		origUmask, saved = old, e0 == nil
	}
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: origCore.Max})
}

func forChild() {
	mu.Lock()
	defer mu.Unlock()
	if !saved {
		return
	}
	unix.Umask(origUmask)
	unix.Setrlimit(unix.RLIMIT_CORE, &origCore)
}
