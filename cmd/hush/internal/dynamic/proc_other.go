//go:build !linux

package dynamic

import (
	"errors"
	"os"
	"syscall"
)

// processStart is unknown on this platform: the pid alone is checked.
func processStart(pid int) (uint64, bool) { return 0, processAlive(pid, 0) }

// processAlive reports whether process pid exists. Without a start time a
// reused pid counts as alive: a lease is then left until it expires, never
// dropped under a running hush.
func processAlive(pid int, _ uint64) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	err = p.Signal(syscall.Signal(0))
	return !(errors.Is(err, os.ErrProcessDone) || errors.Is(err, syscall.ESRCH))
}
