//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hush-secrets/hush/sync/wire"
)

// liar is an HTTP proxy in front of a real hush server that passes every
// request on, and on command lies on the watch stream: a flood of
// made-up heads. It counts the pulls (GET /v1/changes) that devices make.
type liar struct {
	srv     *http.Server
	changes atomic.Int64
	mu      sync.Mutex
	streams map[*http.Request]context.CancelFunc // watch streams passed on, open now
	flood   int                                  // heads to send on the next watch stream
	// from the flood on: pulls when it began, and when the device came
	// back for another stream (it had read the whole flood)
	floodAt, backAt int64
	flooded, back   bool
	backCh          chan struct{}
	swallow         atomic.Bool // answer pushes "ok" without passing them on
	// hold: the next push waits (held is closed when it comes) until
	// release is closed, then goes on to the server.
	hold          atomic.Bool
	held, release chan struct{}
	// cut: chain pages are cut inside a push; cutAt is where (0: not yet)
	cut   atomic.Bool
	cutAt wire.ChainCursor
}

type liarKey struct{}

// watchliar VAR URL starts a liar in front of the server at URL and sets
// $VAR to its URL.
func cmdWatchLiar(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: watchliar VAR URL")
	}
	target, err := url.Parse(args[1])
	ts.Check(err)
	l := &liar{streams: map[*http.Request]context.CancelFunc{}, backCh: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.FlushInterval = -1 // a watch stream's lines go on at once
	rp.ModifyResponse = l.cutChain
	l.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/changes":
			l.changes.Add(1)
		case "/v1/watch":
			if l.watch(w, r, rp) {
				return
			}
		case "/v2/push":
			if l.hold.CompareAndSwap(true, false) {
				l.mu.Lock()
				held, release := l.held, l.release
				l.mu.Unlock()
				close(held)
				select {
				case <-release:
				case <-time.After(60 * time.Second):
				}
			}
			if l.swallow.Load() {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"status":"ok"}`))
				return
			}
		}
		rp.ServeHTTP(w, r)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	go l.srv.Serve(ln)
	ts.Defer(func() { l.srv.Close() })
	ts.Setenv(args[0], "http://"+ln.Addr().String())
	ts.Value(liarKey{}).(map[string]*liar)[args[0]] = l
}

// watch serves a watch stream: the flood when one is due (then it ends
// the stream), else the real server's stream, which a flood command ends.
func (l *liar) watch(w http.ResponseWriter, r *http.Request, rp *httputil.ReverseProxy) bool {
	l.mu.Lock()
	n := l.flood
	l.flood = 0
	if n == 0 && l.flooded && !l.back {
		l.back, l.backAt = true, l.changes.Load()
		close(l.backCh)
	}
	if n > 0 {
		l.flooded, l.floodAt = true, l.changes.Load()
		l.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		for i := 0; i < n; i++ {
			// Heads that are not there: far ahead, and jumping about.
			fmt.Fprintf(w, "event: head\ndata: %d\n\n", 1_000_000_000+(i*7919)%100_000)
		}
		w.(http.Flusher).Flush()
		return true
	}
	ctx, cancel := context.WithCancel(r.Context())
	r2 := r.WithContext(ctx)
	l.streams[r2] = cancel
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.streams, r2)
		l.mu.Unlock()
		cancel()
	}()
	rp.ServeHTTP(w, r2)
	return true
}

// liarflood VAR N: the next watch stream through liar $VAR gets N made-up
// heads; the streams open now are ended, so that devices come for it.
func cmdLiarFlood(ts *testscript.TestScript, neg bool, args []string) {
	l := liarNamed(ts, args[0])
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	l.mu.Lock()
	l.flood = n
	for _, cancel := range l.streams {
		cancel()
	}
	l.mu.Unlock()
}

// liarpulls VAR MAX waits (at most 60 s) until a device read a whole flood
// and came back for another stream, then checks that it pulled at most
// MAX times meanwhile: a flood of heads is answered by a bounded number
// of syncs, not one each.
func cmdLiarPulls(ts *testscript.TestScript, neg bool, args []string) {
	l := liarNamed(ts, args[0])
	max, err := strconv.Atoi(args[1])
	ts.Check(err)
	select {
	case <-l.backCh:
	case <-time.After(60 * time.Second):
		ts.Fatalf("no device came back for a watch stream after the flood within 60s")
	}
	l.mu.Lock()
	n := l.backAt - l.floodAt
	l.mu.Unlock()
	ts.Logf("%d pulls while the flood was read", n)
	if n > int64(max) {
		ts.Fatalf("%d pulls while a flood was read, want at most %d", n, max)
	}
}

func liarNamed(ts *testscript.TestScript, name string) *liar {
	l := ts.Value(liarKey{}).(map[string]*liar)[name]
	if l == nil {
		ts.Fatalf("no watchliar %s", name)
	}
	return l
}

// cutChain, in cut mode, cuts the first chain page that holds a push
// after that push's first entry ("more follow"), then answers every pull
// after it with no entries and the cut as the chain's head: a server that
// stops a device inside a push and shows it an older head.
func (l *liar) cutChain(resp *http.Response) error {
	if resp.Request.URL.Path != "/v2/chain" || resp.StatusCode != http.StatusOK || !l.cut.Load() {
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	var pg wire.ChainPage
	if err := json.Unmarshal(b, &pg); err != nil {
		return err
	}
	l.mu.Lock()
	if l.cutAt.Pos == 0 {
		for i, e := range pg.Entries {
			// The entry after it names its hash (an honest page runs on to
			// the end of the push).
			if e.PushLast > e.Pos && i+1 < len(pg.Entries) {
				named := map[string]bool{}
				for _, e := range pg.Entries[:i+1] {
					named[e.ID] = true
				}
				var recs []wire.Record
				for _, r := range pg.Records {
					if named[r.ID] {
						recs = append(recs, r)
					}
				}
				l.cutAt = wire.ChainCursor{Pos: e.Pos, Hash: pg.Entries[i+1].Prev}
				pg.Entries, pg.Records, pg.More = pg.Entries[:i+1], recs, true
				break
			}
		}
	} else {
		pg.Entries, pg.Records, pg.More, pg.Head = []wire.ChainEntry{}, []wire.Record{}, false, l.cutAt
	}
	l.mu.Unlock()
	if b, err = json.Marshal(pg); err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	resp.ContentLength = int64(len(b))
	resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
	return nil
}

// liarcut VAR on|off: chain pages through liar $VAR are cut inside a push,
// then the cut is served as the chain's head (on), or passed on (off).
func cmdLiarCut(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: liarcut VAR on|off")
	}
	l := liarNamed(ts, args[0])
	l.mu.Lock()
	l.cutAt = wire.ChainCursor{}
	l.mu.Unlock()
	l.cut.Store(args[1] == "on")
}

// liarswallow VAR on|off: pushes through liar $VAR are answered "ok" and
// never reach the server (on), or passed on again (off).
func cmdLiarSwallow(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: liarswallow VAR on|off")
	}
	liarNamed(ts, args[0]).swallow.Store(args[1] == "on")
}

// liarhold VAR on|off: the next push through liar $VAR waits, the
// device's sync with it, until `liarhold VAR off` (at most 60 s), then
// goes on to the server; liarheld VAR waits (at most 60 s) until one is
// waiting. What a device wrote before its push is on disk meanwhile, and
// what it writes after is not yet.
func cmdLiarHold(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: liarhold VAR on|off")
	}
	l := liarNamed(ts, args[0])
	l.mu.Lock()
	defer l.mu.Unlock()
	if args[1] == "on" {
		l.held, l.release = make(chan struct{}), make(chan struct{})
		l.hold.Store(true)
		return
	}
	l.hold.Store(false)
	if l.release != nil {
		close(l.release)
		l.release = nil
	}
}

func cmdLiarHeld(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: liarheld VAR")
	}
	l := liarNamed(ts, args[0])
	l.mu.Lock()
	held := l.held
	l.mu.Unlock()
	if held == nil {
		ts.Fatalf("liarheld %s: no liarhold on", args[0])
	}
	select {
	case <-held:
	case <-time.After(60 * time.Second):
		ts.Fatalf("no push came through liar %s within 60s", args[0])
	}
}
