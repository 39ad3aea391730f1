package main

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// teamWatch is teamsync.Watch with notes on stderr; with pushLocal it
// also pushes changes made on this machine (sync --watch).
func (a *app) teamWatch(ctx context.Context, v *vault.Vault, offlineNote string, lock sync.Locker, pushLocal bool, synced func(*client.Report)) error {
	return teamsync.Watch(ctx, v, teamsync.WatchOptions{Notef: a.notef, OfflineNote: offlineNote, Lock: lock, Synced: synced, PushLocal: pushLocal})
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
			a.notes(teamsync.WatchNotes(rep))
		})
		if err != nil {
			return err
		}
		a.notef("stopped watching")
		return nil
	})
}
