// Package runsession runs the program `hush run` prepared: it builds the
// program's environment from the vault, records in the audit log what it
// hands out, and starts the program, replacing hush (exec) unless hush
// must stay in between: to mask the output (--mask), to make logins of
// the program's own and drop them when it ends, however it ends
// (--dynamic), or to follow the vault and the team server, restarting the
// program when a secret it was given gets a new version and stopping it
// when one is revoked (--watch).
//
// It owns the wiring between the supervisor (run), the lease manager
// (dynamic), the vault watcher (vaultwatch) and the team watcher
// (teamsync), and the lock that keeps them from using the vault at once.
// The command line parses the flags into a Request, which Prepare checks
// (which flags go together, whether there is anything to inject) and
// prepares (run.Prepare); it unlocks the vault when the run needs it and
// turns the exit code into hush's.
package runsession

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hush-secrets/hush/cmd/hush/internal/dynamic"
	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/vaultwatch"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// VaultPoll is how `run --watch` notices a change made on this machine: it
// polls the vault file and its write-ahead log (a stat each, no read)
// every VaultPoll, and rebuilds the environment once they have been quiet
// for one more poll (changes arriving together restart once).
const VaultPoll = vaultwatch.Poll

// Session is one run of a program. It owns its vault: the vault is closed
// before the program starts, or, when hush stays with it open, once the
// program has ended.
type Session struct {
	// Vault is the unlocked vault the program's secrets come from; nil
	// when it needs none (only an --env-file without references).
	Vault *vault.Vault
	Stdio run.Stdio
	// Notef says what hush does (stderr).
	Notef func(format string, args ...any)
	// Record writes an audit entry for the secrets handed to a new start
	// (session.Session.Record, which also syncs or pushes the change).
	Record func(v *vault.Vault, action string, names []string, result error) error
}

// Mode is how the program runs.
type Mode struct {
	Mask     bool              // replace secret values in its output
	Bindings []dynamic.Binding // --dynamic: logins of its own
	Watch    *run.Watch        // --watch: follow its secrets (nil: no)
}

// Run builds the program's environment from o, records what it hands out
// (nothing is handed to a program the log does not show), and runs it as
// m says. Without Mask, Bindings or Watch it replaces hush (exec) and
// returns only when that fails; otherwise it returns the program's exit
// code (128+N for signal N).
func (s *Session) Run(o run.Options, m Mode) (int, error) {
	if s.Vault == nil {
		plan, err := run.Build(nil, o)
		if err != nil {
			return 0, err
		}
		return s.start(plan, m.Mask)
	}
	v := s.Vault
	plan, err := run.Build(v, o)
	var names []string
	if plan != nil {
		names = plan.Names
	}
	for _, b := range m.Bindings {
		names = append(names, b.Source)
	}
	if rerr := s.Record(v, "run", names, err); err == nil && rerr != nil {
		err = rerr
	}
	if err == nil {
		for _, n := range plan.Skipped {
			s.Notef("note: %s is a dynamic source: its admin URL is not injected (use --dynamic VAR=%s)", n, n)
		}
		// hush stays with the vault open: it records the logins it
		// makes and drops, and follows the vault with --watch.
		switch {
		case m.Watch != nil:
			return s.Watch(o, plan, *m.Watch, m.Bindings)
		case len(m.Bindings) > 0:
			return s.Dynamic(plan, m.Bindings, m.Mask)
		}
	}
	v.Close() // wipe the keys before the child exists
	if err != nil {
		return 0, err
	}
	return s.start(plan, m.Mask)
}

// start replaces hush with the program, or with mask supervises it.
func (s *Session) start(plan *run.Plan, mask bool) (int, error) {
	if !mask {
		return 0, run.Exec(plan)
	}
	return run.Supervise(plan, s.Stdio, run.SuperviseOptions{Mask: true})
}

// leases is the lease manager on the session's vault, auditing.
func (s *Session) leases() *dynamic.Manager { return dynamic.Audited(s.Vault, s.Notef) }

// Dynamic runs the program under supervision with a login of its own per
// binding, dropped when it ends, however it ends. It returns the
// program's exit code (128+N for signal N).
func (s *Session) Dynamic(plan *run.Plan, bindings []dynamic.Binding, mask bool) (int, error) {
	defer s.Vault.Close()
	ls := s.leases().NewSession(bindings, s.Notef)
	code, err := run.SuperviseAround(plan, s.Stdio, run.SuperviseOptions{Mask: mask}, ls.Around())
	return s.interrupted(code, err)
}

