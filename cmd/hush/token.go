package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/sync/client"
)

// noteTokenNames keeps the names a command reads, to check them against a
// token's scopes (machine.Names); run's are its --from folders.
func (a *app) noteTokenNames(cmd *cobra.Command, args []string) {
	var from []string
	if f := cmd.Flags().Lookup("from"); f != nil && cmd.Name() == "run" {
		from, _ = cmd.Flags().GetStringArray("from")
	}
	a.TokenNames = machine.Names(cmd.Name(), args, from)
}

// inviteMachine is `hush team invite --machine NAME`.
func (a *app) inviteMachine(cmd *cobra.Command, name, role, expires, member string, scopes []string) error {
	role, life, err := teamsync.MachineTerms(member, role, cmd.Flags().Changed("role"), expires, cmd.Flags().Changed("expires"))
	if err != nil {
		return err
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
