package run

import (
	"os"
	"os/signal"
	"syscall"
)

// Held are the signals that would otherwise end hush at once. SIGPIPE is
// among them so that a closed stdout (`hush run ... | head -1`) ends the
// child, which then gets the broken pipe itself, rather than hush.
var Held = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE}

// Hold keeps the signals in [Held] from ending hush while it has work to
// finish around a supervised child (dropping the short-lived logins of
// --dynamic): they arrive on C instead. While [Supervise] runs, it still
// forwards them to the child as usual; the caller decides what they mean
// before the child starts and after it ended.
type Hold struct {
	C  <-chan os.Signal
	ch chan os.Signal
}

// HoldSignals starts holding; Release ends it.
func HoldSignals() *Hold {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, Held...)
	return &Hold{C: ch, ch: ch}
}

// Drain forgets the signals received so far (those that were forwarded
// to the child while it ran).
func (h *Hold) Drain() {
	for {
		select {
		case <-h.ch:
		default:
			return
		}
	}
}

// Release stops holding: the signals have their usual effect again.
func (h *Hold) Release() { signal.Stop(h.ch) }
