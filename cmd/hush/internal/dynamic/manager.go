package dynamic

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// DropTimeout bounds the dropping of one login (connect, terminate its
// sessions, drop) when the caller's context has no earlier deadline.
const DropTimeout = 15 * time.Second

// Source is a dynamic source read from the vault: an admin URL, the role
// template and the TTL of the logins made from it.
type Source struct {
	Name     string
	Template *Template
	TTL      time.Duration
	adminURL string
	pg       *Postgres
}

// NewSource reads a dynamic source from its secret. A secret of another
// type is refused.
func NewSource(s *vault.Secret) (*Source, error) {
	if s.Type != vault.TypeDynamicPostgres || s.Dynamic == nil {
		return nil, fmt.Errorf("secret %s is not a dynamic source (type %s): add one with `hush dynamic add`", s.Name, s.Type)
	}
	pg, err := NewPostgres(string(s.Value))
	if err != nil {
		return nil, fmt.Errorf("dynamic source %s: %w", s.Name, err)
	}
	t, err := ParseTemplate(s.Dynamic.Template)
	if err != nil {
		return nil, fmt.Errorf("dynamic source %s: %w", s.Name, err)
	}
	return &Source{Name: s.Name, Template: t, TTL: s.Dynamic.TTL, adminURL: string(s.Value), pg: pg}, nil
}

// Postgres is the source's server, through its admin URL.
func (s *Source) Postgres() *Postgres { return s.pg }

// Manager hands out leases and takes them back, keeping the vault's
// record of them true: a lease is recorded before its login is created and
// forgotten only after the login is dropped. It is used by one goroutine
// at a time, like the vault.
type Manager struct {
	store *vault.Vault

	// ConnectTimeout bounds each connection (zero: DefaultConnectTimeout).
	ConnectTimeout time.Duration
	// Record, when set, is told of every lease made, dropped or that
	// failed: the audit log. names are the source and the login; detail
	// is never secret.
	Record func(action string, names []string, detail string, err error)
	host   string
	pid    int
	start  uint64
}

// NewManager returns a Manager recording its leases in the unlocked vault
// v, on behalf of this process.
func NewManager(store *vault.Vault) *Manager {
	host, _ := os.Hostname()
	pid := os.Getpid()
	start, _ := processStart(pid)
	return &Manager{store: store, host: host, pid: pid, start: start}
}

// Audited is a Manager on v that writes every lease made, dropped or
// failed to v's audit log. An entry that cannot be written is said with
// notef: the login is made or dropped all the same.
func Audited(v *vault.Vault, notef func(format string, args ...any)) *Manager {
	m := NewManager(v)
	m.Record = func(action string, names []string, detail string, result error) {
		if err := v.RecordDetail(action, names, detail, result); err != nil {
			notef("note: the audit log could not be written: %v", err)
		}
	}
	return m
}

func (m *Manager) record(action string, names []string, detail string, err error) {
	if m.Record != nil {
		m.Record(action, names, detail, err)
	}
}

func (m *Manager) postgres(adminURL string) (*Postgres, error) {
	pg, err := NewPostgres(adminURL)
	if err != nil {
		return nil, err
	}
	if m.ConnectTimeout > 0 {
		pg.ConnectTimeout = m.ConnectTimeout
	}
	return pg, nil
}

// Grant is a lease handed out: its record and its login.
type Grant struct {
	Lease *vault.Lease
	Login *Login
}

