package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hush-secrets/hush/cmd/hush/internal/metaflags"
	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
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
			if err := validNames(name); err != nil {
				return err
			}
			u, err := metaUpdate(&meta, cmd.Flags())
			if err != nil {
				return err
			}
			if gen && len(args) == 2 {
				return usagef("give a VALUE or --generate, not both")
			}
			v, err := a.open()
			if err != nil {
				return err
			}
			defer v.Close()
			// Unlock before reading the value so that a wrong passphrase
			// does not cost the user retyping a long value.
			if err := a.unlock(v); err != nil {
				return err
			}
			value, err := a.readValue(name, args[1:], gen)
			if err != nil && len(args) == 1 && !gen && meta.Changed(cmd.Flags()) {
				// Only metadata was given: say where that goes.
				return usageError{fmt.Errorf("%w; to change only metadata, keeping the value: `hush edit %s` with the same flags", err, name)}
			}
			if err != nil {
				return err
			}
			defer crypto.Wipe(value)
			v.Intend("set", []string{name})
			res, err := v.Set(name, value, u)
			if rerr := a.record(v, "set", []string{name}, err); err == nil && rerr != nil {
				err = rerr
			}
			if err != nil {
				return err
			}
			switch {
			case !res.Changed:
				a.notef("%s unchanged (version %d)", name, res.Version)
			case res.Created:
				a.notef("created %s", name)
			default:
				a.notef("updated %s (version %d)", name, res.Version)
			}
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
			if err := validNames(name); err != nil {
				return err
			}
			if !meta.Changed(cmd.Flags()) {
				return usagef("nothing to change: give --note, --tag, --type, --rotate-every, --expires or --rotator (`hush set %s` changes the value)", name)
			}
			u, err := metaUpdate(&meta, cmd.Flags())
			if err != nil {
				return err
			}
			return a.audited("edit", args[:1], func(v *vault.Vault) error {
				res, err := v.Edit(name, u)
				if err != nil {
					return a.didYouMean(v, name, err)
				}
				if !res.Changed {
					a.notef("%s unchanged (version %d): it already has that", name, res.Version)
					return nil
				}
				a.notef("edited %s (version %d, same value)", name, res.Version)
				return nil
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
		return u, usageError{err}
	}
	u.Describe = describeValue
	return u, nil
}

// didYouMean adds the nearest existing name to a not-found error.
func (a *app) didYouMean(v *vault.Vault, name string, err error) error {
	if !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	if c, cerr := v.Closest(name); cerr == nil && c != "" {
		return fmt.Errorf("%w; did you mean %s?", err, c)
	}
	return err
}

