package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) setCommand() *cobra.Command {
	var (
		typ, note, rotate, expires, rotator string
		tags                                []string
		gen                                 bool
	)
	cmd := &cobra.Command{
		Use:   "set NAME [VALUE|-]",
		Short: "create or update a secret",
		Long: `Create a secret, or add a new version of an existing one.

The value comes from the argument, from stdin with "-" (kept byte for byte,
newlines included), from --generate, or from a hidden prompt on the terminal.
A value given as an argument is visible in shell history and to ps: prefer
"-" or the prompt. Flags not given keep what the secret had.`,
		Example: `  hush set app/prod/DATABASE_URL
  hush set app/prod/TLS_CERT --type certificate - < cert.pem
  hush set app/prod/STRIPE_KEY --type api-key --rotate-every 30d
  hush set app/dev/SESSION_SECRET --generate`,
		Args: rangeArgs(1, 2, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := vault.ValidName(name); err != nil {
				return err
			}
			var u vault.Update
			if cmd.Flags().Changed("type") {
				t, err := vault.ParseType(typ)
				if err != nil {
					return usageError{err}
				}
				u.Type = &t
			}
			if cmd.Flags().Changed("note") {
				u.Note = &note
			}
			if cmd.Flags().Changed("tag") {
				clean := []string{}
				for _, t := range tags {
					if t = strings.TrimSpace(t); t != "" {
						clean = append(clean, t)
					}
				}
				u.Tags = &clean
			}
			if cmd.Flags().Changed("rotate-every") {
				d, err := parseDuration(rotate)
				if err != nil {
					return usageError{err}
				}
				u.RotateEvery = &d
			}
			if cmd.Flags().Changed("expires") {
				t, err := parseDate(expires)
				if err != nil {
					return usageError{err}
				}
				u.Expires = &t
			}
			if cmd.Flags().Changed("rotator") {
				u.Rotator = &rotator
			}
			u.Describe = describeValue
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
			if err != nil {
				return err
			}
			defer crypto.Wipe(value)
			res, err := v.Set(name, value, u)
			a.record(v, "set", []string{name}, err)
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
	f := cmd.Flags()
	f.StringVar(&typ, "type", "", "kind of secret: "+typeNames())
	f.StringVar(&note, "note", "", "a note kept (encrypted) with the secret")
	f.StringSliceVar(&tags, "tag", nil, "tags (repeat or separate with commas)")
	f.StringVar(&rotate, "rotate-every", "", "rotation interval, e.g. 30d, 2w (0 for none)")
	f.StringVar(&expires, "expires", "", "expiry date, YYYY-MM-DD (never for none)")
	f.BoolVar(&gen, "generate", false, "store a new random password (24 characters)")
	f.StringVar(&rotator, "rotator", "", "a `COMMAND` that hush rotate runs: old value on stdin, new value on stdout")
	return cmd
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
		if a.stderrIsTerminal() {
			a.notef("note: a value given as an argument stays in your shell history; `hush set %s` asks for it hidden", name)
		}
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
			if version < 0 {
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
				if errors.Is(err, vault.ErrNotFound) && removedInConflict(v, args[0]) {
					return fmt.Errorf("secret %s is in conflict: removed here, changed by a teammate: `hush resolve %s --keep theirs` brings their version back, `--keep mine` removes it for the team", args[0], args[0])
				}
				if err != nil {
					return err
				}
				defer crypto.Wipe(s.Value)
				conflict, err := v.HasConflict(s.ID)
				if err != nil {
					return err
				}
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
				// Damaged secrets are listed as such, and ls fails.
				listed, listErr := v.ListWithPolicies(folder)
				var damaged *vault.DamagedError
				if listErr != nil && !errors.As(listErr, &damaged) {
					return listErr
				}
				var broken []vault.Damaged
				if damaged != nil {
					broken = damaged.Secrets
				}
				conflicts, err := v.Conflicts()
				if err != nil {
					return err
				}
				var entries []vault.Entry
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
					for _, d := range broken {
						out = append(out, map[string]any{"name": d.Name, "flags": []string{"damaged"}, "damaged": d.Why})
					}
					if err := a.writeJSON(out); err != nil {
						return err
					}
					return listErr
				}
				if len(entries) == 0 && len(broken) == 0 && len(removedConflicts(entries, conflicts, folder)) == 0 {
					if folder == "" {
						a.notef("the vault is empty: add a secret with `hush set NAME`")
					} else {
						a.notef("no secrets in %s", folder)
					}
					return nil
				}
				w := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
				fmt.Fprintln(w, "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tABOUT")
				for _, e := range entries {
					fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\n", e.Name, e.Type, e.Version, age(e.Updated, now), strings.Join(entryFlags(e, conflicts, now), ","), e.Summary)
				}
				// Removed here while a teammate changed them: listed, so the
				// conflict is not out of sight.
				for _, name := range removedConflicts(entries, conflicts, folder) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", name, "-", "-", "-", "conflict", "removed here, changed by a teammate")
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
	var purge bool
	cmd := &cobra.Command{
		Use:   "rm NAME...",
		Short: "remove secrets (history is kept until --purge)",
		Args:  rangeArgs(1, 1<<20, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := validNames(args...); err != nil {
				return err
			}
			return a.audited(map[bool]string{true: "purge", false: "rm"}[purge], args, func(v *vault.Vault) error {
				for _, n := range args {
					if purge {
						if err := v.Purge(n); err != nil {
							return err
						}
						a.notef("purged %s and its history", n)
						continue
					}
					if err := v.Remove(n); err != nil {
						return err
					}
					a.notef("removed %s (history kept: `hush rm --purge %s` deletes it for good)", n, n)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&purge, "purge", false, "delete every version for good")
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

// removedConflicts are the conflicted names in folder that the listing
// does not show because they were removed here.
func removedConflicts(entries []vault.Entry, conflicts map[string]string, folder string) []string {
	listed := map[string]bool{}
	for _, e := range entries {
		listed[e.ID] = true
	}
	var out []string
	for id, name := range conflicts {
		if !listed[id] && (folder == "" || strings.HasPrefix(name, folder+"/")) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// removedInConflict reports whether name is a secret removed here that a
// teammate changed.
func removedInConflict(v *vault.Vault, name string) bool {
	cs, err := v.Conflicts()
	if err != nil {
		return false
	}
	for _, n := range cs {
		if n == name {
			return true
		}
	}
	return false
}
