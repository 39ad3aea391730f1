package dynamic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/vault"
)

// CleanupTimeout bounds a cleanup or a revocation as a whole.
const CleanupTimeout = 2 * time.Minute

// SourceRow is a dynamic source as `dynamic ls` shows it: its server
// without the password.
type SourceRow struct {
	Name     string `json:"name"`
	Server   string `json:"server"`
	TTL      string `json:"ttl"`
	Template string `json:"template"`
	Leases   int    `json:"leases"`
	Updated  string `json:"updated"`
}

// SourceRows are the vault's dynamic sources as rows.
func (m *Manager) SourceRows() ([]SourceRow, error) {
	sources, err := m.Sources()
	if err != nil {
		return nil, err
	}
	out := []SourceRow{}
	for _, e := range sources {
		out = append(out, SourceRow{Name: e.Name, Server: e.Summary, TTL: vault.FormatInterval(e.Dynamic.TTL),
			Template: e.Dynamic.Template, Leases: e.Leases, Updated: jsonout.Time(e.Updated)})
	}
	return out, nil
}

// LeaseRow is a lease as `dynamic leases --json` shows it: never a
// password.
type LeaseRow struct {
	Source    string `json:"source"`
	Role      string `json:"role"`
	Server    string `json:"server"`
	State     string `json:"state"`
	Created   string `json:"created"`
	Expires   string `json:"expires"`
	Host      string `json:"host"`
	PID       int    `json:"pid"`
	LeftOver  bool   `json:"left_over"`
	Why       string `json:"why"`
	LastError string `json:"last_error,omitempty"`
}

// LeaseRows are leases as rows.
func LeaseRows(leases []LeaseInfo) []LeaseRow {
	out := make([]LeaseRow, 0, len(leases))
	for _, l := range leases {
		out = append(out, LeaseRow{Source: l.Source, Role: l.Role, Server: l.Server, State: string(l.State),
			Created: jsonout.Time(l.Created), Expires: jsonout.Time(l.Expires), Host: l.Host, PID: l.PID,
			LeftOver: l.LeftOver, Why: l.Why, LastError: l.LastError})
	}
	return out
}

// Revoke drops the logins made from source now, even those of programs
// still running: the one of login role, or all of them when role is "".
func (m *Manager) Revoke(ctx context.Context, source, role string) ([]Outcome, error) {
	return m.Cleanup(ctx, func(l *vault.Lease) (bool, string) {
		return l.Source == source && (role == "" || l.Role == role), "revoked by hand"
	})
}

// String says what happened to the lease, for a person.
func (o Outcome) String() string {
	if o.Err != nil {
		return fmt.Sprintf("could not drop %s of %s (%s): %v", o.Lease.Role, o.Lease.Source, o.Reason, o.Err)
	}
	return fmt.Sprintf("dropped %s of %s (%s)", o.Lease.Role, o.Lease.Source, o.Reason)
}

// WriteSources writes sources as `dynamic ls` shows them.
func WriteSources(out io.Writer, sources []SourceRow) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "NAME\tSERVER\tTTL\tLEASES\tTEMPLATE")
	for _, s := range sources {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", s.Name, s.Server, s.TTL, s.Leases, human.Shorten(human.OneLine(s.Template), 60))
	}
	return w.Flush()
}

// WriteLeases writes leases as `dynamic leases` shows them: each one's
// state, why it is left over, and its last error.
func WriteLeases(out io.Writer, leases []LeaseInfo, now time.Time) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "SOURCE\tROLE\tCREATED\tEXPIRES\tSTATE")
	for _, l := range leases {
		state := string(l.State) + ", " + l.Why
		if l.LeftOver {
			state = string(l.State) + ", left over: " + l.Why
		}
		if l.LastError != "" {
			state += "; last error: " + human.Shorten(l.LastError, 80)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", l.Source, l.Role, l.Created.Local().Format("2006-01-02 15:04:05"),
			human.Expiry(l.Expires, now), state)
	}
	return w.Flush()
}

// CleanupLeftOver is `dynamic leases --cleanup`: it drops the logins of
// the left-over leases, says what happened to each (or that there were
// none), and fails when some could not be dropped.
func (m *Manager) CleanupLeftOver(notef func(format string, args ...any)) error {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	out, err := m.Cleanup(ctx, nil)
	if err != nil {
		return err
	}
	failed := Report(out, notef)
	if len(out) == 0 {
		notef("no left-over leases")
	}
	if failed > 0 {
		return fmt.Errorf("%s could not be dropped; they stay recorded: run `hush dynamic leases --cleanup` again once the database is reachable", human.Count(failed, "login"))
	}
	return nil
}

// RevokeLogins is `dynamic revoke`: Revoke, saying what happened to each
// login (or that source has none), failing when role names no lease of it
// or some could not be dropped.
func (m *Manager) RevokeLogins(source, role string, notef func(format string, args ...any)) error {
	ctx, cancel := context.WithTimeout(context.Background(), CleanupTimeout)
	defer cancel()
	out, err := m.Revoke(ctx, source, role)
	if err != nil {
		return err
	}
	if len(out) == 0 {
		if role != "" {
			return fmt.Errorf("no lease %s of %s: `hush dynamic leases` lists them", role, source)
		}
		notef("no leases of %s", source)
		return nil
	}
	if failed := Report(out, notef); failed > 0 {
		return fmt.Errorf("%s could not be dropped; they stay recorded", human.Count(failed, "login"))
	}
	return nil
}

// ForgetLease is `dynamic forget`: Forget, and what to tell the person
// (the login may still exist: how to drop it by hand).
func (m *Manager) ForgetLease(role string) (string, error) {
	l, err := m.Forget(role)
	if errors.Is(err, vault.ErrNotFound) {
		return "", fmt.Errorf("no lease %s: `hush dynamic leases` lists them", role)
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("forgot lease %s of %s at %s; if the login still exists, drop it yourself: DROP ROLE \"%s\"", l.Role, l.Source, l.Server, l.Role), nil
}

// Report says what each outcome of a cleanup or a revocation was, one
// line each, and returns how many logins could not be dropped.
func Report(out []Outcome, notef func(format string, args ...any)) (failed int) {
	for _, o := range out {
		if o.Err != nil {
			failed++
		}
		notef("%s", o)
	}
	return failed
}
