package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/dynamic"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) dynamicCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dynamic",
		Short: "short-lived database logins for `hush run --dynamic`",
		Long: `A dynamic source holds a PostgreSQL admin URL (sealed like any secret), a role
template and a TTL. ` + "`hush run --dynamic VAR=NAME`" + ` makes a login of its own for the
program from it, puts its URL in VAR, and drops the login when the program
ends. The admin URL itself is never given to a program. See docs/dynamic.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.dynamicAddCommand(), a.dynamicLsCommand(), a.dynamicLeasesCommand(),
		a.dynamicRevokeCommand(), a.dynamicForgetCommand())
	return cmd
}

func (a *app) dynamicAddCommand() *cobra.Command {
	var (
		adminURL, tmpl, ttlFlag, note string
		check                         bool
	)
	cmd := &cobra.Command{
		Use:   "add NAME --postgres URL|- --role-template SQL [--ttl 1h] [--check]",
		Short: "add (or update) a dynamic source: a PostgreSQL admin URL and a role template",
		Long: `Store a dynamic source under NAME: the PostgreSQL admin URL is the secret's
value, sealed like any other; the role template and the TTL are its metadata.

The admin URL comes from --postgres: "-" reads it from stdin (recommended: an
argument is visible to ps and stays in your shell history), and without
--postgres hush asks for it, hidden. Its role needs CREATEROLE (or superuser)
and the right to grant what the template grants.

The template is SQL run, in one transaction with the CREATE ROLE, for every
new login; {{name}} stands for the login (a quoted identifier hush makes,
hush_ and 16 hex digits) and {{database}} for the admin URL's database.
Other placeholders are refused. --check connects now and runs the template
for a throw-away login in a transaction that is rolled back.`,
		Example: `  hush dynamic add db/prod --postgres - --role-template 'GRANT app_readonly TO {{name}}' < admin-url.txt
  hush dynamic add db/dev --role-template 'GRANT SELECT ON ALL TABLES IN SCHEMA public TO {{name}}' --ttl 15m --check`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := usage.Names(name); err != nil {
				return err
			}
			if !cmd.Flags().Changed("role-template") {
				return usage.Errorf("missing --role-template: the SQL that grants a new login its rights, e.g. 'GRANT app_readonly TO {{name}}'")
			}
			t, err := dynamic.ParseTemplate(tmpl)
			if err != nil {
				return usage.Wrap(err)
			}
			ttl, err := parseDuration(ttlFlag)
			if err != nil {
				return usage.Wrap(err)
			}
			if ttl < dynamic.MinTTL {
				return usage.Errorf("--ttl must be at least %s", formatDuration(dynamic.MinTTL))
			}
			o := dynamic.AddOptions{Template: t, TTL: ttl, Check: check, Describe: vault.Describe}
			if cmd.Flags().Changed("note") {
				o.Note = &note
			}
			v, err := a.Open()
			if err != nil {
				return err
			}
			defer v.Close()
			if err := a.Unlock(v); err != nil {
				return err
			}
			done, err := dynamic.AddAudited(v, name, o, func() ([]byte, error) {
				if cmd.Flags().Changed("postgres") && adminURL == "" {
					return nil, usage.Errorf("--postgres is empty: give the admin URL, or - to read it from stdin")
				}
				return a.input().AdminURL(name, adminURL, a.stderrIsTerminal(),
					usage.Errorf("no admin URL for %s: give --postgres URL, or --postgres - with the URL on stdin (there is no terminal to ask on)", name))
			}, a.Record)
			if err != nil {
				return err
			}
			a.notef("%s", done)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&adminURL, "postgres", "", "the admin `URL` (postgres://USER:PASSWORD@HOST:PORT/DB), or - for stdin; asked when not given")
	f.StringVar(&tmpl, "role-template", "", "the `SQL` that grants a new login its rights; {{name}} is the login")
	f.StringVar(&ttlFlag, "ttl", formatDuration(dynamic.DefaultTTL), "how long a login is valid (PostgreSQL refuses it after; e.g. 15m, 1h, 1d)")
	f.BoolVar(&check, "check", false, "connect now and dry-run the template")
	f.StringVar(&note, "note", "", "a note kept (encrypted) with the source")
	return cmd
}

func (a *app) dynamicLsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "list dynamic sources: server (without password), TTL, template, leases",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.WithVault(func(v *vault.Vault) error {
				out, err := a.leaseManager(v).SourceRows()
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.writeJSON(out)
				}
				if len(out) == 0 {
					a.notef("no dynamic sources: add one with `hush dynamic add NAME --postgres - --role-template SQL`")
					return nil
				}
				return dynamic.WriteSources(a.stdout, out)
			})
		},
	}
}

func (a *app) dynamicLeasesCommand() *cobra.Command {
	var cleanup bool
	cmd := &cobra.Command{
		Use:   "leases [--cleanup]",
		Short: "list the logins handed out and not yet dropped; --cleanup drops the left-over ones",
		Long: `List the leases: logins hush made for a program and has not yet seen dropped,
