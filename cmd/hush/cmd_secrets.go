package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hush-secrets/hush/cmd/hush/internal/change"
	"github.com/hush-secrets/hush/cmd/hush/internal/listing"
	"github.com/hush-secrets/hush/cmd/hush/internal/metaflags"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) setCommand() *cobra.Command {
	var (
		meta metaflags.Flags
		gen  bool
	)
	cmd := &cobra.Command{
		Use:   "set NAME [VALUE|-]",
		Short: "create or update a secret",
		Long: `Create a secret, or add a new version of an existing one.

The value comes from the argument, from stdin with "-" (kept byte for byte,
newlines included), from --generate, or from a hidden prompt on the terminal.
A value given as an argument is visible in shell history and to ps: prefer
"-" or the prompt. Flags not given keep what the secret had. To change only
metadata, without giving the value again, use ` + "`hush edit`" + `.`,
		Example: `  hush set app/prod/DATABASE_URL
  hush set app/prod/TLS_CERT --type certificate - < cert.pem
  hush set app/prod/STRIPE_KEY --type api-key --rotate-every 30d
  hush set app/dev/SESSION_SECRET --generate`,
		Args: rangeArgs(1, 2, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := usage.Names(name); err != nil {
				return err
			}
			u, err := metaUpdate(&meta, cmd.Flags())
			if err != nil {
				return err
			}
			if gen && len(args) == 2 {
				return usage.Errorf("give a VALUE or --generate, not both")
			}
			v, err := a.Open()
			if err != nil {
				return err
			}
			defer v.Close()
			// Unlock before reading the value so that a wrong passphrase
			// does not cost the user retyping a long value.
			if err := a.Unlock(v); err != nil {
				return err
			}
			value, err := a.input().Value(name, args[1:], gen,
				usage.Errorf("no value for %s: give it as an argument, with - on stdin, or --generate (there is no terminal to ask on)", name))
			if err != nil && len(args) == 1 && !gen && meta.Changed(cmd.Flags()) {
				// Only metadata was given: say where that goes.
				return usage.Wrap(fmt.Errorf("%w; to change only metadata, keeping the value: `hush edit %s` with the same flags", err, name))
			}
			if err != nil {
				return err
			}
			defer crypto.Wipe(value)
			// Said once recorded: after what the sync that follows says.
			var said string
			err = a.Change(v, "set", []string{name}, func() (err error) {
				said, err = change.Set(v, name, value, u)
				return err
			})
			if err != nil {
				return err
			}
			a.note(said)
			return nil
		},
	}
	meta.Add(cmd.Flags())
	cmd.Flags().BoolVar(&gen, "generate", false, "store a new random password (24 characters)")
	return cmd
}

func (a *app) editCommand() *cobra.Command {
	var meta metaflags.Flags
	cmd := &cobra.Command{
		Use:   "edit NAME [--note TEXT] [--tag T] [--type T] [--rotate-every D] [--expires DATE] [--rotator CMD]",
		Short: "change a secret's metadata, keeping its value",
		Long: `Change a secret's note, tags, type, rotation interval, expiry date or rotator
without giving its value again. The change is a new version with the same
value; flags not given keep what the secret had. --tag replaces the tags
(--tag "" clears them), --rotate-every 0 and --expires never remove those.
Changing --type checks that the value is of the new type.`,
		Example: `  hush edit app/prod/STRIPE_KEY --rotate-every 30d --rotator './rotate-stripe.sh'
  hush edit app/prod/DATABASE_URL --note "primary, eu-west-1" --tag prod,db`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := usage.Names(name); err != nil {
				return err
			}
			if !meta.Changed(cmd.Flags()) {
				return usage.Errorf("nothing to change: give --note, --tag, --type, --rotate-every, --expires or --rotator (`hush set %s` changes the value)", name)
			}
			u, err := metaUpdate(&meta, cmd.Flags())
			if err != nil {
				return err
			}
			return a.Audited("edit", args[:1], func(v *vault.Vault) error {
				said, err := change.Edit(v, name, u)
				a.note(said)
				return err
			})
		},
	}
	meta.Add(cmd.Flags())
	return cmd
}

// metaUpdate is the metadata flags given, as a vault.Update; a value that
// does not parse is a usage error.
func metaUpdate(m *metaflags.Flags, f *pflag.FlagSet) (vault.Update, error) {
	u, err := m.Update(f)
	if err != nil {
		return u, usage.Wrap(err)
	}
	u.Describe = vault.Describe
	return u, nil
}

