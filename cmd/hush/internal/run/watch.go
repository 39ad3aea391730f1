//go:build unix

package run

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/creack/pty"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

// SuperviseWatch starts the child and restarts it with each plan from
// w.Restart: w.Signal to its process group, up to w.Grace for it to end,
// then SIGKILL to the group, and a new start with the new environment.
// The child runs in a process group of its own, so that whatever it
// started is stopped with it; hush forwards the signals in [Forwarded] to
// that group. A child that exits by itself ends SuperviseWatch with its
// exit code (128+N for signal N).
//
// Without w.Mask the child's stdin, stdout and stderr are hush's own.
// With it, each start gets a masker of its own (pipes, or a
// pseudo-terminal when hush's stdout is a terminal, as [Supervise]); the
// output of one start is read to its end and masked before the next
// starts, so output never mixes or reorders across a restart.
//
// With w.Around, the work around a start (making logins) is done before
// it — at a restart, while the old child still runs, so that a failure
// leaves that child running — and the work after it (dropping them) once
// it has ended.
func SuperviseWatch(p *Plan, std Stdio, w Watch) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	harden.ForChild()
	notify := Forwarded
	if w.Mask || w.Around != nil {
		// hush writes the child's output, or has logins to drop: a
		// closed stdout must not end it (see Held).
		notify = append(slices.Clone(Forwarded), syscall.SIGPIPE)
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, notify...)
	defer signal.Stop(sigs)
	s := &watchSup{std: std, w: w, sigs: sigs, seen: map[string]bool{}}
	if w.Mask && term.IsTerminal(int(std.Stdout.Fd())) {
		s.pty = true
		s.in = &ptyInput{}
		stdinTTY := term.IsTerminal(int(std.Stdin.Fd()))
		if stdinTTY {
			if old, err := term.MakeRaw(int(std.Stdin.Fd())); err == nil {
				defer term.Restore(int(std.Stdin.Fd()), old)
			}
		}
		// stdin → the current start's terminal. It may stay blocked on a
		// read after the last child; hush exits right after.
		go func() {
			io.Copy(s.in, std.Stdin)
			if !stdinTTY {
				s.in.end()
			}
		}()
	} else {
		if w.Mask {
			// As supervisePipes: hush's own output pipes take a whole
			// masked piece at once.
			growPipe(std.Stdout)
			growPipe(std.Stderr)
		}
		// In a terminal's foreground, each child's group takes the
		// terminal over (as a shell does for a job): it reads keys, and
		// Ctrl-C reaches it from the terminal itself. The shell takes the
		// terminal back when hush exits.
		s.tty, s.fg = foregroundTTY()
		if s.tty != nil {
			defer s.tty.Close()
		}
	}
	return s.run(p)
}

// watchSup is one SuperviseWatch: what stays the same across starts.
type watchSup struct {
	std  Stdio
	w    Watch
	sigs chan os.Signal
	tty  *os.File // hush's terminal, when it is in its foreground
	fg   bool
	pty  bool      // masked, on a pseudo-terminal per start
	in   *ptyInput // hush's stdin, to the current start's terminal
	mask [][]byte  // every value any start was given
	seen map[string]bool
}

// watched is one start of the child.
type watched struct {
	cmd    *exec.Cmd
	pgid   int
	exited chan error
	ptmx   *os.File      // its pseudo-terminal (pty mode)
	drains []*drain      // its output, masked (mask mode)
	copied chan struct{} // closed once its output is read to the end
}

// granting is the next start being prepared (w.Around's Before) while the
// current child runs.
type granting struct {
	plan   *Plan
	around *Around
	cancel context.CancelFunc
	done   chan error
}

func (s *watchSup) run(p *Plan) (int, error) {
	w := s.w
	var around *Around
	if w.Around != nil {
		a := w.Around()
		around = &a
		if sig, err := s.before(around, p); sig != nil || err != nil {
			s.after(around)
			if sig != nil {
				return 0, &InterruptedError{sig}
			}
			return 0, err
		}
	}
	c, err := s.start(p)
	if err != nil {
		s.after(around)
		return 0, err
	}
	var (
		next   *granting // the next start, being prepared
		queued *Plan     // the newest plan not yet being prepared
	)
	for {
		if queued != nil && next == nil {
			next = s.prepare(queued)
			queued = nil
		}
		var granted <-chan error
		if next != nil {
			granted = next.done
		}
		select {
		case err := <-c.exited:
			syscall.Kill(-c.pgid, syscall.SIGKILL) // what it left in its group goes with it
			s.abandon(next)
			s.finish(c)
			s.after(around)
			return exitCode(c.cmd, err)
		case sig := <-s.sigs:
			s.forward(c, sig)
		case reason := <-w.Stop:
			s.abandon(next)
			w.Notef("stopping %s: %s", c.cmd.Args[0], reason)
			s.stop(c)
			s.finish(c)
			s.after(around)
			return 1, &StoppedError{Reason: reason}
		case np := <-w.Restart:
			if w.OnlySignal {
				w.Notef("secrets changed: sending %v to %s", w.Signal, c.cmd.Args[0])
				c.cmd.Process.Signal(w.Signal)
				continue
			}
			queued = np // the newest wins; one in preparation is followed by it
		case err := <-granted:
			g := next
			next = nil
			if err != nil {
				s.after(g.around)
				w.Notef("cannot restart %s with new secrets: %v; it keeps running with the ones it has", c.cmd.Args[0], err)
				continue
			}
			select {
			case err := <-c.exited: // it ended by itself meanwhile: that ends hush run
				syscall.Kill(-c.pgid, syscall.SIGKILL)
				s.after(g.around)
				s.finish(c)
				s.after(around)
				return exitCode(c.cmd, err)
			default:
			}
			w.Notef("secrets changed: restarting %s", c.cmd.Args[0])
			quit, werr := s.stop(c)
			s.finish(c)
			s.after(around)
			around = g.around
			if quit != nil {
				// Asked to end while the old child stopped: no new start.
				s.after(around)
				return exitCode(c.cmd, werr)
			}
			if queued != nil && around == nil {
				g.plan, queued = queued, nil // nothing was prepared for it: take the newest
			}
			if c, err = s.start(g.plan); err != nil {
				s.after(around)
				return 0, err
			}
		}
	}
}

