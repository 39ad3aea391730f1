package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) teamCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "team",
		Short: "share this vault with a team through a hush server",
		Long: `Share a vault through a team server you run (` + "`hush server`" + `). The server
keeps only ciphertext; each device has its own keys, and the team key
reaches a new device only wrapped to it by an admin. See docs/sync.md.

  admin$  hush team create --server https://hush.example.com:8443 --name acme
  admin$  hush team invite --role writer      # hand the code over out of band
  member$ hush team join CODE --device laptop-2
  admin$  hush sync                           # approves the join
  member$ hush sync                           # receives the key and the secrets`,
		Args: cobra.NoArgs,
	}
	cmd.PersistentPreRun = func(*cobra.Command, []string) { a.NoAutoSync = true }
	cmd.AddCommand(a.teamCreateCommand(), a.teamInviteCommand(), a.teamJoinCommand(), a.teamApproveCommand(), a.teamMembersCommand(),
		a.teamRoleCommand(), a.teamRemoveCommand(), a.teamRotateCommand(), a.teamVerifyCommand(), a.teamAuditCommand(),
		a.teamGrantCommand(), a.teamUngrantCommand(), a.teamScopesCommand())
	return cmd
}

func (a *app) teamCreateCommand() *cobra.Command {
	var server, name, device, member, ca string
	cmd := &cobra.Command{
		Use:   "create --server URL --name TEAM",
		Short: "make this vault the team's, on a server; you become its admin",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if server == "" || name == "" {
				return usage.Errorf("give --server URL and --name TEAM")
			}
			// Looked up here, not as the flag's default, which every hush
			// command would pay for (a user lookup in /etc/passwd).
			if !cmd.Flags().Changed("device") {
				device = client.DefaultName()
			}
			caPEM, err := teamsync.ReadCA(ca)
			if err != nil {
				return err
			}
			if member == "" {
				member = device
			}
			return a.Audited("team-create", nil, func(v *vault.Vault) error {
				return spanned(v, "team-create", func() error {
					return a.told(teamsync.Create(v, client.CreateOptions{Server: server, Name: name, Device: device, Member: member, CA: caPEM}))
				})
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&server, "server", "", "the team server's `URL` (https://..., or http:// on loopback)")
	f.StringVar(&name, "name", "", "the team's `NAME`")
	f.StringVar(&device, "device", "", "this device's `NAME` (default user@host)")
	f.StringVar(&member, "member", "", "your `NAME` in the team (default: the device name)")
	f.StringVar(&ca, "ca", "", "trust this CA certificate `FILE` (PEM) for a self-signed server")
	return cmd
}

func (a *app) teamInviteCommand() *cobra.Command {
	var role, expires, member, machineName string
	var scopes []string
	cmd := &cobra.Command{
		Use:   "invite [--role writer] [--expires 7d] [--scope FOLDER]... | invite --machine NAME [--role reader] [--expires 90d] [--scope FOLDER]...",
		Short: "print a one-time invitation code for a new member (admin)",
		Long: `Print a one-line invitation code. Hand it over out of band (in person, a
chat you trust): it holds a one-time secret that binds the joiner's keys,
so that the server cannot slip in a key of its own. The code works once,
until it expires. Your next ` + "`hush sync`" + ` approves the join. With --scope the
new member holds only those folder scopes (see ` + "`hush team grant`" + `).

--machine NAME adds a machine (a CI job, ` + "`hush agent`" + `) at once, as a reader
(default) or a writer, never an admin, for --expires (default 90d, at most
366d), holding only the --scope folders if given, and prints its token
once, on one line: store it in the CI system's secret store and give it as
HUSH_TOKEN. ` + "`hush team remove NAME`" + ` ends it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if machineName != "" {
				return a.inviteMachine(cmd, machineName, role, expires, member, scopes)
			}
			ttl, err := teamsync.InviteLife(expires)
			if err != nil {
				return err
			}
			return a.withTeam("team-invite", nil, func(ctx context.Context, t *client.Team) error {
				code, notes, err := teamsync.Invite(ctx, t, role, member, ttl, scopes)
				if err != nil {
					return err
				}
				a.printf("%s\n", code)
				a.notes(notes)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "writer", "the new member's `ROLE`: admin, writer or reader")
	cmd.Flags().StringVar(&member, "member", "", "invite another device of this existing `MEMBER` (with their role)")
	cmd.Flags().StringVar(&expires, "expires", "7d", "how long the code is valid (a machine: its access, default 90d)")
	cmd.Flags().StringVar(&machineName, "machine", "", "add a machine named `NAME` and print its token")
	cmd.Flags().StringArrayVar(&scopes, "scope", nil, "the new member or machine holds only this `FOLDER` scope (repeat the flag for more; default: the whole team)")
	return cmd
}

func (a *app) teamJoinCommand() *cobra.Command {
	var device, oldName, member, ca string
	var kdf kdfFlags
	cmd := &cobra.Command{
		Use:   "join CODE [--device NAME] [--member NAME]",
		Short: "join a team with an invitation code: makes a new local vault for it",
		Long: `Join a team. This makes a new vault here (with its own passphrase: yours,
not the team's) and registers this device with the server. An admin's next
` + "`hush sync`" + ` approves it; then your ` + "`hush sync`" + ` brings the secrets.
Use --vault NAME to keep it beside an existing vault.`,
		Args: exactArgs("CODE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("name") {
				// --name names the team in `team create`; here it named the
				// device, which misled. Kept working for old scripts.
				if cmd.Flags().Changed("device") && device != oldName {
					return usage.Errorf("give the device's name once, with --device")
				}
				device = oldName
				a.notef("note: `team join --name` is deprecated: use --device NAME (the name of this device)")
			}
			if device == "" && !cmd.Flags().Changed("device") {
				device = client.DefaultName()
			}
			inv, err := client.ParseInvite(args[0])
			if err != nil {
				return err
			}
			caPEM, err := teamsync.ReadCA(ca)
			if err != nil {
				return err
			}
			if member, err = teamsync.JoinMember(inv, member, device); err != nil {
				return usage.Wrap(err)
			}
			v, name, path, err := a.Create(kdf.Chosen, ": join into a new one with --vault NAME")
			if err != nil {
				return err
			}
			st, notes, err := teamsync.Join(v, inv, client.JoinOptions{Device: device, Member: member, CA: caPEM},
				func(err error) error { return a.Record(v, "team-join", nil, err) })
			if err := a.told(notes, err); err != nil {
				return err
			}
			a.notes(teamsync.Joined(name, path, st))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&device, "device", "", "this device's `NAME`, shown to the team (default user@host)")
	f.StringVar(&oldName, "name", "", "deprecated: use --device")
	f.MarkHidden("name")
	f.StringVar(&member, "member", "", "your `NAME` in the team (default: the device name)")
	f.StringVar(&ca, "ca", "", "trust this CA certificate `FILE` (PEM) for a self-signed server")
	kdf.register(cmd)
	return cmd
}

func (a *app) teamApproveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "approve",
		Short: "approve pending joins made with your invitations (hush sync does it too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withTeam("team-approve", nil, func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Approve(ctx, t))
			})
		},
	}
}

func (a *app) teamMembersCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "members",
		Short: "list the team's members and devices, with roles and last seen",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withTeam("", nil, func(ctx context.Context, t *client.Team) error {
				ms, err := t.Members(ctx)
				if err != nil {
					return err
				}
				st := t.State()
				if a.jsonOut {
					return a.writeJSON(teamsync.MemberRows(ms, st.Device.ID))
				}
				return teamsync.WriteMembers(a.stdout, ms, st.Device.ID, time.Now())
			})
		},
	}
}

func (a *app) syncCommand() *cobra.Command {
	var auto, window string
	var watch bool
	cmd := &cobra.Command{
		Use:    "sync [--auto on|off] [--fresh-window 7d] [--watch]",
		PreRun: func(*cobra.Command, []string) { a.NoAutoSync = true },
		Short:  "push local changes to the team server and pull the team's",
		Long: `Pull what changed on the team server, then push what changed here. A secret
changed both here and there is a conflict: nothing is overwritten; see
` + "`hush status`" + ` and settle it with ` + "`hush resolve`" + `. An admin's sync also approves
joins made with its invitations.

--auto on makes every command that changes the vault sync afterwards, and
every command that reads it sync first when the last sync is over a minute
old (quietly: offline, it carries on with the local vault). It is turned on
only by a sync that reaches the server.

--watch stays connected to the team server and applies the team's changes
as they are pushed (the server only says "something changed"; each change
is fetched and verified by an ordinary sync), and pushes a change made on
this machine by any process (hush set in another terminal) as it is made.
It says once when the server is unreachable and keeps retrying; Ctrl-C
ends it.

Exit status: 0 when everything is in sync, 1 when the sync failed or left a
conflict (the names are listed); with --watch, 0 when Ctrl-C ends it, 1 when
this device can no longer sync (removed from the team).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := teamsync.SyncFlags(auto, window, watch)
			if err != nil {
				return err
			} else if watch {
				return a.syncWatch()
			}
			var rep *client.Report
			err = a.withTeam("sync", nil, func(ctx context.Context, t *client.Team) error {
				r, notes, err := teamsync.Sync(ctx, t, o)
				if err == nil {
					rep = r
				}
				return a.told(notes, err)
			})
			if err != nil {
				return err
			}
			return teamsync.Outstanding(rep)
		},
	}
	cmd.Flags().StringVar(&auto, "auto", "", "turn automatic sync on or off")
	cmd.Flags().BoolVar(&watch, "watch", false, "stay connected and apply the team's changes as they are pushed (Ctrl-C ends it)")
	cmd.Flags().StringVar(&window, "fresh-window", "", "warn when this device pushes but sees nothing new from the team for this `LONG` (default 7d)")
	return cmd
}

func (a *app) resolveCommand() *cobra.Command {
	var keep string
	cmd := &cobra.Command{
		Use:    "resolve NAME --keep mine|theirs",
		PreRun: func(*cobra.Command, []string) { a.NoAutoSync = true },
		Short:  "settle a sync conflict: keep this device's version or the teammate's",
		Long: `Settle a conflict on NAME. --keep mine keeps this device's version and
sends it over the teammate's at the next sync; --keep theirs takes the
teammate's version (the local one stays in ` + "`hush history`" + `).`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var k client.Keep
			switch keep {
			case "mine":
				k = client.KeepMine
			case "theirs":
				k = client.KeepTheirs
			default:
				return usage.Errorf("--keep is mine or theirs")
			}
			return a.withTeam("resolve", args[:1], func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Resolve(ctx, t, args[0], k))
			})
		},
	}
	cmd.Flags().StringVar(&keep, "keep", "", "which version to keep: mine or theirs")
	return cmd
}

