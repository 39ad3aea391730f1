package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/vault"
)

// certWarning is how long before a certificate's end `due` and `ls` warn.
const certWarning = 30 * 24 * time.Hour

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
				return usagef("missing --reason: say why, e.g. --reason \"leaked in a CI log\"")
			}
			if err := validNames(args[0]); err != nil {
				return err
			}
			return a.audited("revoke", args[:1], func(v *vault.Vault) error {
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

// dueItem is one thing that needs attention.
type dueItem struct {
	Name    string    `json:"name"`
	What    string    `json:"what"`             // rotation, expiry, certificate
	Reason  string    `json:"reason,omitempty"` // why, when it is not the schedule
	When    time.Time `json:"-"`
	WhenStr string    `json:"when"`
	Overdue bool      `json:"overdue"`
}

// dueItems lists what is overdue, or due within d.
func dueItems(entries []vault.Entry, now time.Time, within, certWithin time.Duration) []dueItem {
	var out []dueItem
	add := func(name, what string, t time.Time, window time.Duration) {
		if t.IsZero() || t.After(now.Add(window)) {
			return
		}
		out = append(out, dueItem{Name: name, What: what, When: t, WhenStr: jsonTime(t), Overdue: !t.After(now)})
	}
	for _, e := range entries {
		if e.Revoked != nil {
			continue
		}
		if e.Exposed != nil {
			// Someone who could read it left the team: due since then.
			out = append(out, dueItem{Name: e.Name, What: "rotation", Reason: e.Exposed.Reason, When: e.Exposed.At, WhenStr: jsonTime(e.Exposed.At), Overdue: true})
		} else if e.RotateEvery > 0 {
			add(e.Name, "rotation", e.Updated.Add(e.RotateEvery), within)
		}
		add(e.Name, "expiry", e.Expires, within)
		add(e.Name, "certificate end", e.NotAfter, max(within, certWithin))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].When.Before(out[j].When) })
	return out
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
				return usageError{err}
			}
			cw, err := parseDuration(certWithin)
			if err != nil {
				return usageError{err}
			}
			folder := ""
			if len(args) == 1 {
				folder = args[0]
			}
			return a.withVault(func(v *vault.Vault) error {
				entries, err := listWithPolicies(v, folder)
				if err != nil {
					return err
				}
				now := time.Now()
				items := dueItems(entries, now, w, cw)
				overdue := 0
				for _, it := range items {
					if it.Overdue {
						overdue++
					}
				}
				if a.jsonOut {
					if err := a.writeJSON(nonNilSlice(items)); err != nil {
						return err
					}
				} else if len(items) == 0 {
					a.notef("nothing is due within %s", formatDuration(w))
				} else {
					tw := tabwriter.NewWriter(a.stdout, 2, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "NAME\tDUE\tWHEN\t")
					for _, it := range items {
						state := "due " + dueWhen(it.When, now)
						if it.Overdue {
							state = "OVERDUE since " + dueWhen(it.When, now)
						}
						what := it.What
						if it.Reason != "" {
							what += " (" + it.Reason + ")"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t\n", it.Name, what, state)
					}
					tw.Flush()
				}
				if overdue > 0 {
					return fmt.Errorf("%d overdue: rotate with `hush rotate NAME`, or `hush rotate --due` for those with a rotator", overdue)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&within, "within", "14d", "also list what falls due within this time")
	cmd.Flags().StringVar(&certWithin, "cert-warning", "30d", "warn this long before a certificate ends")
	return cmd
}

// rotatorTimeout bounds a rotator: a hung script must not hang cron.
const rotatorTimeout = 60 * time.Second

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
					return usagef("--due rotates every overdue secret: give no NAME, --generate or --with")
				}
				return nil
			}
			if gen && with != "" {
				return usagef("give --generate or --with, not both")
			}
			return exactArgs("NAME")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usagef("--timeout must be positive")
			}
			if due {
				return a.rotateDue(timeout)
			}
			if err := validNames(args[0]); err != nil {
				return err
			}
			return a.audited("rotate", args[:1], func(v *vault.Vault) error {
				res, err := a.rotate(v, args[0], gen, with, timeout)
				if err != nil {
					return err
				}
				a.notef("rotated %s (version %d)", args[0], res.Version)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&gen, "generate", false, "a new random password")
	f.StringVar(&with, "with", "", "a rotator `COMMAND`: old value on stdin, new value on stdout")
	f.BoolVar(&due, "due", false, "rotate every overdue secret that has a rotator")
	f.DurationVar(&timeout, "timeout", rotatorTimeout, "how long a rotator may run")
	return cmd
}

// rotate writes a new version of name from the generator or a rotator.
func (a *app) rotate(v *vault.Vault, name string, gen bool, with string, timeout time.Duration) (vault.SetResult, error) {
	var u vault.Update
	u.Describe = describeValue
	var value []byte
	switch {
	case gen:
		r, err := generate.New(generate.Options{})
		if err != nil {
			return vault.SetResult{}, err
		}
		value = r.Value
	default:
		cur, err := v.GetVersion(name, 0)
		var re *vault.RevokedError
		if errors.As(err, &re) {
			// A revoked secret is exactly the one to rotate: take its value
			// from the version that holds it.
			h, _, herr := v.History(name)
			if herr != nil {
				return vault.SetResult{}, herr
			}
			cur, err = v.GetVersion(name, h[len(h)-1].Version)
		}
		if err != nil {
			return vault.SetResult{}, err
		}
		defer crypto.Wipe(cur.Value)
		command := with
		if command == "" {
			command = cur.Rotator
		}
		if command == "" {
			return vault.SetResult{}, usagef("%s has no rotator: give --generate, or --with COMMAND (it is kept for next time)", name)
		}
		value, err = a.runRotator(name, command, cur.Value, timeout)
		if err != nil {
			return vault.SetResult{}, err
		}
		if with != "" {
			u.Rotator = &with
		}
	}
	defer crypto.Wipe(value)
	res, err := v.Set(name, value, u)
	if err == nil && !res.Changed {
		return res, fmt.Errorf("%s unchanged: the new value is the current one, so nothing was rotated", name)
	}
	return res, err
}