// readValue takes the value from the argument, stdin, the generator or a
// hidden prompt.
func (a *app) readValue(name string, args []string, gen bool) ([]byte, error) {
	switch {
	case gen:
		r, err := generate.New(generate.Options{})
		if err != nil {
			return nil, err
		}
		return r.Value, nil
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(io.LimitReader(a.stdin, vault.MaxValueSize+1))
		if err != nil {
			return nil, fmt.Errorf("failed to read the value from stdin: %w", err)
		}
		if len(b) > vault.MaxValueSize {
			return nil, fmt.Errorf("value on stdin is larger than %d bytes", vault.MaxValueSize)
		}
		// `echo TOKEN | hush set NAME -` stores TOKEN and a newline, which
		// breaks an API key or a password silently: keep the bytes (a file
		// piped in means them) but say so for a one-line value.
		if n := bytes.IndexByte(b, '\n'); n >= 0 && n == len(b)-1 {
			a.notef("note: the value from stdin ends with a newline, stored as given (%d bytes); use `printf %%s VALUE | hush set %s -` or `echo -n` if it should not", len(b), name)
		}
		return b, nil
	case len(args) == 1:
		// Whatever stderr is: the value was in every user's `ps` while
		// hush ran, and a script's log is where this should be seen.
		a.notef("warning: a value given as an argument is visible to every user's `ps` while hush runs, and stays in your shell history; use `hush set %s -` (stdin) or `hush set %s` (hidden prompt)", name, name)
		return []byte(args[0]), nil
	}
	return prompt.Hidden(fmt.Sprintf("Value for %s: ", name),
		usagef("no value for %s: give it as an argument, with - on stdin, or --generate (there is no terminal to ask on)", name),
		fmt.Errorf("empty value: nothing stored (use `printf '' | hush set %s -` for an empty secret)", name))
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
				return usagef("--version must be 1 or more")
			}
			if err := validNames(args[0]); err != nil {
				return err
			}
			return a.audited("get", args[:1], func(v *vault.Vault) error {
				if theirs {
					return a.getTheirs(v, args[0])
				}
				s, err := v.GetVersion(args[0], version)
				if errors.Is(err, vault.ErrNotFound) {
					if cs, _ := v.Conflicts(); slices.Contains(slices.Collect(maps.Values(cs)), args[0]) {
						return fmt.Errorf("secret %s is in conflict: removed here, changed by a teammate: `hush resolve %s --keep theirs` brings their version back, `--keep mine` removes it for the team", args[0], args[0])
					}
				}
				if err != nil {
					return err
				}
				defer crypto.Wipe(s.Value)
				conflict, err := v.HasConflict(s.ID)
				if err != nil {
					return err
				}
				a.note(teamsync.Freshness(v))
				if conflict {
					a.notef("warning: %s is in conflict with a teammate's version; this is the one on this device (`hush get --theirs %s` shows theirs; `hush resolve %s --keep mine|theirs`)", s.Name, s.Name, s.Name)
				}
				if a.jsonOut {
					ps, err := v.Policies()
					if err != nil {
						return err
					}
					from := vault.Inherit(&s.Meta, s.Name, ps)
					m := secretJSON(s, time.Now())
					if from != "" {
						m["rotate_every_from"] = from
					}
					if conflict {
						m["flags"] = append(m["flags"].([]string), "conflict")
					}
					jsonValue(m, s.Value)
					if info := inspectJSON(s); info != nil {
						m["kind"] = info
					}
					return a.writeJSON(m)
				}
				a.stdout.Write(s.Value)
				if a.stdoutIsTerminal() && !bytes.HasSuffix(s.Value, []byte("\n")) {
					a.printf("\n")
				}
				return nil
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
		m := map[string]any{"name": th.Name, "type": th.Meta.Type, "note": th.Meta.Note, "tags": nonNil(th.Meta.Tags), "author": who}
		jsonValue(m, th.Value)
		return a.writeJSON(m)
	}
	a.stdout.Write(th.Value)
	if a.stdoutIsTerminal() && !bytes.HasSuffix(th.Value, []byte("\n")) {
		a.printf("\n")
	}
	return nil
}