// prepare starts w.Around's Before for the plan of the next start, in
// the background: the current child keeps running meanwhile.
func (s *watchSup) prepare(p *Plan) *granting {
	g := &granting{plan: p, done: make(chan error, 1)}
	if s.w.Around == nil {
		g.done <- nil
		return g
	}
	a := s.w.Around()
	g.around = &a
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go func() { g.done <- a.Before(ctx, p) }()
	return g
}

// abandon undoes a start being prepared: the child ended meanwhile.
func (s *watchSup) abandon(g *granting) {
	if g == nil {
		return
	}
	if g.cancel != nil {
		g.cancel()
	}
	<-g.done
	s.after(g.around)
}

// before runs the first start's Before. A signal in [Held] cancels it
// and is returned: the child is not started.
func (s *watchSup) before(a *Around, p *Plan) (os.Signal, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Before(ctx, p) }()
	var interrupted os.Signal
	for {
		select {
		case err := <-done:
			return interrupted, err
		case sig := <-s.sigs:
			if held(sig) && sig != syscall.SIGPIPE && interrupted == nil {
				interrupted = sig
				cancel()
			}
		}
	}
}

// after runs a start's After, if it has one: the first signal in [Held]
// meanwhile is told to Stopping, a second one cancels it.
func (s *watchSup) after(a *Around) {
	if a == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.After(ctx)
	}()
	warned := false
	for {
		select {
		case <-done:
			return
		case sig := <-s.sigs:
			if !held(sig) || sig == syscall.SIGPIPE {
				continue
			}
			if warned {
				cancel()
			} else if warned = true; a.Stopping != nil {
				a.Stopping(sig)
			}
		}
	}
}

func held(sig os.Signal) bool { return slices.Contains(Held, sig) }

// start starts the child of plan p in a process group of its own.
func (s *watchSup) start(p *Plan) (*watched, error) {
	cmd := exec.Command(p.Path)
	cmd.Args, cmd.Env = p.Argv, p.Env
	c := &watched{cmd: cmd, exited: make(chan error, 1)}
	var secrets *maskSet
	if s.w.Mask {
		// The values of every start so far: the old child's output
		// may still hold an old one.
		for _, v := range p.Secrets {
			if !s.seen[string(v)] {
				s.seen[string(v)] = true
				s.mask = append(s.mask, v)
			}
		}
		secrets = newMaskSet(s.mask)
	}
	switch {
	case s.pty:
		started, err := pty.StartWithAttrs(cmd, nil, withParentDeath(&syscall.SysProcAttr{Setsid: true, Setctty: true}))
		if err != nil {
			return nil, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
		}
		ptmx, err := pollable(started)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, err
		}
		c.ptmx = ptmx
		inheritSize(s.std.Stdout, ptmx)
		s.in.set(ptmx)
		out := newMaskerWith(s.std.Stdout, secrets)
		d := &drain{f: ptmx}
		c.drains = []*drain{d}
		c.copied = make(chan struct{})
		go func() {
			d.stopped(eofAtHangup(out.copyOut(d)))
			out.Close()
			close(c.copied)
		}()
	case s.w.Mask:
		outR, outW, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		errR, errW, err := os.Pipe()
		if err != nil {
			outR.Close()
			outW.Close()
			return nil, err
		}
		growPipe(outW)
		growPipe(errW)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = s.std.Stdin, outW, errW
		cmd.SysProcAttr = s.groupAttr()
		err = cmd.Start()
		outW.Close()
		errW.Close()
		if err != nil {
			outR.Close()
			errR.Close()
			return nil, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
		}
		c.drains = []*drain{{f: outR}, {f: errR}}
		c.copied = make(chan struct{})
		var copies sync.WaitGroup
		for i, m := range []*Masker{newMaskerWith(s.std.Stdout, secrets), newMaskerWith(s.std.Stderr, secrets)} {
			d := c.drains[i]
			copies.Add(1)
			go func() {
				defer copies.Done()
				d.stopped(m.copyOut(d))
				m.Close()
			}()
		}
		go func() { copies.Wait(); close(c.copied) }()
	default:
		cmd.Stdin, cmd.Stdout, cmd.Stderr = s.std.Stdin, s.std.Stdout, s.std.Stderr
		cmd.SysProcAttr = s.groupAttr()
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
		}
	}
	c.pgid = cmd.Process.Pid // its own group (Setpgid) or session (Setsid)
	go func() { c.exited <- cmd.Wait() }()
	return c, nil
}