// Grant makes a login from src and records it as a lease held by this
// process. On failure nothing is left behind: the lease record is removed
// again, or, when the login may exist and could not be dropped, kept for
// a later cleanup (the error says so).
func (m *Manager) Grant(ctx context.Context, src *Source) (*Grant, error) {
	pg, err := m.postgres(src.adminURL)
	if err != nil {
		return nil, err
	}
	role, err := NewRoleName()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	l := &vault.Lease{Source: src.Name, State: vault.LeaseCreating, Role: role, Server: pg.Server(),
		AdminURL: src.adminURL, Created: now, Expires: now.Add(src.TTL), Host: m.host, PID: m.pid, PIDStart: m.start}
	if err := m.store.PutLease(l); err != nil {
		m.record("lease", []string{src.Name}, "", err)
		return nil, err
	}
	login, mayExist, err := pg.create(ctx, role, src.Template, src.TTL, false)
	if err == nil {
		l.State, l.Expires = vault.LeaseActive, login.Expires
		err = m.store.PutLease(l)
		if err != nil {
			mayExist = true
		}
	}
	if err != nil {
		err = m.undo(pg, l, mayExist, err)
		m.record("lease", []string{src.Name, role}, "", err)
		return nil, err
	}
	m.record("lease", []string{src.Name, role}, fmt.Sprintf("expires %s, on %s", l.Expires.UTC().Format(time.RFC3339), l.Server), nil)
	return &Grant{Lease: l, Login: login}, nil
}

// undo removes what a failed Grant left: the login when it may exist, then
// the record. It returns the error to report.
func (m *Manager) undo(pg *Postgres, l *vault.Lease, mayExist bool, cause error) error {
	if mayExist {
		ctx, cancel := context.WithTimeout(context.Background(), DropTimeout)
		defer cancel()
		if err := pg.Drop(ctx, l.Role); err != nil {
			l.LastError = err.Error()
			m.store.PutLease(l)
			return fmt.Errorf("%w; login %s may remain and could not be dropped (%v): it is recorded, and `hush dynamic leases --cleanup` retries", cause, l.Role, err)
		}
	}
	if err := m.store.DeleteLease(l.ID); err != nil {
		return errors.Join(cause, err)
	}
	return cause
}

// Release drops a lease's login and forgets the lease. When the login
// cannot be dropped, the lease stays recorded with the error, for a later
// cleanup.
func (m *Manager) Release(ctx context.Context, l *vault.Lease) error {
	return m.release(ctx, l, "lease-drop", "")
}

func (m *Manager) release(ctx context.Context, l *vault.Lease, action, detail string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DropTimeout)
		defer cancel()
	}
	names := []string{l.Source, l.Role}
	err := m.drop(ctx, l)
	if err != nil {
		l.LastError = err.Error()
		if perr := m.store.PutLease(l); perr != nil {
			err = errors.Join(err, perr)
		}
		m.record(action, names, detail, err)
		return err
	}
	err = m.store.DeleteLease(l.ID)
	m.record(action, names, detail, err)
	return err
}

func (m *Manager) drop(ctx context.Context, l *vault.Lease) error {
	pg, err := m.postgres(l.AdminURL)
	if err != nil {
		return fmt.Errorf("lease %s of %s: %w", l.Role, l.Source, err)
	}
	err = pg.Drop(ctx, l.Role)
	if !errors.Is(err, ErrAuth) {
		return err
	}
	// The recorded admin URL no longer logs in (the admin password was
	// changed since): try the source's current one, on the same server.
	cur, cerr := m.adminURL(l.Source)
	if cerr != nil || cur == l.AdminURL {
		return err
	}
	pg2, perr := m.postgres(cur)
	if perr != nil || pg2.Server() != pg.Server() {
		return err
	}
	return pg2.Drop(ctx, l.Role)
}

// Stale reports whether a lease is left over, and why: the hush that
// holds it is gone (same machine, its pid is not running or is another
// process now), or it was made on another machine and has expired. The
// leases of a running hush are never stale, even past their expiry: that
// hush drops them when its program ends.
func (m *Manager) Stale(l *vault.Lease, now time.Time) (bool, string) {
	if l.Host == m.host {
		if l.PID == m.pid && l.PIDStart == m.start {
			return false, "held by this hush"
		}
		if processAlive(l.PID, l.PIDStart) {
			return false, fmt.Sprintf("held by a running hush (pid %d)", l.PID)
		}
		return true, fmt.Sprintf("its hush (pid %d) is gone", l.PID)
	}
	if now.After(l.Expires) {
		return true, fmt.Sprintf("made on %s and expired", l.Host)
	}
	return false, fmt.Sprintf("held by a hush on %s until it expires", l.Host)
}