// interrupted turns a run cut short by a signal into its exit code, once
// the logins were dropped.
func (s *Session) interrupted(code int, err error) (int, error) {
	var ie *run.InterruptedError
	if errors.As(err, &ie) {
		s.Notef("hush: %v; no login was left", err)
		return ie.Code(), nil
	}
	return code, err
}

// Watch is `hush run --watch`: hush keeps the vault open, restarts the
// program when an injected secret's version changes (a change made here,
// by any process, or one the team server pushes), and stops it when one
// is revoked. o are the options plan was built with.
//
// With bindings (--dynamic), each start gets logins of its own, made
// before it starts and dropped once it has stopped (a dynamic.Session per
// start).
func (s *Session) Watch(o run.Options, plan *run.Plan, rw run.Watch, bindings []dynamic.Binding) (int, error) {
	v := s.Vault
	defer v.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	restart := make(chan *run.Plan, 1)
	stop := make(chan string, 1)
	rw.Restart, rw.Stop = restart, stop
	rw.Notef = func(format string, args ...any) { s.Notef("hush: "+format, args...) }
	var mu sync.Mutex // the vault, between the two watchers and the logins
	if len(bindings) > 0 {
		rw.Around = func() run.Around {
			return lockedAround(&mu, s.leases().NewSession(bindings, s.Notef).Around())
		}
	}
	if client.InTeam(v) {
		go func() {
			err := teamsync.Watch(ctx, v, teamsync.WatchOptions{Notef: s.Notef,
				OfflineNote: "hush: watching local changes only; server unreachable, retrying", Lock: &mu})
			if err != nil && ctx.Err() == nil {
				s.Notef("hush: %v; watching local changes only", err)
			}
		}()
	}
	go s.watchVault(ctx, o, plan, &mu, restart, stop)
	code, err := run.SuperviseWatch(plan, s.Stdio, rw)
	cancel()
	// A sync or a build in flight ends before the vault closes, and none
	// starts after: the lock is kept until hush exits.
	mu.Lock()
	var stopped *run.StoppedError
	if errors.As(err, &stopped) {
		return 0, fmt.Errorf("stopped %s: %s", plan.Argv[0], stopped.Reason)
	}
	return s.interrupted(code, err)
}

// lockedAround holds mu around the work of w: the lease manager writes
// the vault, which the watchers read.
func lockedAround(mu *sync.Mutex, w run.Around) run.Around {
	before, after := w.Before, w.After
	w.Before = func(ctx context.Context, p *run.Plan) error {
		mu.Lock()
		defer mu.Unlock()
		return before(ctx, p)
	}
	w.After = func(ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		after(ctx)
	}
	return w
}

// watchVault follows the vault and, when it changed, rebuilds the child's
// environment (run.Follower): a new version of an injected secret sends a
// plan to restart; a revoked one sends a reason to stop; any other failure
// (a locked vault, a folder emptied) is said once and the child keeps
// running with what it has.
func (s *Session) watchVault(ctx context.Context, o run.Options, cur *run.Plan, mu *sync.Mutex, restart chan *run.Plan, stop chan string) {
	v := s.Vault
	f := &run.Follower{Options: o, Current: cur, Explain: func(err error) string {
		if !errors.Is(err, vault.ErrLocked) && keyReplaced(v) {
			return "the vault key was replaced (hush passwd --rotate-key); start hush run again to unlock the vault with the new one"
		}
		return ""
	}}
	vaultwatch.Follow(ctx, v.Path(), VaultPoll, func() bool {
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			return false
		}
		c := f.Rebuild(v)
		if c.Restart != nil {
			s.Record(v, "run", c.Restart.Names, nil)
		}
		mu.Unlock()
		if c.Note != "" {
			s.Notef("hush: %s", c.Note)
		}
		switch {
		case c.Stop != "":
			stop <- c.Stop
			return false
		case c.Restart != nil:
			select { // only the newest plan matters
			case <-restart:
			default:
			}
			restart <- c.Restart
		}
		return true
	})
}

// keyReplaced says whether the vault file is now sealed under another key
// epoch than the one v was unlocked with: what this hush holds reads
// nothing written since.
func keyReplaced(v *vault.Vault) bool {
	now, err := vault.Open(v.Path())
	if err != nil {
		return false
	}
	defer now.Close()
	return now.Epoch() != v.Epoch()
}
