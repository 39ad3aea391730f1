package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hush-secrets/hush/cmd/hush/internal/vaultwatch"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// teamWatch follows the team server's watch stream for v and runs an
// ordinary, fully verified sync whenever it says the head moved (and on
// every (re)connection, whose first event is the head: to catch up with
// what happened meanwhile). It
// says once when the server becomes unreachable and once when it is back.
// It returns nil when ctx ends, or an error when this device can no longer
// sync (removed from the team). synced is called after every sync that
// succeeded.
//
// lock, if not nil, is held around each sync: another goroutine of this
// process reads the same vault (run --watch).
//
// With pushLocal, it also follows the vault on this machine (as run
// --watch does) and syncs when a change made here by any process (`hush
// set` in another terminal) is not pushed yet.
func (a *app) teamWatch(ctx context.Context, v *vault.Vault, offlineNote string, lock sync.Locker, pushLocal bool, synced func(*client.Report)) error {
	if lock == nil {
		lock = &sync.Mutex{} // the stream's syncs and the local ones
	}
	open := func() (*client.Team, context.CancelFunc, error) {
		tctx, cancel := context.WithTimeout(ctx, teamTimeout)
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
				a.notef("sync: %v", err)
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
				a.notef("sync: %v", err)
			}
			return
		}
		if synced != nil {
			synced(rep)
		}
	}
	var local sync.WaitGroup
	if pushLocal {
		local.Add(1)
		go func() {
			defer local.Done()
			vaultwatch.Follow(wctx, v.Path(), vaultPoll, func() bool {
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
				a.notef("server reachable again")
				unreachable = false
			}
			syncNow()
		case client.WatchUnreachable:
			if !unreachable {
				a.notef("%s", offlineNote)
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

// syncWatch is `hush sync --watch`.
func (a *app) syncWatch() error {
	return a.withVault(func(v *vault.Vault) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if !client.InTeam(v) {
			return client.ErrNoTeam
		}
		a.notef("watching the team server for changes (Ctrl-C ends it)")
		err := a.teamWatch(ctx, v, "server unreachable, retrying", nil, true, func(rep *client.Report) {
			a.reportApprovals(rep.Approvals)
			if rep.GotKey {
				a.notef("received the team key")
			}
			if rep.Pulled > 0 || rep.Pushed > 0 {
				a.notef("pulled %d, pushed %d", rep.Pulled, rep.Pushed)
			}
			a.reportSyncNotes(rep)
			a.reportConflicts(rep.Conflicts)
		})
		if err != nil {
			return err
		}
		a.notef("stopped watching")
		return nil
	})
}
