package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// tokenCommands work with a machine token instead of a vault; the
// writing ones only for a writer machine, and push before they return.
var tokenCommands = map[string]bool{"get": true, "ls": true, "export": true, "run": true, "set": true, "rm": true}

// tokenVault is the vault a command reads when a machine token is given:
// the team, synced into memory with the token (internal/machine).
func (a *app) tokenVault(src string) (*vault.Vault, error) {
	if !tokenCommands[a.command] {
		return nil, tokenOnly(src)
	}
	tok, err := machine.Load(a.getenv, a.tokenFile)
	if err != nil {
		return nil, err
	}
	// A name outside the token's scopes is refused before any request.
	for _, n := range a.tokenNames {
		if err := client.InScopes(tok.Scopes, n.name, n.folder); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), teamsync.Timeout)
	defer cancel()
	v, t, rep, err := machine.Read(ctx, tok)
	if err != nil {
		return nil, err
	}
	if note := machine.SkippedNote(rep); note != "" {
		a.notef("%s", note)
	}
	if changes[a.command] {
		if !t.State().WritesAny() { // a writing role, or a writer grant on a scope
			v.Close()
			return nil, fmt.Errorf("machine %s is a %s: it cannot change secrets", tok.Name, t.State().Role)
		}
		a.token, a.tokenTeam = tok, t // record pushes the change
	}
	return v, nil
}

// tokenPush is record's part for a writer machine's change: pushed now,
// or the command fails (the memory vault holds it only until then).
func (a *app) tokenPush() error {
	ctx, cancel := context.WithTimeout(context.Background(), teamsync.Timeout)
	defer cancel()
	return machine.Push(ctx, a.tokenTeam, a.token)
}

// tokenName is a name (or a folder) a command given a token will read.
type tokenName struct {
	name   string
	folder bool
}

// noteTokenNames keeps the names a command reads, to check them against a
// token's scopes: get, set and rm name secrets; ls and export a folder;
// run its --from folders.
func (a *app) noteTokenNames(cmd *cobra.Command, args []string) {
	a.tokenNames = nil
	switch cmd.Name() {
	case "get", "set":
		if len(args) > 0 {
			a.tokenNames = append(a.tokenNames, tokenName{args[0], false})
		}
	case "rm":
		for _, n := range args {
			a.tokenNames = append(a.tokenNames, tokenName{n, false})
		}
	case "ls", "export":
		if len(args) > 0 {
			a.tokenNames = append(a.tokenNames, tokenName{args[0], true})
		} else {
			a.tokenNames = append(a.tokenNames, tokenName{"", true})
		}
	case "run":
		if f := cmd.Flags().Lookup("from"); f != nil {
			if from, err := cmd.Flags().GetStringArray("from"); err == nil {
				for _, n := range from {
					a.tokenNames = append(a.tokenNames, tokenName{n, true})
				}
			}
		}
	}
}

func tokenOnly(src string) error {
	return fmt.Errorf("with a machine token (%s), only get, ls, export, run, set and rm work: unset it to use this device's vault", src)
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
	life := 90 * 24 * time.Hour
	if cmd.Flags().Changed("expires") {
		d, err := vault.ParseInterval(expires)
		if err != nil || d <= 0 || d > wire.MaxMachineLife {
			return usagef("--expires takes a duration up to 366d for a machine, like 30d or 90d")
		}
		life = d
	}
	return a.withTeam("team-invite-machine", []string{name}, func(ctx context.Context, t *client.Team) error {
		tok, err := t.InviteMachineScoped(ctx, name, role, life, scopes)
		if err != nil {
			return err
		}
		if len(scopes) > 0 {
			// A folder made a scope now: its secrets go up sealed into it.
			if _, err := t.Sync(ctx); err != nil {
				a.notef("note: the sync after making its scopes failed (run `hush sync`): %v", err)
			}
		}
		a.printf("%s\n", tok.String())
		a.notef("machine %s added as a %s until %s. This token is shown once: store it in your CI system's secret store and give it as HUSH_TOKEN (or --token-file). `hush team remove %s` ends it.",
			name, role, tok.Expires.Local().Format("2006-01-02 15:04"), name)
		return nil
	})
}

// machinesDue lists the team's machines whose access ends within 14 days
// (or has ended), from the membership log this device verified last: no
// server is asked.
func machinesDue(v *vault.Vault, now time.Time) []vault.DueItem {
	st, err := client.Load(v)
	if err != nil {
		return nil
	}
	var out []vault.DueItem
	for _, d := range st.Machines(now, machineWarning) {
		out = append(out, vault.DueItem{Name: "machine " + d.Name, What: "access ends", Reason: "renew: `hush team invite --machine`", When: d.Expires, Overdue: !now.Before(d.Expires)})
	}
	return out
}

// machineWarning is how long before its end `hush due` lists a machine.
const machineWarning = 14 * 24 * time.Hour