func (a *app) getCommand() *cobra.Command {
	var version int
	var theirs bool
	cmd := &cobra.Command{
		Use:     "get NAME",
		Aliases: []string{"show"},
		Short:   "print a secret's value",
		Long: `Print a secret's value, byte for byte (a newline is added only on a terminal).
With --json: the value and its metadata; a value that is not UTF-8 text is
given as value_base64 instead of value.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 0 || cmd.Flags().Changed("version") && version == 0 {
				return usage.Errorf("--version must be 1 or more")
			}
			if err := usage.Names(args[0]); err != nil {
				return err
			}
			return a.Audited("get", args[:1], func(v *vault.Vault) error {
				if theirs {
					return a.getTheirs(v, args[0])
				}
				s, conflict, err := listing.Get(v, args[0], version)
				if err != nil {
					return teamsync.OutOfSight(v, args[0], false, err)
				}
				defer crypto.Wipe(s.Value)
				a.note(teamsync.Freshness(v))
				if conflict {
					a.notef("warning: %s is in conflict with a teammate's version; this is the one on this device (`hush get --theirs %s` shows theirs; `hush resolve %s --keep mine|theirs`)", s.Name, s.Name, s.Name)
				}
				if a.jsonOut {
					row, err := listing.Secret(v, s, conflict, time.Now())
					if err != nil {
						return err
					}
					return a.writeJSON(row)
				}
				return a.printValue(s.Value)
			})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "print version `N` instead of the current one")
	cmd.Flags().BoolVar(&theirs, "theirs", false, "in a sync conflict, print the teammate's version")
	return cmd
}

// getTheirs prints the teammate's side of a conflict.
func (a *app) getTheirs(v *vault.Vault, name string) error {
	th, who, err := teamsync.Theirs(v, name)
	if err != nil {
		return err
	}
	defer crypto.Wipe(th.Value)
	if th.Removed {
		return fmt.Errorf("%s removed %s; `hush resolve %s --keep theirs` removes it here too", who, name, name)
	}
	a.notef("%s's version of %s (resolve with `hush resolve %s --keep mine|theirs`)", who, name, name)
	if a.jsonOut {
		return a.writeJSON(listing.Theirs(th.Name, th.Meta, th.Value, who))
	}
	return a.printValue(th.Value)
}

func (a *app) lsCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:     "ls [FOLDER]",
		Aliases: []string{"list"},
		Short:   "list secrets: names, types, ages and flags, never values",
		Args:    rangeArgs(0, 1, "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder := ""
			if len(args) == 1 {
				f, err := usage.Folder(args[0])
				if err != nil {
					return err
				}
				folder = f
			}
			return a.WithVault(func(v *vault.Vault) error {
				// Damaged secrets are listed as such, and ls fails.
				l, err := listing.Read(v, folder, all)
				if err != nil {
					return err
				}
				l.Held = teamsync.HeldNames(v)
				now := time.Now()
				if a.jsonOut {
					if err := a.writeJSON(l.Rows(now)); err != nil {
						return err
					}
					return l.Err
				}
				if l.Empty() {
					if folder == "" {
						a.notef("the vault is empty: add a secret with `hush set NAME`")
					} else if nh := teamsync.NotHeld(v, folder, true); nh != nil {
						a.notef("%v", nh)
					} else {
						a.notef("no secrets in %s", folder)
					}
					return nil
				}
				if err := l.WriteTable(a.stdout, now); err != nil {
					return err
				}
				return l.Err
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include revoked secrets")
	return cmd
}

func (a *app) rmCommand() *cobra.Command {
	var purge, yes bool
	cmd := &cobra.Command{
		Use:     "rm NAME...",
		Aliases: []string{"remove", "delete"},
		Short:   "remove secrets (history is kept until --purge)",
		Args:    rangeArgs(1, 1<<20, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := usage.Names(args...); err != nil {
				return err
			}
			if purge {
				if err := a.confirm(yes, "Delete "+strings.Join(args, ", ")+" and every version for good"); err != nil {
					return err
				}
			}
			return a.Audited(map[bool]string{true: "purge", false: "rm"}[purge], args, func(v *vault.Vault) error {
				if purge && teamsync.Shared(v) {
					// Each removal in its folder scope, or kept here.
					return a.told(teamsync.Purge(v, a.TokenTeam(), args))
				}
				return change.Remove(v, args, purge, a.note)
			})
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "delete every version for good (asks first on a terminal)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "with --purge: do not ask (for scripts)")
	return cmd
}

func (a *app) mvCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "mv OLD NEW",
		Short: "rename a secret (history moves with it)",
		Args:  exactArgs("OLD", "NEW"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := usage.Names(args...); err != nil {
				return err
			}
			return a.Audited("mv", args, func(v *vault.Vault) error {
				if _, err := v.Move(args[0], args[1]); err != nil {
					return err
				}
				a.notef("renamed %s to %s", args[0], args[1])
				return nil
			})
		},
	}
}

func (a *app) cpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cp SOURCE DEST",
		Short: "copy a secret's current value and metadata to a new name",
		Args:  exactArgs("SOURCE", "DEST"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := usage.Names(args...); err != nil {
				return err
			}
			return a.Audited("cp", args, func(v *vault.Vault) error {
				if _, err := v.Copy(args[0], args[1]); err != nil {
					return err
				}
				a.notef("copied %s to %s", args[0], args[1])
				return nil
			})
		},
	}
}
