package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/tui"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) tuiCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "tui",
		Short: "browse, reveal, copy and edit secrets in the terminal UI (also: hush with no command)",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return a.runTUI() },
	}
}

func (a *app) onTerminal() bool {
	in, ok1 := a.stdin.(*os.File)
	out, ok2 := a.stdout.(*os.File)
	return ok1 && ok2 && term.IsTerminal(int(in.Fd())) && term.IsTerminal(int(out.Fd()))
}

// runTUI opens the vault as every command does (remembered key,
// HUSH_PASSPHRASE, --passphrase-file), and lets the UI ask the passphrase
// or create the vault otherwise.
func (a *app) runTUI() error {
	if !a.onTerminal() {
		return errors.New("the terminal UI needs a terminal: use the commands (`hush --help`) in scripts")
	}
	v, name, path, unlockedBy, err := a.ForUI()
	if err != nil {
		return err
	}
	o := tui.Options{VaultName: name, VaultPath: path, Vault: v, UnlockedBy: unlockedBy, Describe: vault.Describe,
		SyncLabel: teamsync.Label, AfterWrite: teamsync.Quiet, Held: teamsync.HeldNames}
	if err := tui.Run(o); err != nil {
		return fmt.Errorf("terminal UI: %w", err)
	}
	return nil
}
