package store

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock (LockFileEx) so that only one server
// process uses a SQLite store; Windows drops it when the process ends.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol); err != nil {
		f.Close()
		return nil, fmt.Errorf("store: %s is used by another hush server (for several servers, use PostgreSQL)", strings.TrimSuffix(path, ".lock"))
	}
	return func() { f.Close() }, nil
}
