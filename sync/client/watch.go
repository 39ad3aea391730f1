package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hush-secrets/hush/sync/wire"
)

// WatchKind says what a watch stream reported.
type WatchKind int

const (
	// WatchHead: the team's head is now Head (also sent on every
	// (re)connection). It is only a reason to sync: nothing in it is
	// trusted, the sync verifies everything as always.
	WatchHead WatchKind = iota
	// WatchUnreachable: the server could not be reached, or the stream
	// went silent or broke; the watcher retries with backoff. Err says why.
	WatchUnreachable
)

// WatchEvent is one thing a watch stream reported.
type WatchEvent struct {
	Kind WatchKind
	Head int64
	Err  error
}

// ErrWatchRefused wraps the server turning a watch away for good: this
// device is unknown to it (removed from the team, or the server lost its
// data), or the server ended the stream because the device was removed.
var ErrWatchRefused = errors.New("the team server no longer lets this device watch")

// Watcher holds one long-lived, signed subscription to the team server's
// "the team head moved" stream. It holds no lock on the vault: whoever
// answers an event opens the Team to sync.
type Watcher struct {
	c *conn
	// Silence: a stream quiet this long is taken as dead (default
	// wire.WatchSilence). MaxBackoff caps the wait between reconnections.
	Silence    time.Duration
	MaxBackoff time.Duration
	// HeadRate and HeadBurst bound how often a head is passed on: at
	// most HeadBurst at once, then HeadRate per second (defaults
	// WatchHeadRate, WatchHeadBurst). Heads that come while one waits or
	// is being answered collapse into the newest. A server flooding the
	// stream makes the device sync at most that often.
	HeadRate  float64
	HeadBurst int
}

// The default bound on heads passed on: a burst of 20, then 20 a second.
// Every team push is one head, so a busy team is far below it; a device
// answers each with a sync, which costs it a few milliseconds of work.
const (
	WatchHeadRate  = 20
	WatchHeadBurst = 20
)

// Watcher returns a Watcher for this device's team server.
func (t *Team) Watcher() (*Watcher, error) {
	c, err := t.st.conn()
	if err != nil {
		return nil, err
	}
	c.http.Timeout = 0 // the stream is long-lived; silence is watched instead
	return &Watcher{c: c, Silence: wire.WatchSilence, MaxBackoff: 5 * time.Second, HeadRate: WatchHeadRate, HeadBurst: WatchHeadBurst}, nil
}

// Run keeps the subscription until ctx ends (returning nil) or the server
// refuses this device (an error wrapping ErrWatchRefused), calling on for
// the events, in order, from one goroutine, never two calls at once; it
// returns once the last call has. Events of one kind that come in a row
// while on is busy collapse into the newest, and heads are passed on at
// most HeadRate a second after a burst of HeadBurst: however fast a server
// sends them, on runs a bounded number of times. Lost connections are retried with exponential
// backoff and full jitter, from 100 ms up to MaxBackoff.
func (w *Watcher) Run(ctx context.Context, on func(WatchEvent)) error {
	d := newDispatch(on, rate.NewLimiter(rate.Limit(w.HeadRate), max(w.HeadBurst, 1)))
	defer d.close()
	return w.run(ctx, d.send)
}

func (w *Watcher) run(ctx context.Context, on func(WatchEvent)) error {
	failures := 0
	for {
		err := w.once(ctx, on, &failures)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, ErrWatchRefused) {
			return err
		}
		on(WatchEvent{Kind: WatchUnreachable, Err: err})
		failures++
		d := min(100*time.Millisecond<<min(failures, 10), w.MaxBackoff)
		d = d/2 + rand.N(d/2+1) // jitter: a restarted server is not met by every device at once
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// once runs one connection until it breaks.
func (w *Watcher) once(ctx context.Context, on func(WatchEvent), failures *int) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := w.c.request(ctx, http.MethodGet, "/v1/watch", nil)
	if err != nil {
		return err
	}
	resp, err := w.c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrOffline, w.c.base, errors.Unwrap(err))
	}
	defer resp.Body.Close()
	if err := w.c.redirected(resp); err != nil {
		return fmt.Errorf("%w: %w", ErrWatchRefused, err) // for good, not "unreachable, retrying"
	}
	if resp.StatusCode != http.StatusOK {
		var e wire.Error
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = http.StatusText(resp.StatusCode)
		}
		se := &ServerError{Status: resp.StatusCode, Msg: printable(e.Error)}
		if resp.StatusCode == http.StatusUnauthorized && e.Error == "unauthenticated" {
			return fmt.Errorf("%w: %w", ErrWatchRefused, se)
		}
		return se
	}
	// Lines come from a reader goroutine; the silence timer runs here.
	lines := make(chan string)
	errc := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1024), 4<<10)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		err := sc.Err()
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		errc <- err
	}()
	silence := time.NewTimer(w.Silence)
	defer silence.Stop()
	var p streamParser
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errc:
			return fmt.Errorf("%w at %s: the watch stream ended: %v", ErrOffline, w.c.base, err)
		case <-silence.C:
			return fmt.Errorf("%w at %s: nothing heard for %s", ErrOffline, w.c.base, w.Silence)
		case line := <-lines:
			silence.Reset(w.Silence)
			event, head, err := p.line(line)
			switch {
			case err != nil:
				return err
			case event == "head":
				*failures = 0
				on(WatchEvent{Kind: WatchHead, Head: head})
			case event == "removed":
				return fmt.Errorf("%w: the server says this device was removed from the team", ErrWatchRefused)
			}
		}
	}
}

