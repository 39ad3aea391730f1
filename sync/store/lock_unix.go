//go:build unix

package store

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// lockFile takes an exclusive lock so that only one server process uses a
// SQLite store (its nonces live in that process's memory).
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %s is used by another hush server (for several servers, use PostgreSQL)", strings.TrimSuffix(path, ".lock"))
	}
	return func() { f.Close() }, nil
}
