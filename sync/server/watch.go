package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// DefaultHeartbeat is how often a watch stream carries a heartbeat when
// nothing else happens: a client that hears nothing for
// wire.WatchSilence takes the connection as dead.
const DefaultHeartbeat = wire.WatchHeartbeat

// hub fans "the team head moved" out to the devices watching a team. It
// holds one small channel per subscription and nothing per team beyond
// the set of them; a slow subscriber only misses intermediate heads (its
// channel keeps the newest), never blocks a push.
type hub struct {
	mu     sync.Mutex
	subs   map[string]map[*sub]struct{} // team -> subscriptions
	closed chan struct{}                // closed when the server shuts down
	once   sync.Once
}

func (h *hub) close() { h.once.Do(func() { close(h.closed) }) }

type sub struct {
	device string
	ch     chan int64    // capacity 1: the newest head
	gone   chan struct{} // closed when the device is removed
	once   sync.Once
}

func newHub() *hub { return &hub{subs: map[string]map[*sub]struct{}{}, closed: make(chan struct{})} }

// add subscribes device to team's heads, unless it already holds limit
// streams (nil then).
func (h *hub) add(team, device string, limit int) *sub {
	s := &sub{device: device, ch: make(chan int64, 1), gone: make(chan struct{})}
	h.mu.Lock()
	n := 0
	for o := range h.subs[team] {
		if o.device == device {
			n++
		}
	}
	if n >= limit {
		h.mu.Unlock()
		return nil
	}
	if h.subs[team] == nil {
		h.subs[team] = map[*sub]struct{}{}
	}
	h.subs[team][s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) drop(team string, s *sub) {
	h.mu.Lock()
	delete(h.subs[team], s)
	if len(h.subs[team]) == 0 {
		delete(h.subs, team)
	}
	h.mu.Unlock()
}

// publish tells every watcher of team that its head is now head (or that
// its membership log moved, with the same head: a watcher only ever
// learns "go look").
func (h *hub) publish(team string, head int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[team] {
		select {
		case <-s.ch: // drop the older head: the newest is what matters
		default:
		}
		s.ch <- head
	}
}

// remove ends the watch streams of removed devices.
func (h *hub) remove(team string, devices []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[team] {
		for _, d := range devices {
			if s.device == d {
				s.once.Do(func() { close(s.gone) })
			}
		}
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.subs {
		n += len(m)
	}
	return n
}

// Watching is how many watch streams are open (for tests and metrics).
func (s *Server) Watching() int { return s.hub.count() }

// watch is GET /v1/watch: a server-sent event stream that says only
// "head N" whenever the team's head moves (and once at the start), with a
// comment line every heartbeat. It carries no names, no sizes, no record
// ids: the device answers it with an ordinary, fully verified sync.
func (s *Server) watch(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	c, err := s.st.Changes(r.Context(), dev.Team, math.MaxInt64-1, 1)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	sb := s.hub.add(dev.Team, dev.ID, s.opts.WatchesPerDevice)
	if sb == nil {
		fail(w, http.StatusTooManyRequests, "this device already holds "+strconv.Itoa(s.opts.WatchesPerDevice)+" watch streams: close one first")
		return
	}
	defer s.hub.drop(dev.Team, sb)
	rc := http.NewResponseController(w)
	// The stream outlives the server's read and write timeouts: each
	// write gets its own deadline instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	send := func(line string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(wire.WatchSilence)) // a reader silent that long is gone
		if _, err := fmt.Fprint(w, line); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("event: head\ndata: " + strconv.FormatInt(c.Head, 10) + "\n\n") {
		return
	}
	tick := time.NewTicker(s.opts.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.hub.closed:
			return
		case <-sb.gone:
			send("event: removed\ndata: 0\n\n")
			return
		case head := <-sb.ch:
			if !send("event: head\ndata: " + strconv.FormatInt(head, 10) + "\n\n") {
				return
			}
		case <-tick.C:
			if !send(": ping\n\n") {
				return
			}
		}
	}
}

// notify tells the team's watchers its current head, after a change
// that is not a push (the membership log moved).
func (s *Server) notify(r *http.Request, team string) {
	c, err := s.st.Changes(r.Context(), team, math.MaxInt64-1, 1)
	if err != nil {
		s.log.Warn("watchers not told", "team", team, "err", err)
		return
	}
	s.hub.publish(team, c.Head)
}
