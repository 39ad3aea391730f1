package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// tokenVault is the vault a command reads when a machine token is given:
// the team, synced into memory with the token (internal/machine).
func (a *app) tokenVault(src string) (*vault.Vault, error) {
	if !machine.Commands[a.command] {
		return nil, machine.OnlyError(src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), teamsync.Timeout)
	defer cancel()
	s, err := machine.Open(ctx, a.getenv, a.tokenFile, a.tokenNames)
	if err != nil {
		return nil, err
	}
	a.note(s.Note)
	if vault.Changes(a.command) {
		if err := s.Writable(); err != nil {
			s.Vault.Close()
			return nil, err
		}
		a.tokenSession = s // record pushes the change
	}
	return s.Vault, nil
}

// tokenTeam is the team of the machine token a changing command runs
// with; nil without one.
func (a *app) tokenTeam() *client.Team {
	if a.tokenSession == nil {
		return nil
	}
	return a.tokenSession.Team
}

// noteTokenNames keeps the names a command reads, to check them against a
// token's scopes (machine.Names); run's are its --from folders.
func (a *app) noteTokenNames(cmd *cobra.Command, args []string) {
	var from []string
	if f := cmd.Flags().Lookup("from"); f != nil && cmd.Name() == "run" {
		from, _ = cmd.Flags().GetStringArray("from")
	}
	a.tokenNames = machine.Names(cmd.Name(), args, from)
}

// inviteMachine is `hush team invite --machine NAME`.
func (a *app) inviteMachine(cmd *cobra.Command, name, role, expires, member string, scopes []string) error {
	if member != "" {
		return usagef("--machine and --member do not go together: a machine is a member of its own")
	}
	if !cmd.Flags().Changed("role") {
		role = wire.RoleReader
	}
	if role != wire.RoleReader && role != wire.RoleWriter {
		return usagef("a machine is a reader or a writer (--role), never an admin")
	}
	life := teamsync.MachineLife
	if cmd.Flags().Changed("expires") {
		d, err := vault.ParseInterval(expires)
		if err != nil || d <= 0 || d > wire.MaxMachineLife {
			return usagef("--expires takes a duration up to 366d for a machine, like 30d or 90d")
		}
		life = d
	}
	return a.withTeam("team-invite-machine", []string{name}, func(ctx context.Context, t *client.Team) error {
		tok, notes, err := teamsync.InviteMachine(ctx, t, name, role, life, scopes)
		if err != nil {
			return err
		}
		a.notes(notes)
		a.printf("%s\n", tok.String())
		a.note(teamsync.MachineAdded(name, role, tok))
		return nil
	})
}
