//go:build unix || windows

package client

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// lockSync keeps two hush processes from owning one vault's team state at
// once (a manual sync and an automatic one, an invitation and a sync): the
// second waits up to 30 s, or until ctx ends. The lock goes with the
// process (tryLock is flock on Unix, LockFileEx on Windows).
func lockSync(ctx context.Context, vaultPath string) (func(), error) {
	f, err := vault.OpenPrivate(vaultPath+".sync.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if tryLock(f) == nil {
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