// withTeam runs fn on the unlocked vault's team, owned for the command
// (client.Open: the sync lock, the state loaded once and saved by the
// methods that change it), audited as action unless action is empty.
func (a *app) withTeam(action string, names []string, fn func(ctx context.Context, t *client.Team) error) error {
	if action == "" {
		return a.WithVault(func(v *vault.Vault) error { return teamsync.With(v, fn) })
	}
	return a.Audited(action, names, func(v *vault.Vault) error {
		return spanned(v, action, func() error { return teamsync.With(v, fn) })
	})
}

// spanned runs fn, a team command that writes the vault in several
// transactions with the server's answers between them (a sync's pages,
// its push, the state), as one vault.Span: its entry goes in after the
// last, a change of its own that the anchor names (attack24 F4).
func spanned(v *vault.Vault, action string, fn func() error) error {
	end := v.Span(action)
	err := fn()
	if lerr := end(err); lerr != nil && err == nil {
		err = fmt.Errorf("the audit log could not be written: %w", lerr)
	}
	return err
}

func (a *app) teamRoleCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "role NAME admin|writer|reader",
		Short: "change a member's role (admin)",
		Long: `Change a member's role, for all their devices: admin (members and roles),
writer (secrets), reader (read only). NAME is a member's name or one of
their devices'. The change is an entry of the team's signed membership log.`,
		Args: exactArgs("NAME", "ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withTeam("team-role", args[:1], func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.SetRole(ctx, t, args[0], args[1]))
			})
		},
	}
}

