package run

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// DrainGrace is how long hush goes on waiting, after the child exited, for
// more output on a pipe (or terminal) that nobody writes to although it is
// still open: the child started a program (a daemon) that keeps it open.
// Output already written is never cut: while anything is waiting to be
// read, or hush is still masking or writing it, the clock does not run.
const DrainGrace = 2 * time.Second

// drainPoll is how often the silence is checked.
const drainPoll = 50 * time.Millisecond

// copyBuffer is the size of the reads from the child's output: as large as
// the pipe (growPipe), so that a program that writes faster than hush
// masks is read in as few pieces as can be.
const copyBuffer = 1 << 20

// drain is a reader over the child's end of an output pipe that says
// whether it is waiting in read, so that "nothing more comes" can be told
// apart from "hush is behind".
type drain struct {
	f       *os.File
	reading atomic.Bool
	reads   atomic.Int64
	ended   atomic.Bool // read failed: end of file, or the deadline
	lost    error       // why copying stopped early; read after copied
}

func (d *drain) Read(p []byte) (int, error) {
	d.reading.Store(true)
	n, err := d.f.Read(p)
	d.reading.Store(false)
	d.reads.Add(1)
	if err != nil {
		d.ended.Store(true)
	}
	return n, err
}

// idle reports whether the reader waits in read on an empty file, or has
// reached its end.
func (d *drain) idle() bool {
	if d.ended.Load() {
		return true
	}
	if !d.reading.Load() {
		return false
	}
	n, ok := unread(d.f)
	return !ok || n == 0
}

// drainAfterExit waits for copied (every reader reached end of file) once
// the child has exited. Only when every unfinished reader has waited on an
// empty file for DrainGrace without a single read completing does it stop
// them with a deadline, and then it reports true: something other than the
// child holds the output open and what it writes later is not shown.
func drainAfterExit(copied <-chan struct{}, ds []*drain) (cut bool) {
	tick := time.NewTicker(drainPoll)
	defer tick.Stop()
	var quietSince time.Time
	last := make([]int64, len(ds))
	for {
		select {
		case <-copied:
			return false
		case now := <-tick.C:
			quiet := true
			for i, d := range ds {
				r := d.reads.Load()
				if r != last[i] || !d.idle() {
					quiet = false
				}
				last[i] = r
			}
			switch {
			case !quiet:
				quietSince = time.Time{}
			case quietSince.IsZero():
				quietSince = now
			case now.Sub(quietSince) >= DrainGrace:
				for _, d := range ds {
					d.f.SetReadDeadline(time.Now())
				}
				<-copied
				return true
			}
		}
	}
}

// stopped is what a copying goroutine does with copyOut's error. At end of
// file or drainAfterExit's deadline there is nothing to do. Otherwise the
// child's pipe is closed, so that it gets a broken pipe instead of a full
// one it would block on, and unless nobody reads hush's output any more
// (a closed pipe: hush survives it only while it holds SIGPIPE, see
// SuperviseAround) the error is kept for reportLost: output must never go
// missing without a word.
func (d *drain) stopped(err error) {
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		return
	}
	d.f.Close()
	if !errors.Is(err, syscall.EPIPE) {
		d.lost = err
	}
}

// reportLost says on w that part of the output of name was not passed on
// when a copy of ds stopped early, and turns a success into exit code 1 so
// that a script notices; it returns the exit code to end with. Call it only
// once every copy has ended.
func reportLost(w io.Writer, name string, ds []*drain, code int, end string) int {
	for _, d := range ds {
		if d.lost == nil {
			continue
		}
		fmt.Fprintf(w, "hush: error: failed to pass on the output of %s (%v): what it wrote after that is not shown%s", name, d.lost, end)
		if code == 0 {
			code = 1
		}
		break
	}
	return code
}
