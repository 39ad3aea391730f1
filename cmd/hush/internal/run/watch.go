//go:build unix

package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

// SuperviseWatch starts the child and restarts it with each plan from
// w.Restart: w.Signal to its process group, up to w.Grace for it to end,
// then SIGKILL to the group, and a new start with the new environment.
// The child runs in a process group of its own, so that whatever it
// started is stopped with it; hush forwards the signals in [Forwarded] to
// that group. A child that exits by itself ends SuperviseWatch with its
// exit code (128+N for signal N). Its stdin, stdout and stderr are
// hush's own (no masking).
func SuperviseWatch(p *Plan, std Stdio, w Watch) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	harden.ForChild()
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	// In a terminal's foreground, each child's group takes the terminal
	// over (as a shell does for a job): it reads keys, and Ctrl-C reaches
	// it from the terminal itself. The shell takes the terminal back when
	// hush exits.
	tty, fg := foregroundTTY()
	if tty != nil {
		defer tty.Close()
	}
	for {
		cmd := exec.Command(p.Path)
		cmd.Args, cmd.Env = p.Argv, p.Env
		cmd.Stdin, cmd.Stdout, cmd.Stderr = std.Stdin, std.Stdout, std.Stderr
		attr := &syscall.SysProcAttr{Setpgid: true}
		if fg {
			attr.Foreground, attr.Ctty = true, int(tty.Fd())
		}
		cmd.SysProcAttr = withParentDeath(attr)
		if err := cmd.Start(); err != nil {
			return 0, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
		}
		pgid := cmd.Process.Pid
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		stop := func() {
			syscall.Kill(-pgid, w.Signal)
			t := time.NewTimer(w.Grace)
			defer t.Stop()
			select {
			case err := <-exited:
				exited <- err
			case <-t.C:
				w.Notef("%s did not stop within %s of %v: killing it", cmd.Args[0], w.Grace, w.Signal)
			}
			// Whatever the child started and left behind goes too.
			syscall.Kill(-pgid, syscall.SIGKILL)
		}
		var next *Plan
	running:
		for {
			select {
			case err := <-exited:
				syscall.Kill(-pgid, syscall.SIGKILL) // leftovers of the child's group
				return exitCode(cmd, err)
			case sig := <-sigs:
				syscall.Kill(-pgid, sig.(syscall.Signal))
			case reason := <-w.Stop:
				w.Notef("stopping %s: %s", cmd.Args[0], reason)
				stop()
				<-exited
				return 1, &StoppedError{Reason: reason}
			case np := <-w.Restart:
				if w.OnlySignal {
					w.Notef("secrets changed: sending %v to %s", w.Signal, cmd.Args[0])
					cmd.Process.Signal(w.Signal)
					continue
				}
				w.Notef("secrets changed: restarting %s", cmd.Args[0])
				stop()
				<-exited
				next = np
				break running
			}
		}
		p = next
		// Changes that came while the old child stopped: the newest plan.
		for drained := false; !drained; {
			select {
			case np := <-w.Restart:
				p = np
			default:
				drained = true
			}
		}
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
