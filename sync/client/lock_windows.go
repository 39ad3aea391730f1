package client

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/windows"
)

// lockSync keeps two syncs of one vault (a manual one and an automatic one)
// from pushing the same change twice: the second waits up to 30 s.
// LockFileEx is Windows' flock; the lock goes with the process.
func lockSync(vaultPath string) (func(), error) {
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
		if time.Now().After(deadline) {
			f.Close()
			return nil, errors.New("another hush sync of this vault is running")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
