package run

// Windows.
//
// Does: starts the child with CreateProcess (there is no execve), puts it
// in a kill-on-close job object so it never outlives hush, and waits for
// it, exiting with its code. Ctrl-C and Ctrl-Break reach every process on
// the console by themselves, the child included, so hush does not send
// them again: it only keeps them from ending hush before the child ends.
// --mask reads the child's output through pipes.
//
// Cannot: give the child a pseudo-console under --mask, so a masked child
// sees pipes, not a terminal (no colours or line editing it would decide
// on from a terminal); forward kill signals (Windows has none: a
// TerminateProcess of hush ends the job, and so the child, instead);
// report a child ended by a signal as 128+N (Windows has only exit codes).

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

// Forwarded: Windows delivers console control events to the child
// itself. Listed so that hush holds them while the child runs.
var Forwarded = []os.Signal{os.Interrupt}

// Supervise starts the child, stays with it and returns its exit code.
func Supervise(p *Plan, std Stdio, o SuperviseOptions) (int, error) {
	harden.ForChild()
	var secrets [][]byte
	if o.Mask {
		secrets = p.Secrets
	}
	cmd := exec.Command(p.Path)
	cmd.Args, cmd.Env = p.Argv[:len(p.Argv):len(p.Argv)], p.Env
	cmd.Stdin = std.Stdin
	if !o.Mask {
		cmd.Stdout, cmd.Stderr = std.Stdout, std.Stderr
		return wait(cmd, nil)
	}
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
	cmd.Stdout, cmd.Stderr = outW, errW
	var copies sync.WaitGroup
	started := func() {
		outW.Close()
		errW.Close()
		for _, c := range []struct {
			r *os.File
			m *Masker
		}{{outR, NewMasker(std.Stdout, secrets)}, {errR, NewMasker(std.Stderr, secrets)}} {
			copies.Add(1)
			go func() {
				defer copies.Done()
				if _, err := io.Copy(c.m, c.r); err != nil {
					c.r.Close()
				}
				c.m.Close()
			}()
		}
	}
	code, err := wait(cmd, started)
	if err != nil {
		outW.Close()
		errW.Close()
		return code, err
	}
	// A grandchild that kept the pipes open gets a second, then hush stops
	// reading.
	copied := make(chan struct{})
	go func() { copies.Wait(); close(copied) }()
	select {
	case <-copied:
	case <-time.After(time.Second):
		outR.SetReadDeadline(time.Now())
		errR.SetReadDeadline(time.Now())
		<-copied
	}
	return code, nil
}

// wait starts cmd in a kill-on-close job, calls started (if set) once it
// runs, holds Ctrl-C and Ctrl-Break until it ends and returns its code.
func wait(cmd *exec.Cmd, started func()) (int, error) {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, Forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("failed to start %s: %w", cmd.Args[0], err)
	}
	if err := bindToHush(cmd.Process); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return 0, err
	}
	if started != nil {
		started()
	}
	err := cmd.Wait()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}
