package server_test

import (
	"bufio"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// watchStream opens d's watch stream and returns its lines, one at a time.
func watchStream(t *testing.T, e *env, d *device) (<-chan string, func()) {
	t.Helper()
	resp, err := http.DefaultClient.Do(e.signed(d, "GET", "/v1/watch", nil))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("watch: HTTP %d", resp.StatusCode)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return lines, func() { resp.Body.Close() }
}

// next returns the next line that is not a heartbeat or a blank, or fails
// after a generous deadline.
func nextLine(t *testing.T, lines <-chan string, skipPings bool) (string, bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return "", false
			}
			if l == "" || (skipPings && l == ": ping") {
				continue
			}
			return l, true
		case <-deadline:
			t.Fatal("nothing on the watch stream within 30 s")
		}
	}
}

// The stream says only "head N": the head when it opens and after every
// push, and nothing about the records (no id, no size, no author).
func TestWatchSaysOnlyTheHead(t *testing.T) {
	e := newTeam(t, server.Options{})
	lines, closeStream := watchStream(t, e, e.reader)
	defer closeStream()
	only := regexp.MustCompile(`^(event: head|data: [0-9]+|: ping|)$`)
	head := func() int64 {
		t.Helper()
		ev, _ := nextLine(t, lines, true)
		data, _ := nextLine(t, lines, true)
		if ev != "event: head" || !only.MatchString(data) {
			t.Fatalf("watch stream said %q, %q", ev, data)
		}
		n, _ := strconv.ParseInt(data[len("data: "):], 10, 64)
		return n
	}
	h0 := head()
	rec := e.record(e.writer, wire.NewID(), 1)
	res := e.push(e.writer, rec)
	if res.Results[0].Status != wire.PushOK {
		t.Fatalf("push: %+v", res)
	}
	if h1 := head(); h1 != res.Head || h1 <= h0 {
		t.Fatalf("after a push to head %d the stream said %d (before: %d)", res.Head, h1, h0)
	}
	if e.srv.Watching() != 1 {
		t.Fatalf("the server counts %d watch streams, want 1", e.srv.Watching())
	}
}

// An idle stream carries heartbeats, so a client can tell silence from a
// quiet team.
func TestWatchHeartbeat(t *testing.T) {
	e := newTeam(t, server.Options{Heartbeat: 50 * time.Millisecond})
	lines, closeStream := watchStream(t, e, e.writer)
	defer closeStream()
	for {
		l, ok := nextLine(t, lines, false)
		if !ok {
			t.Fatal("the stream ended")
		}
		if l == ": ping" {
			return
		}
	}
}

// A removed device's stream is ended at the removal, and it cannot open
// another.
func TestWatchEndsForARemovedDevice(t *testing.T) {
	e := newTeam(t, server.Options{})
	lines, closeStream := watchStream(t, e, e.writer)
	defer closeStream()
	if l, _ := nextLine(t, lines, true); l != "event: head" {
		t.Fatalf("first line %q", l)
	}
	nextLine(t, lines, true)
	e.remove(e.admin, e.writer)
	for {
		l, ok := nextLine(t, lines, true)
		if !ok {
			t.Fatal("the stream ended without saying the device was removed")
		}
		if l == "event: removed" {
			break
		}
	}
	resp, err := http.DefaultClient.Do(e.signed(e.writer, "GET", "/v1/watch", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a removed device opened a watch stream: HTTP %d", resp.StatusCode)
	}
}

// One device cannot take every connection with watch streams.
func TestWatchStreamsPerDevice(t *testing.T) {
	e := newTeam(t, server.Options{WatchesPerDevice: 2})
	for range 2 {
		_, closeStream := watchStream(t, e, e.reader)
		defer closeStream()
	}
	// The server counts a stream once its handler runs: wait for both.
	for deadline := time.Now().Add(30 * time.Second); e.srv.Watching() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open", e.srv.Watching())
		}
	}
	resp, err := http.DefaultClient.Do(e.signed(e.reader, "GET", "/v1/watch", nil))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("a third stream of one device: HTTP %d, want 429", resp.StatusCode)
	}
	// Another device still can.
	_, closeStream := watchStream(t, e, e.writer)
	closeStream()
}

// A watch stream is not a request that takes its lifetime to serve: it is
// an open stream while it lasts, a request counted when it ends, and never
// in the latency histogram (whose tail it would drown).
func TestWatchMetrics(t *testing.T) {
	e := newTeam(t, server.Options{})
	metrics := func() string {
		m := e.send(e.request("GET", "/metrics", nil))
		if m.code != http.StatusOK {
			t.Fatalf("/metrics: %d", m.code)
		}
		return string(m.body)
	}
	lines, stop := watchStream(t, e, e.writer)
	if l, _ := nextLine(t, lines, true); l != "event: head" {
		t.Fatalf("first line %q", l)
	}
	if text := metrics(); !strings.Contains(text, `hush_open_streams{route="GET /v1/watch"} 1`+"\n") {
		t.Errorf("/metrics does not count the open stream:\n%s", text)
	}
	stop()
	deadline := time.Now().Add(30 * time.Second)
	var text string
	for {
		text = metrics()
		if strings.Contains(text, `hush_open_streams{route="GET /v1/watch"} 0`+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the closed stream is still counted open:\n%s", text)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(text, `hush_requests_total{route="GET /v1/watch",code="200"} 1`) {
		t.Errorf("/metrics does not count the ended stream as a request:\n%s", text)
	}
	if strings.Contains(text, `hush_request_duration_seconds_count{route="GET /v1/watch"}`) {
		t.Errorf("a stream's lifetime is in the latency histogram:\n%s", text)
	}
}