// streamParser reads a watch stream (server-sent events) line by line.
// It knows two events, "head" (data: the head, a sequence number) and
// "removed"; comments (heartbeats) and anything else are skipped.
type streamParser struct{ event, data string }

// line takes one line (without its end); at the blank line that ends an
// event it returns the event's name and, for "head", the head.
func (p *streamParser) line(l string) (event string, head int64, err error) {
	switch {
	case strings.HasPrefix(l, ":"): // heartbeat
	case strings.HasPrefix(l, "event: "):
		p.event = strings.TrimPrefix(l, "event: ")
	case strings.HasPrefix(l, "data: "):
		p.data = strings.TrimPrefix(l, "data: ")
	case l == "":
		event, data := p.event, p.data
		p.event, p.data = "", ""
		switch event {
		case "head":
			head, err := strconv.ParseInt(data, 10, 64)
			if err != nil || head < 0 {
				return "", 0, errors.New("the team server sent an unreadable watch event")
			}
			return event, head, nil
		case "removed":
			return event, 0, nil
		}
	}
	return "", 0, nil
}

// dispatch passes a watcher's events to its callback from a goroutine of
// its own, so that reading the stream never waits for the answer to an
// event (a sync), and a flood of events cannot queue up work.
type dispatch struct {
	on    func(WatchEvent)
	heads *rate.Limiter
	mu    sync.Mutex
	queue []WatchEvent // at most maxQueued; consecutive ones differ in kind
	wake  chan struct{}
	stop  chan struct{}
	done  chan struct{}
}

// maxQueued bounds the events waiting: only heads and unreachables
// alternate in it, and only the last few matter.
const maxQueued = 4

func newDispatch(on func(WatchEvent), heads *rate.Limiter) *dispatch {
	d := &dispatch{on: on, heads: heads, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go d.loop()
	return d
}

func (d *dispatch) send(e WatchEvent) {
	d.mu.Lock()
	if n := len(d.queue); n > 0 && d.queue[n-1].Kind == e.Kind {
		d.queue[n-1] = e // the newest of a run of one kind is what matters
	} else {
		d.queue = append(d.queue, e)
		if len(d.queue) > maxQueued {
			d.queue = append(d.queue[:0], d.queue[len(d.queue)-maxQueued:]...)
		}
	}
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest waiting event.
func (d *dispatch) next() (WatchEvent, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.queue) == 0 {
		return WatchEvent{}, false
	}
	e := d.queue[0]
	d.queue = d.queue[1:]
	return e, true
}

// newerHead replaces e, a head, by a newer one waiting right behind it.
func (d *dispatch) newerHead(e WatchEvent) WatchEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.queue) > 0 && d.queue[0].Kind == WatchHead {
		e, d.queue = d.queue[0], d.queue[1:]
	}
	return e
}

func (d *dispatch) loop() {
	defer close(d.done)
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		}
		for e, ok := d.next(); ok; e, ok = d.next() {
			if e.Kind == WatchHead {
				if wait := d.heads.Reserve().Delay(); wait > 0 {
					t := time.NewTimer(wait)
					select {
					case <-d.stop:
						t.Stop()
						return
					case <-t.C:
					}
					e = d.newerHead(e)
				}
			}
			d.on(e)
		}
	}
}

// close drops what waits and returns once a call under way has ended.
func (d *dispatch) close() {
	close(d.stop)
	<-d.done
}
