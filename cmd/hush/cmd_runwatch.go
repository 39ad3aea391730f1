package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/dynamic"
	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/vaultwatch"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// How `run --watch` notices a change made on this machine: it polls the
// vault file and its write-ahead log (a stat each, no read) every
// vaultPoll, and rebuilds the environment once they have been quiet for
// one more poll (changes arriving together restart once).
const vaultPoll = vaultwatch.Poll

// watchFlags are run's --watch, --watch-signal and --watch-grace.
type watchFlags struct {
	mode   string // "", "restart" or "signal:NAME"
	signal string
	grace  time.Duration
}

func (w *watchFlags) parse() (run.Watch, error) {
	var rw run.Watch
	name := w.signal
	switch {
	case w.mode == "restart":
	case strings.HasPrefix(w.mode, "signal:"):
		rw.OnlySignal = true
		name = strings.TrimPrefix(w.mode, "signal:")
	default:
		return rw, usagef("--watch is restart (the default) or signal:NAME, e.g. --watch=signal:HUP")
	}
	sig, err := run.ParseSignal(strings.ToUpper(name))
	if err != nil {
		return rw, usagef("%v", err)
	}
	if w.grace <= 0 {
		return rw, usagef("--watch-grace takes a positive duration, e.g. 10s")
	}
	rw.Signal, rw.Grace = sig, w.grace
	return rw, nil
}

// runWatch is `hush run --watch`: hush keeps the vault open, restarts the
// child when an injected secret's version changes (a change made here, by
// any process, or one the team server pushes), and stops it when one is
// revoked.
//
// With --dynamic, each start gets logins of its own, made before it
// starts and dropped once it has stopped (dynamic.Session per start).
func (a *app) runWatch(v *vault.Vault, o run.Options, plan *run.Plan, rw run.Watch, specs []dynamic.Binding) error {
	defer v.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	restart := make(chan *run.Plan, 1)
	stop := make(chan string, 1)
	rw.Restart, rw.Stop = restart, stop
	rw.Notef = func(format string, args ...any) { a.notef("hush: "+format, args...) }
	var mu sync.Mutex // the vault, between the two watchers and the logins
	if len(specs) > 0 {
		rw.Around = func() run.Around {
			return lockedAround(&mu, a.leaseManager(v).NewSession(specs, a.notef).Around())
		}
	}
	if client.InTeam(v) {
		go func() {
			err := a.teamWatch(ctx, v, "hush: watching local changes only; server unreachable, retrying", &mu, false, nil)
			if err != nil && ctx.Err() == nil {
				a.notef("hush: %v; watching local changes only", err)
			}
		}()
	}
	go a.watchVault(ctx, v, o, plan, &mu, restart, stop)
	code, err := run.SuperviseWatch(plan, a.stdio(), rw)
	cancel()
	// A sync or a build in flight ends before the vault closes, and none
	// starts after: the lock is kept until hush exits.
	mu.Lock()
	var stopped *run.StoppedError
	var ie *run.InterruptedError
	if errors.As(err, &ie) {
		a.notef("hush: %v; no login was left", err)
		return exitStatus(ie.Code())
	}
	if errors.As(err, &stopped) {
		return fmt.Errorf("stopped %s: %s", plan.Argv[0], stopped.Reason)
	}
	if err != nil {
		return err
	}
	return exitStatus(code)
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
func (a *app) watchVault(ctx context.Context, v *vault.Vault, o run.Options, cur *run.Plan, mu *sync.Mutex, restart chan *run.Plan, stop chan string) {
	f := &run.Follower{Options: o, Current: cur, Explain: func(err error) string {
		if !errors.Is(err, vault.ErrLocked) && keyReplaced(v) {
			return "the vault key was replaced (hush passwd --rotate-key); start hush run again to unlock the vault with the new one"
		}
		return ""
	}}
	vaultwatch.Follow(ctx, v.Path(), vaultPoll, func() bool {
		mu.Lock()
		if ctx.Err() != nil {
			mu.Unlock()
			return false
		}
		c := f.Rebuild(v)
		if c.Restart != nil {
			a.record(v, "run", c.Restart.Names, nil)
		}
		mu.Unlock()
		if c.Note != "" {
			a.notef("hush: %s", c.Note)
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