// runRotator runs command with the old value on stdin and returns what it
// printed, without one final newline. It fails, changing nothing, when the
// command fails, times out or prints nothing.
func (a *app) runRotator(name, command string, old []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", command)
	cmd.Stdin = bytes.NewReader(old)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: vault.MaxValueSize + 1}
	cmd.Stderr = a.stderr
	// The rotator and everything it starts form one process group, killed
	// together on a timeout: no orphan keeps running (or holds our pipes).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	env := []string{"HUSH_ROTATE_NAME=" + name}
	for k, v := range a.env {
		if k != "HUSH_PASSPHRASE" && k != "HUSH_NEW_PASSPHRASE" && k != "HUSH_ROTATE_NAME" {
			env = append(env, k+"="+v)
		}
	}
	cmd.Env = env
	err := cmd.Run()
	value := out.Bytes()
	switch {
	case ctx.Err() != nil:
		crypto.Wipe(value)
		return nil, fmt.Errorf("rotator for %s did not finish within %s: nothing changed", name, timeout)
	case err != nil:
		crypto.Wipe(value)
		return nil, fmt.Errorf("rotator for %s failed (%v): nothing changed", name, err)
	case out.Len() > vault.MaxValueSize:
		crypto.Wipe(value)
		return nil, fmt.Errorf("rotator for %s printed more than %d bytes: nothing changed", name, vault.MaxValueSize)
	}
	value = bytes.TrimSuffix(value, []byte("\n"))
	value = bytes.TrimSuffix(value, []byte("\r"))
	if len(value) == 0 {
		return nil, fmt.Errorf("rotator for %s printed nothing: nothing changed", name)
	}
	return value, nil
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil // keep draining, so the rotator is not killed by a full pipe
	}
	k := min(len(p), l.n)
	l.n -= k
	l.w.Write(p[:k])
	return len(p), nil
}

// rotateDue rotates every overdue secret that has a rotator.
func (a *app) rotateDue(timeout time.Duration) error {
	return a.withVault(func(v *vault.Vault) error {
		entries, err := listWithPolicies(v, "")
		if err != nil {
			return err
		}
		now := time.Now()
		failed, done, skipped := 0, 0, 0
		for _, it := range dueItems(entries, now, 0, 0) {
			if it.What != "rotation" || !it.Overdue {
				continue
			}
			var e vault.Entry
			for _, x := range entries {
				if x.Name == it.Name {
					e = x
				}
			}
			if e.Rotator == "" {
				skipped++
				a.notef("%s: overdue, but has no rotator (rotate it by hand)", it.Name)
				continue
			}
			res, err := a.rotate(v, it.Name, false, "", timeout)
			a.record(v, "rotate", []string{it.Name}, err)
			if err != nil {
				failed++
				a.notef("%s: %v", it.Name, err)
				continue
			}
			done++
			a.notef("%s: rotated (version %d)", it.Name, res.Version)
		}
		a.notef("rotated %d, failed %d, without a rotator %d", done, failed, skipped)
		if failed > 0 {
			return fmt.Errorf("%d rotations failed", failed)
		}
		return nil
	})
}

// dueWhen prints a date with its distance from now.
func dueWhen(t, now time.Time) string {
	if t.After(now) {
		return t.Local().Format("2006-01-02") + " (in " + strings.TrimSuffix(age(now, t), " ago") + ")"
	}
	return t.Local().Format("2006-01-02") + " (" + age(t, now) + ")"
}

// listWithPolicies lists folder with each secret's rotation interval
// inherited from its folder's policy when it has none of its own.
// A [*vault.DamagedError] comes back with the entries that could be read.
func listWithPolicies(v *vault.Vault, folder string) ([]vault.Entry, error) {
	entries, listErr := v.List(folder)
	var damaged *vault.DamagedError
	if listErr != nil && !errors.As(listErr, &damaged) {
		return nil, listErr
	}
	ps, err := v.Policies()
	if err != nil {
		return nil, err
	}
	for i := range entries {
		vault.Inherit(&entries[i].Meta, entries[i].Name, ps)
	}
	return entries, listErr
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
				return usagef("give a FOLDER and --rotate-every together, or neither to list the policies")
			}
			return a.withVault(func(v *vault.Vault) error {
				if len(args) == 1 {
					d, err := parseDuration(rotate)
					if err != nil {
						return usageError{err}
					}
					if err := v.SetPolicy(args[0], d); err != nil {
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
					out := make([]map[string]string, 0, len(ps))
					for _, p := range ps {
						out = append(out, map[string]string{"folder": p.Folder, "rotate_every": formatDuration(p.RotateEvery)})
					}
					return a.writeJSON(out)
				}
				if len(ps) == 0 {
					a.notef("no folder policies: `hush policy FOLDER --rotate-every 90d` sets one")
				}
				for _, p := range ps {
					a.printf("%s\trotate every %s\n", displayFolder(p.Folder), formatDuration(p.RotateEvery))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&rotate, "rotate-every", "", "the folder's rotation interval, e.g. 90d (0 removes it)")
	return cmd
}
