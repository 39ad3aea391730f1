package run

import (
	"errors"
	"syscall"
	"time"
)

// Watch is not available on Windows: see watch.go.
type Watch struct {
	Signal     syscall.Signal
	OnlySignal bool
	Grace      time.Duration
	Restart    <-chan *Plan
	Stop       <-chan string
	Notef      func(format string, args ...any)
}

// StoppedError is a watched child stopped by hush, and why.
type StoppedError struct{ Reason string }

func (e *StoppedError) Error() string { return e.Reason }

// SuperviseWatch is not available on Windows yet.
func SuperviseWatch(p *Plan, std Stdio, w Watch) (int, error) {
	return 0, errors.New("hush run --watch is not available on Windows yet")
}

// ParseSignal is not available on Windows: there are no signals to send.
func ParseSignal(name string) (syscall.Signal, error) {
	return 0, errors.New("hush run --watch is not available on Windows yet")
}
