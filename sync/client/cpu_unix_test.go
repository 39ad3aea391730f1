//go:build unix

package client_test

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user and system) this process has used:
// beside wall time in the benchmarks, which moves far more with the
// load of other programs on the machine.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