// groupAttr puts a child in a process group of its own, which takes
// hush's terminal over when hush is in its foreground.
func (s *watchSup) groupAttr() *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Setpgid: true}
	if s.fg {
		attr.Foreground, attr.Ctty = true, int(s.tty.Fd())
	}
	return withParentDeath(attr)
}

// forward passes a signal to the child's group. On a pseudo-terminal a
// window change resizes the child's terminal instead (which signals it).
func (s *watchSup) forward(c *watched, sig os.Signal) {
	switch {
	case sig == syscall.SIGPIPE:
	case sig == syscall.SIGWINCH && c.ptmx != nil:
		inheritSize(s.std.Stdout, c.ptmx)
	default:
		syscall.Kill(-c.pgid, sig.(syscall.Signal))
	}
}

// stop ends a child: w.Signal to its group, up to w.Grace, then SIGKILL
// to the group (whatever it left behind goes too). Signals meanwhile are
// forwarded; the first one that asks hush to end is returned, with the
// child's wait error.
func (s *watchSup) stop(c *watched) (quit os.Signal, err error) {
	syscall.Kill(-c.pgid, s.w.Signal)
	t := time.NewTimer(s.w.Grace)
	defer t.Stop()
	for {
		select {
		case err := <-c.exited:
			syscall.Kill(-c.pgid, syscall.SIGKILL)
			return quit, err
		case sig := <-s.sigs:
			if quit == nil && held(sig) && sig != syscall.SIGPIPE {
				quit = sig
			}
			s.forward(c, sig)
		case <-t.C:
			s.w.Notef("%s did not stop within %s of %v: killing it", c.cmd.Args[0], s.w.Grace, s.w.Signal)
			syscall.Kill(-c.pgid, syscall.SIGKILL)
		}
	}
}

// finish reads an ended child's output to its end (see drainAfterExit)
// and lets its terminal go.
func (s *watchSup) finish(c *watched) {
	if c.copied == nil {
		return
	}
	end := "\n"
	if s.pty {
		end = "\r\n"
	}
	if drainAfterExit(c.copied, c.drains) {
		fmt.Fprintf(s.std.Stderr, "hush: note: %s exited but a program it started still holds its output open; "+
			"hush stopped reading after %s of silence, so later output from that program is not shown"+end,
			c.cmd.Args[0], DrainGrace)
	}
	reportLost(s.std.Stderr, c.cmd.Args[0], c.drains, 0, end)
	if s.pty {
		s.in.set(nil)
	}
	for _, d := range c.drains {
		d.f.Close()
	}
}

// ptyInput is hush's stdin on its way to the terminal of the current
// start; keys typed between two starts go nowhere.
type ptyInput struct {
	mu    sync.Mutex
	cur   *os.File
	ended bool // hush's stdin (not a terminal) is at its end
}

func (in *ptyInput) Write(b []byte) (int, error) {
	in.mu.Lock()
	f := in.cur
	in.mu.Unlock()
	if f != nil {
		f.Write(b)
	}
	return len(b), nil
}

// set makes f the current terminal; a start after the end of stdin gets
// the end of input (^D) at once, as the first did.
func (in *ptyInput) set(f *os.File) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.cur = f
	if f != nil && in.ended {
		f.Write([]byte{4})
	}
}

func (in *ptyInput) end() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.ended = true
	if in.cur != nil {
		in.cur.Write([]byte{4})
	}
}

// ParseSignal reads a signal name: TERM, SIGTERM, HUP, INT, ...
func ParseSignal(name string) (syscall.Signal, error) {
	n := name
	if len(n) > 3 && n[:3] == "SIG" {
		n = n[3:]
	}
	if s := signalNamed(n); s != 0 {
		return s, nil
	}
	return 0, errors.New("unknown signal " + name + ": use a name such as HUP, TERM, INT, USR1 or USR2")
}

func signalNamed(n string) syscall.Signal {
	switch n {
	case "HUP":
		return syscall.SIGHUP
	case "INT":
		return syscall.SIGINT
	case "QUIT":
		return syscall.SIGQUIT
	case "TERM":
		return syscall.SIGTERM
	case "USR1":
		return syscall.SIGUSR1
	case "USR2":
		return syscall.SIGUSR2
	case "KILL":
		return syscall.SIGKILL
	}
	return 0
}
