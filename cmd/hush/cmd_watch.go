package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"sync"
	"syscall"

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
func (a *app) teamWatch(ctx context.Context, v *vault.Vault, offlineNote string, lock sync.Locker, synced func(*client.Report)) error {
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
	syncNow := func() {
		if lock != nil {
			lock.Lock()
			defer lock.Unlock()
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
		err := a.teamWatch(ctx, v, "server unreachable, retrying", nil, func(rep *client.Report) {
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
