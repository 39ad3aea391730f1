package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/change"
	"github.com/hush-secrets/hush/cmd/hush/internal/listing"
	"github.com/hush-secrets/hush/cmd/hush/internal/transfer"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/rotate"
)

func (a *app) revokeCommand() *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "revoke NAME --reason TEXT",
		Short: "retire a leaked secret: kept in history, never handed out as current again",
		Long: `Mark a secret's current value as revoked. get, run, hush:// references and
export refuse it from then on, naming the reason; its history stays. Setting
a new value (hush set, hush rotate) makes the secret usable again.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usage.Errorf("missing --reason: say why, e.g. --reason \"leaked in a CI log\"")
			}
			if err := usage.Names(args[0]); err != nil {
				return err
			}
			return a.Audited("revoke", args[:1], func(v *vault.Vault) error {
				res, err := v.Revoke(args[0], reason)
				if err != nil {
					return err
				}
				a.notef("revoked %s (version %d): rotate it at its source, then `hush set %s` or `hush rotate %s`", args[0], res.Version, args[0], args[0])
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why it is revoked (kept, sealed, with the secret)")
	return cmd
}

func (a *app) dueCommand() *cobra.Command {
	var within, certWithin string
	cmd := &cobra.Command{
		Use:   "due [FOLDER]",
		Short: "what is overdue or due soon: rotation, expiry, certificate end",
		Long: `List the secrets whose rotation is due, whose expiry date comes, or whose
certificate ends, soonest first. Exits 1 when anything is overdue, so CI and
cron can gate on it.`,
		Args: rangeArgs(0, 1, "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			w, err := parseDuration(within)
			if err != nil {
				return usage.Wrap(err)
			}
			cw, err := parseDuration(certWithin)
			if err != nil {
				return usage.Wrap(err)
			}
			folder := ""
			if len(args) == 1 {
				folder = args[0]
			}
			return a.WithVault(func(v *vault.Vault) error {
				now := time.Now()
				items, err := listing.Due(v, folder, now, w, cw)
				if err != nil {
					return err
				}
				out, overdue := listing.DueRows(items)
				if a.jsonOut {
					if err := a.writeJSON(out); err != nil {
						return err
					}
				} else if len(items) == 0 {
					a.notef("nothing is due within %s", formatDuration(w))
				} else {
					listing.WriteDue(a.stdout, items, now)
				}
				return listing.DueError(items, overdue)
			})
		},
	}
	cmd.Flags().StringVar(&within, "within", formatDuration(vault.ExpiryWarning), "also list what falls due within this time")
	cmd.Flags().StringVar(&certWithin, "cert-warning", formatDuration(vault.CertificateWarning), "warn this long before a certificate ends")
	return cmd
}

func (a *app) rotateCommand() *cobra.Command {
	var (
		gen, due bool
		with     string
		timeout  time.Duration
	)
	cmd := &cobra.Command{
		Use:   "rotate NAME [--generate | --with CMD] | rotate --due",
		Short: "give a secret a new value: generated, or from a rotator command",
		Long: `Write a new version of a secret and restart its rotation clock.

  --generate    a new 24-character password
  --with CMD    run CMD (with sh -c); it gets the old value on stdin and the
                secret's name in HUSH_ROTATE_NAME, and prints the new value.
                CMD is kept (sealed) as the secret's rotator for next time.
  (neither)     run the rotator kept from an earlier --with

The new value is written only if the rotator exits 0 and prints something;
otherwise nothing changes. --due rotates every overdue secret that has a
rotator, reports each, and exits 1 if any failed.`,
		Example: `  hush rotate app/prod/DB_PASSWORD --generate
  hush rotate app/prod/API_KEY --with './rotate-api-key.sh'
  hush rotate --due`,
		Args: func(cmd *cobra.Command, args []string) error {
			if due {
				if len(args) > 0 || gen || with != "" {
					return usage.Errorf("--due rotates every overdue secret: give no NAME, --generate or --with")
				}
				return nil
			}
			if gen && with != "" {
				return usage.Errorf("give --generate or --with, not both")
			}
			return exactArgs("NAME")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usage.Errorf("--timeout must be positive")
			}
			if due {
				return a.rotateDue(timeout)
			}
			if err := usage.Names(args[0]); err != nil {
				return err
			}
			return a.Audited("rotate", args[:1], func(v *vault.Vault) error {
				o := a.rotateOptions(timeout)
				o.Generate, o.With = gen, with
				said, err := change.Rotate(v, args[0], o)
				a.note(said)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&gen, "generate", false, "a new random password")
	f.StringVar(&with, "with", "", "a rotator `COMMAND`: old value on stdin, new value on stdout")
	f.BoolVar(&due, "due", false, "rotate every overdue secret that has a rotator")
	f.DurationVar(&timeout, "timeout", rotate.Timeout, "how long a rotator may run")
	return cmd
}

// rotateOptions are the rotation engine's options for this process.
func (a *app) rotateOptions(timeout time.Duration) rotate.Options {
	o := rotate.Options{Timeout: timeout, Stderr: a.stderr, Describe: vault.Describe}
	for k, v := range a.Env {
		o.Environ = append(o.Environ, k+"="+v)
	}
	return o
}

// rotateDue rotates every overdue secret that has a rotator, each
// rotation audited.
func (a *app) rotateDue(timeout time.Duration) error {
	return a.WithVault(func(v *vault.Vault) error {
		return rotate.DueRecorded(v, a.rotateOptions(timeout), a.Record, a.note)
	})
}

func (a *app) policyCommand() *cobra.Command {
	var rotate string
	cmd := &cobra.Command{
		Use:   "policy [FOLDER --rotate-every 30d]",
		Short: "folder defaults: a rotation interval the secrets below inherit",
		Long: `Set a folder's rotation interval: every secret in the folder or below it
that has no --rotate-every of its own is due that long after its last change
(the nearest folder's policy wins). --rotate-every 0 removes it. Without
arguments, list the policies.`,
		Example: `  hush policy app/prod --rotate-every 90d
  hush policy`,
		Args: rangeArgs(0, 1, "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 != cmd.Flags().Changed("rotate-every") {
				return usage.Errorf("give a FOLDER and --rotate-every together, or neither to list the policies")
			}
			return a.WithVault(func(v *vault.Vault) error {
				if len(args) == 1 {
					d, err := parseDuration(rotate)
					if err != nil {
						return usage.Wrap(err)
					}
					// A change like any other: its audit entry goes in
					// with it and the vault's anchor moves.
					err = a.Change(v, "policy", []string{args[0]}, func() error { return v.SetPolicy(args[0], d) })
					if err != nil {
						return err
					}
					if d == 0 {
						a.notef("removed the policy of %s", args[0])
					} else {
						a.notef("secrets in %s rotate every %s unless they say otherwise", args[0], formatDuration(d))
					}
					return nil
				}
				ps, err := v.Policies()
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.writeJSON(listing.PolicyRows(ps))
				}
				if len(ps) == 0 {
					a.notef("no folder policies: `hush policy FOLDER --rotate-every 90d` sets one")
				}
				for _, p := range ps {
					a.printf("%s\trotate every %s\n", transfer.DisplayFolder(p.Folder), formatDuration(p.RotateEvery))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&rotate, "rotate-every", "", "the folder's rotation interval, e.g. 90d (0 removes it)")
	return cmd
}
