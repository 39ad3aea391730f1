//go:build unix

package client

import (
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// lockSync keeps two syncs of one vault (a manual one and an automatic one)
// from pushing the same change twice: the second waits up to 30 s.
func lockSync(vaultPath string) (func(), error) {
	f, err := vault.OpenPrivate(vaultPath+".sync.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
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
