package run

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Held are the signals that would otherwise end hush at once while it has
// work to finish around a supervised child. SIGPIPE is among them so that a
// closed stdout (`hush run ... | head -1`) ends the child, which then gets
// the broken pipe itself, rather than hush.
var Held = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE}

// Around is work hush does around a supervised child that no signal may
// cut short: making the child's short-lived database logins before it
// starts, and dropping them once it has ended (`hush run --dynamic`).
type Around struct {
	// Before runs before the child starts and may change the plan (add a
	// variable with [Plan.Setenv]). A signal in [Held] cancels ctx, and
	// the child is not started.
	Before func(ctx context.Context, p *Plan) error
	// After runs once, whatever happened: after the child ended, or when
	// Before failed or was interrupted. The first signal in [Held] while
	// it runs is passed to Stopping (to say what hush is doing); a second
	// one cancels ctx.
	After    func(ctx context.Context)
	Stopping func(os.Signal)
}

// InterruptedError says a signal came before the child started: it was
// not started, and After has undone what Before did.
type InterruptedError struct{ Signal os.Signal }

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("interrupted (%v) before the program started", e.Signal)
}

// Code is the exit code of a process ended by the signal: 128+N.
func (e *InterruptedError) Code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128
}

// SuperviseAround is [Supervise] with work before and after the child.
// From the start of Before to the end of After, the signals in [Held] do
// not end hush: they arrive on one watcher, which cancels Before, leaves
// them to Supervise (which forwards them to the child) while the child
// runs, and warns, then cancels, during After.
func SuperviseAround(p *Plan, std Stdio, o SuperviseOptions, w Around) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, Held...)
	defer signal.Stop(sigs)
	g := &guard{stopping: w.Stopping}
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		g.watch(sigs, done)
	}()
	defer func() { close(done); <-watched }()

	err := w.Before(g.enter(phaseBefore, sigs), p)
	g.enter(phaseChild, sigs)
	code := 0
	if sig := g.signalBefore(); sig != nil {
		err = &InterruptedError{sig}
	} else if err == nil {
		code, err = Supervise(p, std, o)
	}
	w.After(g.enter(phaseAfter, sigs))
	return code, err
}

type phase int

const (
	phaseBefore phase = iota
	phaseChild
	phaseAfter
)

// guard is what the watcher knows: the phase, the context of the work of
// this phase, and the signals seen.
type guard struct {
	mu          sync.Mutex
	phase       phase
	cancel      context.CancelFunc
	interrupted os.Signal // the signal that came before the child started
	warned      bool
	stopping    func(os.Signal)
}

// enter starts a phase with a new context, ending the last one. Signals
// still queued from the last phase belong to it: while the child ran, they
// were forwarded to it and are dropped here.
func (g *guard) enter(p phase, sigs chan os.Signal) context.Context {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cancel != nil {
		g.cancel()
	}
	if p == phaseAfter && g.phase == phaseChild {
	drain:
		for {
			select {
			case <-sigs:
			default:
				break drain
			}
		}
	}
	g.phase = p
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	return ctx
}

// signalBefore is the signal that interrupted Before, if any.
func (g *guard) signalBefore() os.Signal {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.interrupted
}

// watch is the one place where a held signal is given its meaning.
func (g *guard) watch(sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case <-done:
			g.mu.Lock()
			g.cancel()
			g.mu.Unlock()
			return
		case sig := <-sigs:
			if sig == syscall.SIGPIPE {
				continue
			}
			g.mu.Lock()
			switch g.phase {
			case phaseBefore:
				if g.interrupted == nil {
					g.interrupted = sig
				}
				g.cancel()
			case phaseAfter:
				if g.warned {
					g.cancel()
				} else if g.warned = true; g.stopping != nil {
					g.stopping(sig)
				}
			}
			g.mu.Unlock()
		}
	}
}
