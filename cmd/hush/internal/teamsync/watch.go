package teamsync

import (
	"context"
	"errors"
	"sync"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// WatchOptions tune [Watch].
type WatchOptions struct {
	// Notef says what happens (unreachable, back, a sync that failed).
	Notef func(format string, args ...any)
	// OfflineNote is said once when the server becomes unreachable.
	OfflineNote string
	// Lock, if not nil, is held around each sync: another goroutine of
	// this process reads the same vault (run --watch).
	Lock sync.Locker
	// Synced, if not nil, is called after every sync that succeeded.
	Synced func(*client.Report)
}

// Watch follows the team server's watch stream for v and runs an ordinary,
// fully verified sync whenever it says the head moved (and on every
// (re)connection, whose first event is the head: to catch up with what
// happened meanwhile). It says once when the server becomes unreachable
// and once when it is back. It returns nil when ctx ends, or an error when
// this device can no longer sync (removed from the team).
func Watch(ctx context.Context, v *vault.Vault, o WatchOptions) error {
	lock, synced, notef := o.Lock, o.Synced, o.Notef
	open := func() (*client.Team, context.CancelFunc, error) {
		tctx, cancel := context.WithTimeout(ctx, Timeout)
		t, err := client.Open(tctx, v)
		if err != nil {
			cancel()
			return nil, nil, err
		}
		return t, cancel, nil
	}
	t, cancel, err := open()
	if err != nil {
		return err
	}
	w, err := t.Watcher()
	t.Close()
	cancel()
	if err != nil {
		return err
	}
	var (
		unreachable bool
		fatal       error
		wctx, stop  = context.WithCancel(ctx)
	)
	defer stop()
	// Every event is answered with a sync, whatever head it names: the
	// head is not trusted even to skip one (a server naming a huge head
	// must not make the device ignore the next ones). A device's own
	// push comes back as one event, and one sync with nothing to do.
	syncNow := func() {
		if lock != nil {
			lock.Lock()
			defer lock.Unlock()
		}
		t, cancel, err := open()
		if err != nil {
			if ctx.Err() == nil {
				notef("sync: %v", err)
			}
			return
		}
		defer cancel()
		defer t.Close()
		rep, err := t.Sync(ctx)
		if errors.Is(err, client.ErrRemoved) {
			fatal = err
			stop()
			return
		}
		if err != nil {
			if !errors.Is(err, client.ErrOffline) && ctx.Err() == nil {
				notef("sync: %v", err)
			}
			return
		}
		if synced != nil {
			synced(rep)
		}
	}
	err = w.Run(wctx, func(e client.WatchEvent) {
		switch e.Kind {
		case client.WatchHead:
			if unreachable {
				notef("server reachable again")
				unreachable = false
			}
			syncNow()
		case client.WatchUnreachable:
			if !unreachable {
				notef("%s", o.OfflineNote)
				unreachable = true
			}
		}
	})
	if fatal != nil {
		return fatal
	}
	if errors.Is(err, client.ErrWatchRefused) {
		return err
	}
	return nil
}
