// Linux.
//
// Does: a 0077 umask, a core-dump limit of 0, and PR_SET_DUMPABLE 0,
// which also closes /proc/PID/mem and ptrace attach to other processes of
// the same user (root excepted).
//
// Cannot: keep root out, or a process that was already attached.

package harden

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

var (
	mu        sync.Mutex
	saved     bool
	origUmask int
	origCore  unix.Rlimit
)

func process() error {
	mu.Lock()
	defer mu.Unlock()
	old := unix.Umask(0o077)
	e0 := unix.Getrlimit(unix.RLIMIT_CORE, &origCore)
	if !saved {
		origUmask, saved = old, e0 == nil
	}
	// Not dumpable: no core file, and /proc/PID/mem and ptrace are closed
	// to other processes of the same user (root excepted).
	e1 := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	e2 := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: origCore.Max})
	return errors.Join(e1, e2)
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

// Dumpable reports the process's dumpable flag, for tests and `hush status`.
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