// Outcome is what a cleanup did with one lease.
type Outcome struct {
	Lease  *vault.Lease
	Reason string // why it was dropped
	Err    error  // nil: dropped and forgotten
}

// Cleanup drops the logins of every lease for which pick is true (nil:
// every stale lease, see [Manager.Stale]), one after another, within ctx.
// A lease whose login cannot be dropped stays recorded with the error.
func (m *Manager) Cleanup(ctx context.Context, pick func(*vault.Lease) (bool, string)) ([]Outcome, error) {
	leases, err := m.store.Leases()
	if err != nil {
		return nil, err
	}
	if pick == nil {
		now := time.Now()
		pick = func(l *vault.Lease) (bool, string) { return m.Stale(l, now) }
	}
	var out []Outcome
	for _, l := range leases {
		ok, reason := pick(l)
		if !ok {
			continue
		}
		if ctx.Err() != nil {
			out = append(out, Outcome{Lease: l, Reason: reason, Err: fmt.Errorf("not tried: %w", ctx.Err())})
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, DropTimeout)
		err := m.release(dctx, l, "lease-cleanup", reason)
		cancel()
		out = append(out, Outcome{Lease: l, Reason: reason, Err: err})
	}
	return out, nil
}

// adminURL is a source's current admin URL.
func (m *Manager) adminURL(source string) (string, error) {
	s, err := m.store.Get(source)
	if err != nil {
		return "", err
	}
	if !s.IsDynamic() {
		clear(s.Value)
		return "", fmt.Errorf("%s is not a dynamic source", source)
	}
	return string(s.Value), nil
}

// SourceInfo is a dynamic source with how many of its leases are recorded.
type SourceInfo struct {
	vault.Entry
	Leases int
}

// Sources lists the dynamic sources in the vault, with their lease counts.
func (m *Manager) Sources() ([]SourceInfo, error) {
	entries, err := m.store.List("")
	if err != nil {
		return nil, err
	}
	leases, err := m.store.Leases()
	if err != nil {
		return nil, err
	}
	count := map[string]int{}
	for _, l := range leases {
		count[l.Source]++
	}
	var out []SourceInfo
	for _, e := range entries {
		if e.IsDynamic() && e.Dynamic != nil {
			out = append(out, SourceInfo{e, count[e.Name]})
		}
	}
	return out, nil
}

// LeaseInfo is a recorded lease and whether it is left over (see
// [Manager.Stale]).
type LeaseInfo struct {
	*vault.Lease
	LeftOver bool
	Why      string
}

// Leases lists the recorded leases, each with whether it is left over.
func (m *Manager) Leases(now time.Time) ([]LeaseInfo, error) {
	leases, err := m.store.Leases()
	if err != nil {
		return nil, err
	}
	out := make([]LeaseInfo, len(leases))
	for i, l := range leases {
		stale, why := m.Stale(l, now)
		out[i] = LeaseInfo{l, stale, why}
	}
	return out, nil
}

// Forget removes the lease of login role without dropping the login (its
// database is gone for good) and returns it; vault.ErrNotFound when there
// is none.
func (m *Manager) Forget(role string) (*vault.Lease, error) {
	leases, err := m.store.Leases()
	if err != nil {
		return nil, err
	}
	for _, l := range leases {
		if l.Role == role {
			err := m.store.DeleteLease(l.ID)
			m.record("lease-forget", []string{l.Source, l.Role}, l.Server, err)
			return l, err
		}
	}
	return nil, fmt.Errorf("no lease %s: %w", role, vault.ErrNotFound)
}