with their source, expiry and the hush process that holds them.

A lease is left over when its hush is gone (killed, or its database was down
when the program ended). PostgreSQL refuses the login after its expiry
anyway; --cleanup drops it for good, and so does every later
` + "`hush run --dynamic`" + `. The leases of a running hush are left alone.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.WithVault(func(v *vault.Vault) error {
				m := a.leaseManager(v)
				if cleanup {
					return m.CleanupLeftOver(a.notef)
				}
				now := time.Now()
				leases, err := m.Leases(now)
				if err != nil {
					return err
				}
				if a.jsonOut {
					return a.writeJSON(dynamic.LeaseRows(leases))
				}
				if len(leases) == 0 {
					a.notef("no leases: every login hush made has been dropped")
					return nil
				}
				return dynamic.WriteLeases(a.stdout, leases, now)
			})
		},
	}
	cmd.Flags().BoolVar(&cleanup, "cleanup", false, "drop the logins of left-over leases")
	return cmd
}

func (a *app) dynamicRevokeCommand() *cobra.Command {
	var (
		all, yes bool
		role     string
	)
	cmd := &cobra.Command{
		Use:   "revoke NAME (--all | --role ROLE)",
		Short: "drop the logins made from a source now, even those of running programs",
		Long: `Drop logins made from the dynamic source NAME: all of them (--all), or one
(--role). Their sessions are ended, also those of programs still running
under another hush, which then finds the login gone.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := usage.Names(name); err != nil {
				return err
			}
			if all == (role != "") {
				return usage.Errorf("give --all (every login of %s) or --role ROLE (one)", name)
			}
			if all {
				if err := a.confirm(yes, "Drop every login made from "+name+", ending the sessions of programs using them"); err != nil {
					return err
				}
			}
			return a.WithVault(func(v *vault.Vault) error {
				return a.leaseManager(v).RevokeLogins(name, role, a.notef)
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every login made from the source (asks first on a terminal)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "with --all: do not ask (for scripts)")
	cmd.Flags().StringVar(&role, "role", "", "only this login (hush_...)")
	return cmd
}

func (a *app) dynamicForgetCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "forget ROLE",
		Short: "forget a lease without dropping its login (its database is gone for good)",
		Long: `Remove a lease from the vault without touching the database: for a login
whose server no longer exists. If it does exist, drop it yourself
(DROP ROLE "hush_..."); PostgreSQL refuses it after its expiry anyway.`,
		Args: exactArgs("ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.WithVault(func(v *vault.Vault) error {
				done, err := a.leaseManager(v).ForgetLease(args[0])
				if err != nil {
					return err
				}
				a.notef("%s", done)
				return nil
			})
		},
	}
}

// leaseManager is a lease manager on v that writes the audit log.
func (a *app) leaseManager(v *vault.Vault) *dynamic.Manager { return dynamic.Audited(v, a.notef) }
