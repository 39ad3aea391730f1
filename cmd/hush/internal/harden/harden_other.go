//go:build !linux

package harden

import "syscall"

func process() error {
	syscall.Umask(0o077)
	return nil
}

// Dumpable reports true: other platforms have no such flag to clear.
func Dumpable() (bool, error) { return true, nil }
