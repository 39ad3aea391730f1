// The types the supervisor shares on every platform; what it does with
// them is in supervise.go, watch.go and their _windows files.

package run

import (
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"time"
)

// Stdio are the streams a supervised child is connected to.
type Stdio struct {
	Stdin          *os.File
	Stdout, Stderr *os.File
}

// StdioOf are the streams a supervised child gets: those of in, out and
// errOut that are files, and this process's own for the others.
func StdioOf(in io.Reader, out, errOut io.Writer) Stdio {
	s := Stdio{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if f, ok := in.(*os.File); ok {
		s.Stdin = f
	}
	if f, ok := out.(*os.File); ok {
		s.Stdout = f
	}
	if f, ok := errOut.(*os.File); ok {
		s.Stderr = f
	}
	return s
}

// SuperviseOptions choose what the supervisor does between hush and child.
type SuperviseOptions struct {
	Mask bool // replace secret values in the child's output
}

// Watch says how [SuperviseWatch] follows changes to a child's secrets.
type Watch struct {
	// Signal is sent to the child's process group to restart it (or, with
	// OnlySignal, to the child alone as the whole reaction).
	Signal     syscall.Signal
	OnlySignal bool
	// Grace is how long a child has to exit after Signal before its
	// process group gets SIGKILL.
	Grace time.Duration
	// Restart brings the plan for the next start, once the secrets it
	// was given have changed (debounced by the caller).
	Restart <-chan *Plan
	// Stop brings a reason to stop the child for good (a revoked secret):
	// SuperviseWatch stops it as for a restart and returns a StoppedError.
	Stop <-chan string
	// Notef says what hush does, one line at a time.
	Notef func(format string, args ...any)
	// Mask replaces the injected values in the child's output, as
	// [SuperviseOptions.Mask] does: one masker per start, each start's
	// output read to its end before the next starts, and every value any
	// start was given stays masked.
	Mask bool
	// Around, when set, gives the work around each start (the logins of
	// --dynamic): its Before runs before that start (at a restart, while
	// the old child still runs), its After once that start has ended.
	Around func() Around
}

// ParseWatch reads `run --watch MODE --watch-signal NAME --watch-grace D`:
// MODE is "restart" or "signal:NAME" (then only that signal is sent).
// Every error is a mistake in how hush was called.
func ParseWatch(mode, signal string, grace time.Duration) (Watch, error) {
	var w Watch
	name := signal
	switch {
	case mode == "restart":
	case strings.HasPrefix(mode, "signal:"):
		w.OnlySignal = true
		name = strings.TrimPrefix(mode, "signal:")
	default:
		return w, errors.New("--watch is restart (the default) or signal:NAME, e.g. --watch=signal:HUP")
	}
	sig, err := ParseSignal(strings.ToUpper(name))
	if err != nil {
		return w, err
	}
	if grace <= 0 {
		return w, errors.New("--watch-grace takes a positive duration, e.g. 10s")
	}
	w.Signal, w.Grace = sig, grace
	return w, nil
}

// StoppedError is a watched child stopped by hush, and why.
type StoppedError struct{ Reason string }

func (e *StoppedError) Error() string { return e.Reason }
