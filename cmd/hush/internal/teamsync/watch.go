package teamsync

import (
	"context"
	"errors"
	"sync"

	"github.com/hush-secrets/hush/cmd/hush/internal/vaultwatch"
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
	// PushLocal also follows the vault on this machine (as run --watch
	// does) and syncs when a change made here by any process (`hush set`
	// in another terminal) waits to be pushed.
	PushLocal bool
}

// Watch follows the team server's watch stream for v and runs an ordinary,
// fully verified sync whenever it says the head moved (and on every
// (re)connection, whose first event is the head: to catch up with what
// happened meanwhile). It says once when the server becomes unreachable
// and once when it is back. It returns nil when ctx ends, or an error when
// this device can no longer sync (removed from the team).
func Watch(ctx context.Context, v *vault.Vault, o WatchOptions) error {
	lock, synced, notef := o.Lock, o.Synced, o.Notef
	if lock == nil {
		lock = &sync.Mutex{} // the stream's syncs and the local ones
	}
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
	// afterSync is the vault's stamp after this process's last sync: a
	// sync writes the vault, which must not look like a change made here.
	var afterSync string
	syncNow := func() {
		lock.Lock()
		defer lock.Unlock()
		defer func() { afterSync = vaultwatch.Stamp(v.Path()) }()
		if wctx.Err() != nil {
			return
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
		rep, lost, err := syncNoting(ctx, t)
		for _, n := range lost {
			notef("%s", n)
		}
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
	var local sync.WaitGroup
	if o.PushLocal {
		local.Add(1)
		go func() {
			defer local.Done()
			vaultwatch.Follow(wctx, v.Path(), vaultwatch.Poll, func() bool {
				lock.Lock()
				ours := vaultwatch.Stamp(v.Path()) == afterSync
				st, err := client.ReadStatus(v)
				lock.Unlock()
				// Only a change another process made, and only when it
				// waits to be pushed: a change that cannot be (a
				// reader's, a full server) is not tried again and again.
				if !ours && err == nil && st.Unpushed > 0 {
					syncNow()
				}
				return true
			})
		}()
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
	stop()
	local.Wait()
	if fatal != nil {
		return fatal
	}
	if errors.Is(err, client.ErrWatchRefused) {
		return err
	}
	return nil
}

// Follow is `hush sync --watch` on v until ctx ends: the team's changes
// applied as they are pushed, this machine's pushed as they are made, with
// what each sync did and when the watching starts and stops said through
// notef.
func Follow(ctx context.Context, v *vault.Vault, notef func(format string, args ...any)) error {
	if !client.InTeam(v) {
		return client.ErrNoTeam
	}
	notef("watching the team server for changes (Ctrl-C ends it)")
	err := Watch(ctx, v, WatchOptions{Notef: notef, OfflineNote: "server unreachable, retrying", PushLocal: true,
		Synced: func(rep *client.Report) {
			for _, n := range WatchNotes(rep) {
				notef("%s", n)
			}
		}})
	if err != nil {
		return err
	}
	notef("stopped watching")
	return nil
}
