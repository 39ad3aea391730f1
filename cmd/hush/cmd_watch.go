package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// syncWatch is `hush sync --watch`: it follows the team server and pushes
// changes made on this machine.
func (a *app) syncWatch() error {
	return a.WithVault(func(v *vault.Vault) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if !client.InTeam(v) {
			return client.ErrNoTeam
		}
		a.notef("watching the team server for changes (Ctrl-C ends it)")
		err := teamsync.Watch(ctx, v, teamsync.WatchOptions{Notef: a.notef, OfflineNote: "server unreachable, retrying", PushLocal: true,
			Synced: func(rep *client.Report) { a.notes(teamsync.WatchNotes(rep)) }})
		if err != nil {
			return err
		}
		a.notef("stopped watching")
		return nil
	})
}
