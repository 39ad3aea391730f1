package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/change"
	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/cmd/hush/internal/listing"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) historyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "list a secret's versions (removed secrets too)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := usage.Names(name); err != nil {
				return err
			}
			return a.WithVault(func(v *vault.Vault) error {
				hist, cur, err := v.History(name)
				if err != nil {
					return err
				}
				bad, err := v.DamagedValues(name)
				if err != nil {
					return err
				}
				damaged := listing.DamagedHistory(name, hist, bad)
				if a.jsonOut {
					rows := listing.HistoryRows(name, hist, cur)
					rows.MarkDamaged(bad)
					if err := a.writeJSON(rows); err != nil {
						return err
					}
					return damaged
				}
				now := time.Now()
				if err := listing.WriteHistory(a.stdout, name, hist, bad, now); err != nil {
					return err
				}
				if !cur.Deleted.IsZero() {
					a.notef("%s was removed %s; `hush rollback %s --to N` restores a version", name, human.Ago(cur.Deleted, now), name)
				}
				return damaged
			})
		},
	}
}

func (a *app) rollbackCommand() *cobra.Command {
	var to int
	var withMeta bool
	cmd := &cobra.Command{
		Use:   "rollback NAME --to N",
		Short: "restore the value of version N as a new version",
		Long: `Restore the value of version N as a new version. The secret keeps the
metadata it has now (note, tags, type, rotation, rotator, expiry);
--with-metadata brings back version N's metadata too. A removed secret comes
back.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("to") {
				return usage.Errorf("missing --to N: the version to restore (see `hush history %s`)", args[0])
			}
			if to < 1 {
				return usage.Errorf("--to must be 1 or more")
			}
			if err := usage.Names(args[0]); err != nil {
				return err
			}
			return a.Audited("rollback", args[:1], func(v *vault.Vault) error {
				said, err := change.Rollback(v, args[0], to, withMeta)
				a.note(said)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the version `N` to restore")
	cmd.Flags().BoolVar(&withMeta, "with-metadata", false, "also restore version N's note, tags, type, rotation and expiry")
	return cmd
}
