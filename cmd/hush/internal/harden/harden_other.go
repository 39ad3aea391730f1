//go:build !linux

package harden

import "syscall"

var (
	saved     bool
	origUmask int
)

func process() error {
	old := syscall.Umask(0o077)
	if !saved {
		origUmask, saved = old, true
	}
	return nil
}

func forChild() {
	if saved {
		syscall.Umask(origUmask)
	}
}

// Dumpable reports true: other platforms have no such flag to clear.
func Dumpable() (bool, error) { return true, nil }
