//go:build unix

package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

// Forwarded are the signals a supervising hush passes on to the child.
// SIGCHLD and SIGURG (the Go runtime's own) are deliberately absent, as are
// stop signals, which the terminal sends to the child directly.
var Forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Supervise starts the child, stays with it and returns its exit code:
// the child's own, or 128+N when signal N ended it.
//
// When stdout is a terminal the child gets a pseudo-terminal (colours and
// line editing keep working, and the masker sees everything it prints);
// otherwise its stdin is hush's own, and its stdout and stderr are pipes
// through the masker.
func Supervise(p *Plan, std Stdio, o SuperviseOptions) (int, error) {
	// The parent-death signal fires when the thread that started the child
	// ends, so that thread stays this goroutine's until the child is gone.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	harden.ForChild()

	var secrets *maskSet
	if o.Mask {
		secrets = newMaskSet(p.Secrets)
	}
	cmd := exec.Command(p.Path)
	cmd.Args, cmd.Env = p.Argv, p.Env
	if term.IsTerminal(int(std.Stdout.Fd())) {
		return superviseTTY(cmd, std, secrets)
	}
	return supervisePipes(cmd, std, secrets)
}

// supervisePipes: the child stays in hush's process group, like any other
// member of the shell's pipeline, so job control (Ctrl-Z, fg, a `| less`
// that reads the terminal) works as without hush. When that group is the
// terminal's foreground, the terminal already delivers Ctrl-C, Ctrl-\ and
// window changes to the child itself: hush does not forward those again.
// Every other forwarded signal, and all of them without a terminal, came
// from kill and are passed on.
func supervisePipes(cmd *exec.Cmd, s Stdio, secrets *maskSet) (int, error) {
	cmd.SysProcAttr = withParentDeath(&syscall.SysProcAttr{})
	var fromTerminal func(os.Signal) bool
	if tty, fg := foregroundTTY(); tty != nil {
		tty.Close()
		if fg {
			fromTerminal = func(sig os.Signal) bool {
				return sig == syscall.SIGINT || sig == syscall.SIGQUIT || sig == syscall.SIGWINCH
			}
		}
	}
	cmd.Stdin = s.Stdin
	// Our own pipes rather than cmd.StdoutPipe: Wait must not close them
	// before everything the child wrote has been read and masked.
	outR, outW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return 0, err
	}
	defer outR.Close()
	defer errR.Close()
	// Bigger pipes: a program that writes fast (cat of a log) hands hush
	// fewer, larger pieces, and both switch less often. The same for the
	// pipes hush writes to, when its stdout and stderr are pipes: a whole
	// masked piece goes in with one write, while the reader at the other
	// end (the next program of the shell's pipeline) goes on reading, and
	// neither waits for the other after every 64 KiB.
	growPipe(outW)
	growPipe(errW)
	growPipe(s.Stdout)
	growPipe(s.Stderr)
	cmd.Stdout, cmd.Stderr = outW, errW
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	err = cmd.Start()
	outW.Close()
	errW.Close()
	if err != nil {
		return 0, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
	}
	drains := []*drain{{f: outR}, {f: errR}}
	var copies sync.WaitGroup
	for i, m := range []*Masker{newMaskerWith(s.Stdout, secrets), newMaskerWith(s.Stderr, secrets)} {
		d := drains[i]
		copies.Add(1)
		go func() {
			defer copies.Done()
			d.stopped(m.copyOut(d))
			m.Close()
		}()
	}
	done := make(chan struct{})
	var forwarder sync.WaitGroup
	forwarder.Add(1)
	go func() {
		defer forwarder.Done()
		forward(cmd.Process, sigs, done, nil, fromTerminal)
	}()
	err = cmd.Wait()
	close(done)
	forwarder.Wait()
	// Everything the child wrote is copied, to end of file. Only a program
	// it started that keeps the pipes open (a daemon) can stop that, after
	// DrainGrace of silence (drainAfterExit).
	copied := make(chan struct{})
	go func() { copies.Wait(); close(copied) }()
	if drainAfterExit(copied, drains) {
		fmt.Fprintf(s.Stderr, "hush: note: %s exited but a program it started still holds its output open; "+
			"hush stopped reading after %s of silence, so later output from that program is not shown\n",
			cmd.Args[0], DrainGrace)
	}
	code, err := exitCode(cmd, err)
	if err != nil {
		return code, err
	}
	return reportLost(s.Stderr, cmd.Args[0], drains, code, "\n"), nil
}

