package main

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) historyCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "list a secret's versions (removed secrets too)",
		Args:  exactArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := validNames(name); err != nil {
				return err
			}
			return a.withVault(func(v *vault.Vault) error {
				hist, cur, err := v.History(name)
				if err != nil {
					return err
				}
				bad, err := v.DamagedValues(name)
				if err != nil {
					return err
				}
				damaged := damagedErr(name, hist, bad)
				if a.jsonOut {
					out := make([]map[string]any, 0, len(hist))
					for _, h := range hist {
						e := map[string]any{"version": h.Version, "name": h.Name, "type": h.Type, "note": h.Note,
							"size": h.Size, "created": jsonout.Time(h.Created), "current": h.Current}
						if slices.Contains(bad, h.Version) {
							e["damaged"] = damagedValue
						}
						out = append(out, e)
					}
					if err := a.writeJSON(map[string]any{"name": name, "removed": !cur.Deleted.IsZero(), "versions": out}); err != nil {
						return err
					}
					return damaged
				}
				now := time.Now()
				w := a.newTable()
				fmt.Fprintln(w, "VERSION\tCREATED\tTYPE\tSIZE\tSTATE\tNOTE")
				for _, h := range hist {
					state := ""
					if h.Name != name {
						state = "named " + h.Name
					}
					if h.Current {
						state = join(state, "current")
					}
					if slices.Contains(bad, h.Version) {
						state = join(state, "damaged: "+damagedValue)
					}
					if state == "" {
						state = "-"
					}
					fmt.Fprintf(w, "%d\t%s (%s)\t%s\t%s\t%s\t%s\n", h.Version, h.Created.Local().Format("2006-01-02 15:04"), age(h.Created, now), h.Type, size(h.Size), state, noteCell(h.Note, 60))
				}
				if err := w.Flush(); err != nil {
					return err
				}
				if !cur.Deleted.IsZero() {
					a.notef("%s was removed %s; `hush rollback %s --to N` restores a version", name, age(cur.Deleted, now), name)
				}
				return damaged
			})
		},
	}
}

// damagedValue is what history says of a version whose value does not
// authenticate; its size is what is stored, not what was set.
const damagedValue = "its value does not authenticate"

// damagedErr is history's failure when some versions' values are damaged:
// the table is shown, and the command fails, saying what can be done.
func damagedErr(name string, hist []vault.VersionInfo, bad []int) error {
	if len(bad) == 0 {
		return nil
	}
	vs := make([]string, len(bad))
	for i, n := range bad {
		vs[i] = strconv.Itoa(n)
	}
	what := fmt.Sprintf("version %s of %s is damaged: its value does not authenticate", vs[0], name)
	if len(bad) > 1 {
		what = fmt.Sprintf("versions %s of %s are damaged: their values do not authenticate", strings.Join(vs, ", "), name)
	}
	fix := "restore the vault file from a backup"
	for i := len(hist) - 1; i >= 0; i-- {
		if h := hist[i]; !slices.Contains(bad, h.Version) {
			if h.Current {
				fix = "the current value is intact; only a backup of the vault file brings the damaged ones back"
			} else {
				// --with-metadata: a value-only rollback compares with the
				// current value, which is damaged.
				fix = fmt.Sprintf("`hush rollback %s --to %d --with-metadata` restores the newest intact version, or %s", name, h.Version, fix)
			}
			break
		}
	}
	return fmt.Errorf("%w: %s; %s", vault.ErrTampered, what, fix)
}

// noteCell is a note as a table cell: its first line, cut to max runes.
func noteCell(s string, max int) string {
	s, _, more := strings.Cut(s, "\n")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	if more {
		return s + " …"
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

func size(n int) string {
	switch {
	case n < 1024:
		return strconv.Itoa(n) + " B"
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
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
				return usagef("missing --to N: the version to restore (see `hush history %s`)", args[0])
			}
			if to < 1 {
				return usagef("--to must be 1 or more")
			}
			if err := validNames(args[0]); err != nil {
				return err
			}
			return a.audited("rollback", args[:1], func(v *vault.Vault) error {
				rb := v.RollbackValue
				if withMeta {
					rb = v.Rollback
				}
				res, err := rb(args[0], to)
				if errors.Is(err, vault.ErrCurrentVersion) {
					return usagef("version %d is the current one of %s: nothing to restore (see `hush history %s`)", to, args[0], args[0])
				}
				if err != nil {
					return a.didYouMean(v, args[0], err)
				}
				if !res.Changed {
					a.notef("%s already holds the value of version %d (version %d): nothing restored", args[0], to, res.Version)
					return nil
				}
				what := "the value of version %d"
				if withMeta {
					what = "version %d with its metadata"
				}
				a.notef("restored %s as version %d", fmt.Sprintf(what, to), res.Version)
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the version `N` to restore")
	cmd.Flags().BoolVar(&withMeta, "with-metadata", false, "also restore version N's note, tags, type, rotation and expiry")
	return cmd
}
