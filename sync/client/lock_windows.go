package client

import (
	"context"
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// lockSync keeps two hush processes from owning one vault's team state at
// once (a manual sync and an automatic one, an invitation and a sync): the
// second waits up to 30 s, or until ctx ends. LockFileEx is Windows'
// flock; the lock goes with the process.
func lockSync(ctx context.Context, vaultPath string) (func(), error) {
	f, err := os.OpenFile(vaultPath+".sync.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		ol := new(windows.Overlapped)
		err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			f.Close()
			return nil, errors.New("another hush process is syncing or changing this vault's team: try again when it is done")
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}