// superviseTTY runs the child on a new pseudo-terminal in its own session.
// hush's terminal goes raw, so keys (Ctrl-C included) reach the child's
// terminal as typed, and its line discipline signals the child once.
func superviseTTY(cmd *exec.Cmd, s Stdio, secrets *maskSet) (int, error) {
	cmd.SysProcAttr = withParentDeath(&syscall.SysProcAttr{Setsid: true, Setctty: true})
	started, err := pty.StartWithAttrs(cmd, nil, cmd.SysProcAttr)
	if err != nil {
		return 0, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
	}
	ptmx, err := pollable(started)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	defer ptmx.Close()
	resize := func() { inheritSize(s.Stdout, ptmx) }
	resize()
	stdinTTY := term.IsTerminal(int(s.Stdin.Fd()))
	if stdinTTY {
		if old, err := term.MakeRaw(int(s.Stdin.Fd())); err == nil {
			defer term.Restore(int(s.Stdin.Fd()), old)
		}
	}
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)

	// stdin → child. This goroutine may stay blocked on a read after the
	// child is gone; hush exits right after, so it is not waited for.
	go func() {
		io.Copy(ptmx, s.Stdin)
		if !stdinTTY {
			ptmx.Write([]byte{4}) // end of input: ^D on the child's terminal
		}
	}()
	out := newMaskerWith(s.Stdout, secrets)
	d := &drain{f: ptmx}
	copied := make(chan struct{})
	go func() {
		d.stopped(eofAtHangup(out.copyOut(d)))
		out.Close()
		close(copied)
	}()
	done := make(chan struct{})
	var forwarder sync.WaitGroup
	forwarder.Add(1)
	go func() {
		defer forwarder.Done()
		forward(cmd.Process, sigs, done, resize, nil)
	}()
	err = cmd.Wait()
	close(done)
	forwarder.Wait()
	if drainAfterExit(copied, []*drain{d}) {
		fmt.Fprintf(s.Stderr, "hush: note: %s exited but a program it started still holds its terminal open; "+
			"hush stopped reading after %s of silence, so later output from that program is not shown\r\n",
			cmd.Args[0], DrainGrace)
	}
	code, err := exitCode(cmd, err)
	if err != nil {
		return code, err
	}
	return reportLost(s.Stderr, cmd.Args[0], []*drain{d}, code, "\r\n"), nil
}

// eofAtHangup is a terminal's end: reading its master ends with EIO once
// the child's side is closed, which is the end of the output, not a loss.
func eofAtHangup(err error) error {
	if errors.Is(err, syscall.EIO) {
		return nil
	}
	return err
}

// pollable turns the pseudo-terminal's master into a file the Go runtime
// polls, so that a read deadline can end a read that would wait forever (a
// daemon holding the terminal, see drainAfterExit): a non-blocking copy of
// its descriptor, the original closed. (Fd would make it blocking again, so
// the copy is only used through the poller and SyscallConn.)
func pollable(f *os.File) (*os.File, error) {
	defer f.Close()
	fd, err := unix.Dup(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("failed to set up the terminal: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to set up the terminal: %w", err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// inheritSize gives the child's terminal the size of hush's.
func inheritSize(from, to *os.File) {
	ws, err := unix.IoctlGetWinsize(int(from.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return
	}
	if rc, err := to.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, ws) })
	}
}

// forward passes signals to the child until done. With onWinch set (the
// pseudo-terminal case) a window change resizes the child's terminal, which
// signals the child by itself, instead of being forwarded. Signals for
// which skip is true already reached the child from the terminal.
func forward(p *os.Process, sigs <-chan os.Signal, done <-chan struct{}, onWinch func(), skip func(os.Signal) bool) {
	for {
		select {
		case <-done:
			return
		case sig := <-sigs:
			if sig == syscall.SIGWINCH && onWinch != nil {
				onWinch()
				continue
			}
			if skip != nil && skip(sig) {
				continue
			}
			p.Signal(sig)
		}
	}
}

// foregroundTTY opens the controlling terminal and reports whether hush's
// process group is its foreground group.
func foregroundTTY() (*os.File, bool) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, false
	}
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	if err != nil {
		f.Close()
		return nil, false
	}
	return f, pgrp == unix.Getpgrp()
}

func exitCode(cmd *exec.Cmd, err error) (int, error) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return 0, err
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return cmd.ProcessState.ExitCode(), nil
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return ws.ExitStatus(), nil
}
