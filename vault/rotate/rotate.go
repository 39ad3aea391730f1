// Package rotate gives secrets new values: a generated password, or what a
// rotator command prints, and, for `hush rotate --due`, every overdue
// secret that has a rotator. The command line and the terminal UI both
// call it.
//
// A rotator is run with `sh -c`, the old value on its stdin and the
// secret's name in HUSH_ROTATE_NAME, in a process group of its own that is
// killed whole when it outlives its time: no orphan keeps running, or
// holds hush's pipes. It never inherits hush's passphrase variables. Its
// new value is written only when it exits 0 and prints something; any
// other end changes nothing.
package rotate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// Timeout is how long a rotator may run unless told otherwise: a hung
// script must not hang cron.
const Timeout = 60 * time.Second

// ErrNoRotator means a secret has no rotator and none was given.
var ErrNoRotator = errors.New("no rotator")

// Options say how to rotate.
type Options struct {
	Generate bool          // a new random password instead of a rotator
	With     string        // run this rotator, and keep it for next time
	Timeout  time.Duration // zero: Timeout
	// Environ is the environment a rotator starts from (KEY=VALUE); hush's
	// passphrase variables and HUSH_ROTATE_NAME are taken out of it.
	Environ []string
	Stderr  io.Writer // the rotator's stderr; nil discards it
	// Describe reads what a new value is (see vault.Update.Describe).
	Describe func(vault.Type, []byte) (string, time.Time, error)
}

// Rotate writes a new version of name: generated, from o.With, or from
// the rotator kept with the secret. A revoked secret is exactly the one to
// rotate: its rotator gets the revoked value. A rotation that gives the
// current value again is refused, and so is a name with no live secret
// ([vault.ErrNotFound]): rotating never creates.
func Rotate(v *vault.Vault, name string, o Options) (vault.SetResult, error) {
	// The rotation's audit entry goes in with the new value (a rotation
	// of many secrets is one entry each).
	v.Intend("rotate", []string{name})
	u := vault.Update{Describe: o.Describe}
	var value []byte
	if o.Generate {
		r, err := generate.New(generate.Options{})
		if err != nil {
			return vault.SetResult{}, err
		}
		value = r.Value
	} else {
		cur, err := v.GetVersion(name, 0)
		var re *vault.RevokedError
		if errors.As(err, &re) {
			// A revocation is a version of its own with the same value
			// and rotator: the rotator is given the leaked value from the
			// version before it (the current one is refused: rotating
			// a revoked secret failed with "set a new value (hush set or
			// hush rotate)", outside attack attack26 N4).
			h, _, herr := v.History(name)
			if herr != nil {
				return vault.SetResult{}, herr
			}
			before := 0
			for _, vi := range h {
				if !vi.Current && vi.Version > before {
					before = vi.Version
				}
			}
			if before > 0 {
				cur, err = v.GetVersion(name, before)
			}
		}
		if err != nil {
			return vault.SetResult{}, err
		}
		defer crypto.Wipe(cur.Value)
		command := o.With
		if command == "" {
			command = cur.Rotator
		}
		if command == "" {
			return vault.SetResult{}, fmt.Errorf("%s has %w", name, ErrNoRotator)
		}
		if value, err = Run(name, command, cur.Value, o); err != nil {
			return vault.SetResult{}, err
		}
		if o.With != "" {
			u.Rotator = &o.With
		}
	}
	defer crypto.Wipe(value)
	out, err := v.SetMany([]vault.SetRequest{{Name: name, Value: value, Existing: true, Update: u}}, time.Time{})
	var res vault.SetResult
	if err == nil {
		res = out[0]
	} else if !o.Generate {
		// The rotator ran: the source may hold the new credential now,
		// and this process is the only place it was. It is neither kept
		// nor printed (a secret on a terminal or in a log is a leak), so
		// say where it has to come from.
		return res, fmt.Errorf("%w\nthe rotator for %s ran, so its source may already use the new value, which hush could not store and did not keep: get it from the source (or reset it there) and store it with `hush set %s`", err, name, name)
	}
	if err == nil && !res.Changed {
		return res, fmt.Errorf("%s unchanged: the new value is the current one, so nothing was rotated", name)
	}
	return res, err
}