func (a *app) teamGrantCommand() *cobra.Command {
	var role string
	cmd := &cobra.Command{
		Use:   "grant MEMBER FOLDER --role reader|writer",
		Short: "give a member a folder scope: its own key, wrapped to their devices (admin)",
		Long: `Give MEMBER the folder scope FOLDER (and every name below it that is in no
deeper scope) as a reader or a writer. A folder that is not a scope yet
becomes one, with its own key; whoever held the scope it is carved out of
holds it too (the output names them). See docs/sync.md "Folder scopes".`,
		Args: exactArgs("MEMBER", "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withTeam("team-grant", args, func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Grant(ctx, t, args[0], args[1], role))
			})
		},
	}
	cmd.Flags().StringVar(&role, "role", "reader", "the member's `ROLE` on the scope: reader or writer")
	return cmd
}

func (a *app) teamUngrantCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ungrant MEMBER FOLDER",
		Short: "take a folder (and the scopes below it) from a member: new keys, secrets marked to rotate (admin)",
		Long: `Take the folder scope FOLDER from MEMBER, and every scope below it they hold
(one carved out of FOLDER while they held it, too). Each scope taken (and
no other) gets a new key, wrapped to its remaining holders, and its secrets
are marked to be rotated: what MEMBER copied before, they keep. FOLDER / is
the team's root, taken alone: the scopes below it stay theirs.`,
		Args: exactArgs("MEMBER", "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withTeam("team-ungrant", args, func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Ungrant(ctx, t, args[0], args[1]))
			})
		},
	}
}

