package run

import (
	"errors"
	"syscall"
)

// SuperviseWatch is not available on Windows yet.
func SuperviseWatch(p *Plan, std Stdio, w Watch) (int, error) {
	return 0, errors.New("hush run --watch is not available on Windows yet")
}

// ParseSignal is not available on Windows: there are no signals to send.
func ParseSignal(name string) (syscall.Signal, error) {
	return 0, errors.New("hush run --watch is not available on Windows yet")
}
