package harden

import (
	"errors"

	"golang.org/x/sys/unix"
)

func process() error {
	unix.Umask(0o077)
	// Not dumpable: no core file, and /proc/PID/mem and ptrace are closed
	// to other processes of the same user (root excepted).
	e1 := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	e2 := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	return errors.Join(e1, e2)
}

// Dumpable reports the process's dumpable flag, for tests and `hush status`.
func Dumpable() (bool, error) {
	v, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
	return v != 0, err
}
