package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/vault"
)

// syncWatch is `hush sync --watch`: it follows the team server and pushes
// changes made on this machine.
func (a *app) syncWatch() error {
	return a.WithVault(func(v *vault.Vault) error {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return teamsync.Follow(ctx, v, a.notef)
	})
}