func secretJSON(s *vault.Secret, now time.Time) map[string]any {
	m := map[string]any{
		"name":    s.Name,
		"version": s.Version,
		"current": s.Version == s.Head,
		"type":    s.Type,
		"note":    s.Note,
		"tags":    nonNil(s.Tags),
		"created": jsonTime(s.Created),
		"updated": jsonTime(s.Updated),
		"flags":   nonNil(flags(s.Meta, s.Updated, now)),
	}
	if s.RotateEvery > 0 {
		m["rotate_every"] = formatDuration(s.RotateEvery)
	}
	if !s.Expires.IsZero() {
		m["expires"] = jsonTime(s.Expires)
	}
	if s.Summary != "" {
		m["summary"] = s.Summary
	}
	if !s.NotAfter.IsZero() {
		m["not_after"] = jsonTime(s.NotAfter)
	}
	if s.Rotator != "" {
		m["rotator"] = s.Rotator
	}
	if s.Revoked != nil {
		m["revoked"] = map[string]string{"at": jsonTime(s.Revoked.At), "reason": s.Revoked.Reason}
	}
	if s.Dynamic != nil {
		m["dynamic"] = map[string]string{"template": s.Dynamic.Template, "ttl": formatDuration(s.Dynamic.TTL)}
	}
	return m
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
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
				f, err := cleanFolder(args[0])
				if err != nil {
					return err
				}
				folder = f
			}
			return a.withVault(func(v *vault.Vault) error {
				// Damaged secrets are listed as such, and ls fails.
				listed, listErr := v.ListWithPolicies(folder)
				var damaged *vault.DamagedSecretsError
				if listErr != nil && !errors.As(listErr, &damaged) {
					return listErr
				}
				var broken []vault.DamagedSecret
				if damaged != nil {
					broken = damaged.Secrets
				}
				conflicts, err := v.Conflicts()
				if err != nil {
					return err
				}
				// Filtered in place: an Entry is large, and copying 100,000
				// of them into a growing slice cost more than printing them.
				entries := listed[:0]
				for _, e := range listed {
					if all || e.Revoked == nil {
						entries = append(entries, e)
					}
				}
				now := time.Now()
				if a.jsonOut {
					out := make([]map[string]any, 0, len(entries))
					for _, e := range entries {
						m := map[string]any{"name": e.Name, "type": e.Type, "version": e.Version,
							"created": jsonTime(e.Created), "updated": jsonTime(e.Updated),
							"tags": nonNil(e.Tags), "flags": nonNil(entryFlags(e, conflicts, now))}
						if e.Summary != "" {
							m["summary"] = e.Summary
						}
						if e.RotateEvery > 0 {
							m["rotate_every"] = formatDuration(e.RotateEvery)
						}
						if e.RotateFrom != "" {
							m["rotate_every_from"] = e.RotateFrom
						}
						out = append(out, m)
					}
					for _, d := range broken {
						out = append(out, map[string]any{"name": d.Name, "flags": []string{"damaged"}, "damaged": d.Why})
					}
					if err := a.writeJSON(out); err != nil {
						return err
					}
					return listErr
				}
				if len(entries) == 0 && len(broken) == 0 && len(vault.RemovedInConflict(entries, conflicts, folder)) == 0 {
					if folder == "" {
						a.notef("the vault is empty: add a secret with `hush set NAME`")
					} else {
						a.notef("no secrets in %s", folder)
					}
					return nil
				}
				w := a.newTable()
				// ROTATION only when something rotates: where it comes from
				// (its own, or a folder's policy) is then in view.
				rotation := slices.ContainsFunc(entries, func(e vault.Entry) bool { return e.RotateEvery > 0 })
				rot := func(e vault.Entry) string {
					if !rotation {
						return ""
					}
					return "\t" + rotationWords(e.RotateEvery, e.RotateFrom)
				}
				head := "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tABOUT"
				if rotation {
					head = "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tROTATION\tABOUT"
				}
				fmt.Fprintln(w, head)
				for _, e := range entries {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s%s\t%s\n", e.Name, e.Type, e.Version, age(e.Updated, now), strings.Join(entryFlags(e, conflicts, now), ","), rot(e), e.Summary)
				}
				// Removed here while a teammate changed them: listed, so the
				// conflict is not out of sight.
				for _, name := range vault.RemovedInConflict(entries, conflicts, folder) {
					dash := ""
					if rotation {
						dash = "\t-"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s%s\t%s\n", name, "-", "-", "-", "conflict", dash, "removed here, changed by a teammate")
				}
				for _, d := range broken {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, "-", "-", "-", "damaged", d.Why)
				}
				if err := w.Flush(); err != nil {
					return err
				}
				return listErr
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
			if err := validNames(args...); err != nil {
				return err
			}
			if purge {
				if err := a.confirm(yes, "Delete "+strings.Join(args, ", ")+" and every version for good"); err != nil {
					return err
				}
			}
			return a.audited(map[bool]string{true: "purge", false: "rm"}[purge], args, func(v *vault.Vault) error {
				if purge {
					// One transaction: all of them or none.
					if err := v.PurgeMany(args); err != nil {
						return err
					}
					for _, n := range args {
						a.notef("purged %s and its history", n)
					}
					return nil
				}
				for _, n := range args {
					if err := v.Remove(n); err != nil {
						return err
					}
					a.notef("removed %s (history kept: `hush rm --purge %s` deletes it for good)", n, n)
				}
				return nil
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
			if err := validNames(args...); err != nil {
				return err
			}
			return a.audited("mv", args, func(v *vault.Vault) error {
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
			if err := validNames(args...); err != nil {
				return err
			}
			return a.audited("cp", args, func(v *vault.Vault) error {
				if _, err := v.Copy(args[0], args[1]); err != nil {
					return err
				}
				a.notef("copied %s to %s", args[0], args[1])
				return nil
			})
		},
	}
}

// rotationWords is a rotation interval and where it comes from: "every
// 30d", "every 90d (from app/prod)", or "-".
func rotationWords(every time.Duration, from string) string {
	switch {
	case every <= 0:
		return "-"
	case from != "":
		return "every " + formatDuration(every) + " (from " + from + ")"
	}
	return "every " + formatDuration(every)
}

// validNames checks names before anything asks for a passphrase. A bad
// name is a usage error (exit 2): how hush was called was wrong.
func validNames(names ...string) error {
	for _, n := range names {
		if err := vault.ValidName(n); err != nil {
			return usageError{err}
		}
	}
	return nil
}

// cleanFolder is vault.CleanFolder with a bad folder as a usage error.
func cleanFolder(folder string) (string, error) {
	f, err := vault.CleanFolder(folder)
	if err != nil {
		return "", usageError{err}
	}
	return f, nil
}

// entryFlags is flags plus "conflict" for a secret a sync left in conflict.
func entryFlags(e vault.Entry, conflicts map[string]string, now time.Time) []string {
	f := flags(e.Meta, e.Updated, now)
	if _, ok := conflicts[e.ID]; ok {
		f = append(f, "conflict")
	}
	return f
}