func (a *app) teamScopesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "scopes",
		Short: "list the team's folder scopes, who holds each, with which role",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withTeam("", nil, func(ctx context.Context, t *client.Team) error {
				ss, err := t.ListScopes(ctx)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.writeJSON(teamsync.ScopeRows{Scopes: ss})
				}
				return teamsync.WriteScopes(a.stdout, ss)
			})
		},
	}
}

func (a *app) teamRemoveCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "remove NAME",
		Short: "remove a member (or one device) and rotate the team key (admin)",
		Long: `Remove a member, with all their devices, or a single device (by its name).
The server stops serving them at once. Then this device makes a new team key
epoch, wraps it for every remaining device, seals every secret again under
it (pushed now), and marks every secret they could read as to be rotated:
` + "`hush due`" + `, ` + "`hush ls`" + ` and the TUI show it until the secret gets a new value.
What they copied before leaving, they keep: change those values.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := a.confirm(yes, "Remove "+args[0]+" from the team (a new team key; every secret they could read is marked to be rotated)"); err != nil {
				return err
			}
			return a.withTeam("team-remove", args[:1], func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Remove(ctx, t, args[0]))
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask (for scripts)")
	return cmd
}

func (a *app) teamRotateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rotate",
		Short: "start a new team key epoch and seal every secret again (admin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withTeam("team-rotate", nil, func(ctx context.Context, t *client.Team) error {
				return a.told(teamsync.Rotate(ctx, t))
			})
		},
	}
}

func (a *app) teamVerifyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "print one hash over the team's log and change chain, to compare out of band",
		Long: `Verify the team's signed membership log and print its fingerprint (its first
entry), its head (the newest entry), the change chain's head as this device
verified it at its last sync, and one hash over both heads. Compare the hash
with a teammate over a channel you trust, both just after a sync with no
change in between: the same hash means the server shows you both the same
members and the same changes; a different one at the same chain position
means it is showing you different histories.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withTeam("", nil, func(ctx context.Context, t *client.Team) error {
				fp, err := t.Verify(ctx)
				if err != nil {
					return err
				}
				if a.jsonOut {
					if err := a.writeJSON(teamsync.Verified(fp)); err != nil {
						return err
					}
				} else {
					teamsync.WriteVerify(a.stdout, fp)
				}
				return teamsync.VerifyError(fp, a.jsonOut)
			})
		},
	}
}

func (a *app) teamAuditCommand() *cobra.Command {
	var since string
	cmd := &cobra.Command{
		Use:   "audit [--since 7d]",
		Short: "who read or changed what, from the server's log (admin)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := vault.ParseInterval(since)
			if err != nil || d <= 0 {
				return usage.Errorf("--since takes a duration like 24h or 7d")
			}
			return a.withTeam("", nil, func(ctx context.Context, t *client.Team) error {
				evs, err := t.Audit(ctx, time.Now().Add(-d))
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.writeJSON(teamsync.AuditRows(evs))
				}
				return teamsync.WriteAudit(a.stdout, evs)
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "7d", "how far back")
	return cmd
}
