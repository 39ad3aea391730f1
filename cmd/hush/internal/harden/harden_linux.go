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

	"golang.org/x/sys/unix"
)

func process() error {
	mu.Lock()
	defer mu.Unlock()
	err := privateFilesNoCore()
	// Not dumpable: no core file, and /proc/PID/mem and ptrace are closed
	// to other processes of the same user (root excepted).
	return errors.Join(unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0), err)
}

// Dumpable reports the process's dumpable flag, for tests and `hush status`.
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
