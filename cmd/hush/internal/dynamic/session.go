package dynamic

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/vault"
)

// LeftoverBudget bounds the cleanup of earlier runs' leftovers that every
// session does first: it must never hold up the program long.
const LeftoverBudget = 5 * time.Second

// Binding is one `--dynamic VAR=NAME`: the variable that gets the URL of
// a login made from the dynamic source NAME.
type Binding struct{ Var, Source string }

// ParseBindings reads the `--dynamic VAR=NAME` flags: each VAR a variable
// name given once, each NAME a secret name. Every error is a mistake in
// how hush was called.
func ParseBindings(list []string) ([]Binding, error) {
	var out []Binding
	seen := map[string]bool{}
	for _, s := range list {
		k, name, ok := strings.Cut(s, "=")
		if !ok || k == "" || name == "" {
			return nil, fmt.Errorf("--dynamic %q: use VAR=NAME, e.g. --dynamic DATABASE_URL=db/prod", s)
		}
		if err := run.CheckVarName(k); err != nil {
			return nil, fmt.Errorf("--dynamic %s: %v", s, err)
		}
		if err := vault.ValidName(name); err != nil {
			return nil, fmt.Errorf("--dynamic %s: %w", s, err)
		}
		if seen[k] {
			return nil, fmt.Errorf("--dynamic: %s is given twice", k)
		}
		seen[k] = true
		out = append(out, Binding{Var: k, Source: name})
	}
	return out, nil
}

// Session is the logins of one program run under `hush run --dynamic`:
// made before the program starts, dropped when it ends, however it ends.
// [Session.Around] gives its two halves to [run.SuperviseAround], which
// keeps signals from cutting them short.
type Session struct {
	m        *Manager
	bindings []Binding
	grants   []*Grant
	// Notef tells the person what happens to the logins (stderr).
	Notef func(format string, args ...any)
}

// NewSession is a session making logins, recorded by m, for bindings.
func (m *Manager) NewSession(bindings []Binding, notef func(format string, args ...any)) *Session {
	return &Session{m: m, bindings: bindings, Notef: notef}
}

// Around is the session as work around a supervised child.
func (s *Session) Around() run.Around {
	return run.Around{Before: s.grant, After: s.release, Stopping: func(sig os.Signal) {
		s.Notef("hush: dropping the program's database logins; %v again stops, leaving them to `hush dynamic leases --cleanup`", sig)
	}}
}

// grant drops the leftovers of earlier runs (bounded, only warnings),
// reads and checks every source before any login is made, then makes the
// logins and puts their URLs in the plan. A cancelled ctx stops it.
func (s *Session) grant(ctx context.Context, p *run.Plan) error {
	lctx, cancel := context.WithTimeout(ctx, LeftoverBudget)
	out, err := s.m.Cleanup(lctx, nil)
	cancel()
	if err != nil {
		s.Notef("warning: left-over leases could not be read: %v", err)
	}
	for _, o := range out {
		if o.Err != nil {
			s.Notef("warning: could not drop left-over login %s of %s (%s): %v; `hush dynamic leases --cleanup` retries", o.Lease.Role, o.Lease.Source, o.Reason, o.Err)
		} else {
			s.Notef("dropped left-over login %s of %s (%s)", o.Lease.Role, o.Lease.Source, o.Reason)
		}
	}
	sources := make([]*Source, len(s.bindings))
	for i, b := range s.bindings {
		sec, err := s.m.store.Get(b.Source)
		if err != nil {
			return fmt.Errorf("--dynamic %s=%s: %w", b.Var, b.Source, err)
		}
		src, err := NewSource(sec)
		clear(sec.Value)
		if err != nil {
			return fmt.Errorf("--dynamic %s=%s: %w", b.Var, b.Source, err)
		}
		sources[i] = src
	}
	for i, src := range sources {
		g, err := s.m.Grant(ctx, src)
		if err != nil {
			return fmt.Errorf("--dynamic %s=%s: %w", s.bindings[i].Var, src.Name, err)
		}
		s.grants = append(s.grants, g)
		if err := p.Setenv(s.bindings[i].Var, g.Login.URL); err != nil {
			return err
		}
		p.Secrets = append(p.Secrets, []byte(g.Login.Password))
	}
	return nil
}

// release drops every login the session made. One that cannot be dropped
// stays recorded for a later cleanup, and the person is told.
func (s *Session) release(ctx context.Context) {
	for _, g := range s.grants {
		if err := s.m.Release(ctx, g.Lease); err != nil {
			s.Notef("warning: could not drop login %s of %s: %v\n  it stays recorded and `hush dynamic leases --cleanup` (or the next `hush run --dynamic`) retries; PostgreSQL refuses it after %s",
				g.Lease.Role, g.Lease.Source, err, g.Lease.Expires.Local().Format("2006-01-02 15:04:05"))
		}
	}
}
