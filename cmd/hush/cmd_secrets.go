package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// metaFlags are the metadata flags set and edit share.
type metaFlags struct {
	typ, note, rotate, expires, rotator string
	tags                                []string
}

func (m *metaFlags) add(f *pflag.FlagSet) {
	f.StringVar(&m.typ, "type", "", "kind of secret: "+typeNames())
	f.StringVar(&m.note, "note", "", "a note kept (encrypted) with the secret")
	f.StringSliceVar(&m.tags, "tag", nil, "tags (repeat or separate with commas)")
	f.StringVar(&m.rotate, "rotate-every", "", "rotation interval, e.g. 30d, 2w (0 for none)")
	f.StringVar(&m.expires, "expires", "", "expiry date, YYYY-MM-DD (never for none)")
	f.StringVar(&m.rotator, "rotator", "", "a `COMMAND` that hush rotate runs: old value on stdin, new value on stdout")
}

var metaFlagNames = []string{"type", "note", "tag", "rotate-every", "expires", "rotator"}

// changed reports whether any metadata flag was given.
func (m *metaFlags) changed(f *pflag.FlagSet) bool {
	for _, n := range metaFlagNames {
		if f.Changed(n) {
			return true
		}
	}
	return false
}

// update turns the flags given into a vault.Update; flags not given stay nil.
func (m *metaFlags) update(f *pflag.FlagSet) (vault.Update, error) {
	var u vault.Update
	if f.Changed("type") {
		t, err := vault.ParseType(m.typ)
		if err != nil {
			return u, usageError{err}
		}
		u.Type = &t
	}
	if f.Changed("note") {
		u.Note = &m.note
	}
	if f.Changed("tag") {
		clean := []string{}
		for _, t := range m.tags {
			if t = strings.TrimSpace(t); t != "" {
				clean = append(clean, t)
			}
		}
		u.Tags = &clean
	}
	if f.Changed("rotate-every") {
		d, err := parseDuration(m.rotate)
		if err != nil {
			return u, usageError{err}
		}
		u.RotateEvery = &d
	}
	if f.Changed("expires") {
		t, err := parseDate(m.expires)
		if err != nil {
			return u, usageError{err}
		}
		u.Expires = &t
	}
	if f.Changed("rotator") {
		u.Rotator = &m.rotator
	}
	u.Describe = describeValue
	return u, nil
}

func (a *app) setCommand() *cobra.Command {
	var (
		meta metaFlags
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
			u, err := meta.update(cmd.Flags())
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
			if err != nil && len(args) == 1 && !gen && meta.changed(cmd.Flags()) {
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
	meta.add(cmd.Flags())
	cmd.Flags().BoolVar(&gen, "generate", false, "store a new random password (24 characters)")
	return cmd
}

func (a *app) editCommand() *cobra.Command {
	var meta metaFlags
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
			if !meta.changed(cmd.Flags()) {
				return usagef("nothing to change: give --note, --tag, --type, --rotate-every, --expires or --rotator (`hush set %s` changes the value)", name)
			}
			u, err := meta.update(cmd.Flags())
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
	meta.add(cmd.Flags())
	return cmd
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

func typeNames() string {
	s := make([]string, len(vault.Types))
	for i, t := range vault.Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
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
		return b, nil
	case len(args) == 1:
		// Whatever stderr is: the value was in every user's `ps` while
		// hush ran, and a script's log is where this should be seen.
		a.notef("warning: a value given as an argument is visible to every user's `ps` while hush runs, and stays in your shell history; use `hush set %s -` (stdin) or `hush set %s` (hidden prompt)", name, name)
		return []byte(args[0]), nil
	}
	return askHidden(fmt.Sprintf("Value for %s: ", name),
		usagef("no value for %s: give it as an argument, with - on stdin, or --generate (there is no terminal to ask on)", name),
		fmt.Errorf("empty value: nothing stored (use `printf '' | hush set %s -` for an empty secret)", name))
}

func (a *app) getCommand() *cobra.Command {
	var version int
	var theirs bool
	cmd := &cobra.Command{
		Use:   "get NAME",
		Short: "print a secret's value",
		Long: `Print a secret's value, byte for byte (a newline is added only on a terminal).
With --json: the value and its metadata; a value that is not UTF-8 text is
given as value_base64 instead of value.`,
		Args: exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 0 || cmd.Flags().Changed("version") && version == 0 {
				return usagef("--version must be 1 or more")
			}
			if err := vault.ValidName(args[0]); err != nil {
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
				a.teamFreshness(v)
				if conflict {
					a.notef("warning: %s is in conflict with a teammate's version; this is the one on this device (`hush get --theirs %s` shows theirs; `hush resolve %s --keep mine|theirs`)", s.Name, s.Name, s.Name)
				}
				if a.jsonOut {
					m := secretJSON(s, time.Now())
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
	ctx, cancel := context.WithTimeout(context.Background(), teamTimeout)
	defer cancel()
	t, err := client.Open(ctx, v)
	if err != nil {
		return err
	}
	th, err := t.Theirs(name)
	t.Close()
	if err != nil {
		return err
	}
	defer crypto.Wipe(th.Value)
	who := th.Author
	if th.Member != "" && th.Member != th.Author {
		who = th.Member + " on " + th.Author
	}
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
		Use:   "ls [FOLDER]",
		Short: "list secrets: names, types, ages and flags, never values",
		Args:  rangeArgs(0, 1, "FOLDER"),
		RunE: func(cmd *cobra.Command, args []string) error {
			folder := ""
			if len(args) == 1 {
				f, err := vault.CleanFolder(args[0])
				if err != nil {
					return err
				}
				folder = f
			}
			return a.withVault(func(v *vault.Vault) error {
				listed, err := v.ListWithPolicies(folder)
				if err != nil {
					return err
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
						out = append(out, m)
					}
					return a.writeJSON(out)
				}
				if len(entries) == 0 && len(vault.RemovedInConflict(entries, conflicts, folder)) == 0 {
					if folder == "" {
						a.notef("the vault is empty: add a secret with `hush set NAME`")
					} else {
						a.notef("no secrets in %s", folder)
					}
					return nil
				}
				w := a.newTable()
				fmt.Fprintln(w, "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tABOUT")
				for _, e := range entries {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", e.Name, e.Type, e.Version, age(e.Updated, now), strings.Join(entryFlags(e, conflicts, now), ","), e.Summary)
				}
				// Removed here while a teammate changed them: listed, so the
				// conflict is not out of sight.
				for _, name := range vault.RemovedInConflict(entries, conflicts, folder) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", name, "-", "-", "-", "conflict", "removed here, changed by a teammate")
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "include revoked secrets")
	return cmd
}

func (a *app) rmCommand() *cobra.Command {
	var purge, yes bool
	cmd := &cobra.Command{
		Use:   "rm NAME...",
		Short: "remove secrets (history is kept until --purge)",
		Args:  rangeArgs(1, 1<<20, "NAME"),
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

// validNames checks names before anything asks for a passphrase.
func validNames(names ...string) error {
	for _, n := range names {
		if err := vault.ValidName(n); err != nil {
			return err
		}
	}
	return nil
}

// entryFlags is flags plus "conflict" for a secret a sync left in conflict.
func entryFlags(e vault.Entry, conflicts map[string]string, now time.Time) []string {
	f := flags(e.Meta, e.Updated, now)
	if _, ok := conflicts[e.ID]; ok {
		f = append(f, "conflict")
	}
	return f
}
