package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/cmd/hush/internal/listing"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) auditCommand() *cobra.Command {
	var (
		since, name               string
		verify, restart, takeAsIs bool
		yes                       bool
	)
	cmd := &cobra.Command{
		Use:   "audit [--since 7d] [--name PREFIX] [--verify]",
		Short: "the local access log: who read or changed what, and when",
		Long: `Show the vault's audit log: every get, run, export, set, rotate, revoke, rm
(and the terminal UI's reveal and copy), and every short-lived database login
made, dropped or failed (lease, lease-drop, lease-cleanup), with time,
device and result; never a value. Entries are sealed and chained by hash: the whole chain is checked
every time the log is read, and --verify says so explicitly, naming the
first entry that was edited, removed, reordered or cut off. The vault
anchors its log at every change, so a log that was cut, emptied, deleted
or replaced by an older copy, and a vault that went back in time, are
found too; reads made since the last change are not anchored (see
docs/security.md).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var from time.Time
			if since != "" {
				d, err := parseDuration(since)
				if err != nil {
					return usage.Wrap(err)
				}
				from = time.Now().Add(-d)
			}
			if restart {
				if err := a.confirm(yes, "Begin a new audit log (the old one's entries are not carried over)"); err != nil {
					return err
				}
			}
			return a.WithVault(func(v *vault.Vault) error {
				if restart {
					if err := v.RestartAudit(takeAsIs); err != nil {
						return err
					}
					a.notef("started a new audit log; its first entry records why the old one was missing or broken")
					if takeAsIs && teamsync.Shared(v) {
						a.notef("warning: this vault is shared with a team: a sync sends the secrets taken as they are to every device like any change; if any were put back from an older copy, restore the vault from a backup before it syncs")
					}
					return nil
				}
				if verify {
					said, err := listing.VerifyAudit(v)
					a.note(said)
					return err
				}
				entries, err := listing.Audit(v)
				if err != nil {
					return err
				}
				shown := vault.FilterAudit(entries, from, name)
				if a.jsonOut {
					return a.writeJSON(jsonout.List(shown))
				}
				if len(shown) == 0 {
					a.notef("no audit entries match")
					return nil
				}
				return listing.WriteAudit(a.stdout, shown)
			})
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries newer than this, e.g. 7d or 12h")
	cmd.Flags().StringVar(&name, "name", "", "only entries about names starting with `PREFIX`")
	cmd.Flags().BoolVar(&verify, "verify", false, "check the chain and say so")
	cmd.Flags().BoolVar(&takeAsIs, "take-as-is", false, "with --restart: take the vault's secrets as they are when they do not match its anchor (changed outside hush) or the anchor is gone; the new log's first entry says so")
	cmd.Flags().BoolVar(&restart, "restart", false, "start a new log when the old one is missing or broken (a broken one is kept as NAME.audit.db.broken-TIME); asks first on a terminal")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "with --restart: do not ask (for scripts)")
	return cmd
}