// Run runs a rotator with the old value on stdin and returns what it
// printed, without one final newline. It fails, changing nothing, when the
// command fails, times out or prints nothing.
func Run(name, command string, old []byte, o Options) ([]byte, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = Timeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := shellCommand(ctx, command)
	cmd.Stdin = bytes.NewReader(old)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: vault.MaxValueSize + 1}
	cmd.Stderr = o.Stderr
	cmd.WaitDelay = time.Second
	cmd.Env = append([]string{"HUSH_ROTATE_NAME=" + name}, slices.DeleteFunc(unlock.Scrub(o.Environ), func(kv string) bool {
		return strings.HasPrefix(kv, "HUSH_ROTATE_NAME=")
	})...)
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

// limitedWriter keeps the first n bytes and drains the rest, so that the
// rotator is not killed by a full pipe.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n <= 0 {
		return len(p), nil
	}
	k := min(len(p), l.n)
	l.n -= k
	l.w.Write(p[:k])
	return len(p), nil
}

// Outcome is what [Due] did with one overdue secret.
type Outcome struct {
	Name      string
	Version   int   // the new version, when rotated
	NoRotator bool  // overdue, but nothing to run: rotate it by hand
	Err       error // the rotation failed; nothing changed
}

// Due rotates every secret whose rotation is overdue and that has a
// rotator, one after another, and tells done of each overdue secret.
func Due(v *vault.Vault, o Options, done func(Outcome)) error {
	entries, err := v.ListWithPolicies("")
	if err != nil {
		return err
	}
	rotators := map[string]string{}
	for _, e := range entries {
		rotators[e.Name] = e.Rotator
	}
	for _, it := range vault.Due(entries, time.Now(), 0, 0) {
		if it.What != "rotation" || !it.Overdue {
			continue
		}
		if rotators[it.Name] == "" {
			done(Outcome{Name: it.Name, NoRotator: true})
			continue
		}
		o := o
		o.Generate, o.With = false, ""
		res, err := Rotate(v, it.Name, o)
		done(Outcome{Name: it.Name, Version: res.Version, Err: err})
	}
	return nil
}

// DueRecorded is `rotate --due` for a front end: [Due], with each
// rotation written to the audit log by record (an entry that cannot be
// written fails its rotation), what happened to each overdue secret and
// then the summary told; it fails when a rotation failed.
func DueRecorded(v *vault.Vault, o Options, record func(v *vault.Vault, action string, names []string, result error) error, tell func(string)) error {
	var tally Tally
	err := Due(v, o, func(out Outcome) {
		if !out.NoRotator {
			if rerr := record(v, "rotate", []string{out.Name}, out.Err); out.Err == nil && rerr != nil {
				out.Err = rerr
			}
		}
		tell(tally.Add(out))
	})
	if err != nil {
		return err
	}
	tell(tally.Summary())
	return tally.Err()
}

// Tally counts what [Due] did, for the words a front end shows.
type Tally struct{ Done, Failed, NoRotator int }

// Add counts o and says what happened to its secret.
func (t *Tally) Add(o Outcome) string {
	switch {
	case o.NoRotator:
		t.NoRotator++
		return o.Name + ": overdue, but has no rotator (rotate it by hand)"
	case o.Err != nil:
		t.Failed++
		return fmt.Sprintf("%s: %v", o.Name, o.Err)
	}
	t.Done++
	return fmt.Sprintf("%s: rotated (version %d)", o.Name, o.Version)
}

// Summary is the line after the last secret.
func (t *Tally) Summary() string {
	return fmt.Sprintf("rotated %d, failed %d, without a rotator %d", t.Done, t.Failed, t.NoRotator)
}

// Err fails `rotate --due` when any rotation failed.
func (t *Tally) Err() error {
	if t.Failed > 0 {
		return fmt.Errorf("%d rotations failed", t.Failed)
	}
	return nil
}
