package server_test

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Memory: what strangers and slow senders can make the server hold. The
// figures under real floods are in docs/benchmarks.md (scripts/flood).

// rawRequest opens a connection to the test server and sends a request's
// head declaring a body of declared bytes, and sent bytes of it. The
// connection stays open (closed at cleanup).
func rawRequest(t *testing.T, addr, head string, declared, sent int) net.Conn {
	t.Helper()
	return rawRequestFrom(t, "127.0.0.1", addr, head, declared, sent)
}

// rawRequestFrom is rawRequest from another loopback address (127.0.0.2:
// another client, to the server).
func rawRequestFrom(t *testing.T, from, addr, head string, declared, sent int) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	w := bufio.NewWriter(c)
	w.WriteString(head + "Host: hush\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(declared) + "\r\n\r\n")
	w.Write([]byte(strings.Repeat(" ", sent)))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return c
}

// status reads the status line of the answer on c.
func status(t *testing.T, c net.Conn) int {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// A stranger's body is small: a team creation or a join over
// wire.MaxSelfSignedBody is refused from its declared length, before the
// server reads or holds any of it.
func TestStrangersBodiesAreSmall(t *testing.T) {
	e := newTeam(t, server.Options{})
	addr := strings.TrimPrefix(e.hs.URL, "http://")
	for _, path := range []string{"/v1/join", "/v1/teams"} {
		c := rawRequest(t, addr, "POST "+path+" HTTP/1.1\r\n", wire.MaxBody, 0)
		if code := status(t, c); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s declaring %d bytes: status %d, want 413", path, wire.MaxBody, code)
		}
	}
	// Control: a real join, a few KB, is taken.
	d := newDevice(t, "j", "j")
	inv := e.invite(wire.RoleWriter)
	e.call(d, "POST", "/v1/join", e.joinBody(inv, d)).want(t, http.StatusAccepted, "")
}

// slowPush starts a push from address from, with a real device id and a
// garbage signature, that declares the largest body and sends half of it.
func slowPush(t *testing.T, e *env, from string) net.Conn {
	t.Helper()
	addr := strings.TrimPrefix(e.hs.URL, "http://")
	garbage := base64.StdEncoding.EncodeToString(make([]byte, 64))
	return rawRequestFrom(t, from, addr, "POST /v1/push HTTP/1.1\r\n"+wire.HeaderDevice+": "+e.writer.ID+"\r\n"+wire.HeaderTime+": "+
		strconv.FormatInt(e.clock.Now().Unix(), 10)+"\r\n"+wire.HeaderNonce+": "+wire.NewID()+"\r\n"+wire.HeaderSignature+": "+garbage+"\r\n", wire.MaxBody, wire.MaxBody/2)
}

// The bodies held at once are bounded: while a slow sender holds the whole
// budget (here the smallest, one largest body), another client's body
// waits, then is turned away (503) without being read; once the slow one
// is gone, the same request is served.
func TestBodyBudget(t *testing.T) {
	e := newTeam(t, server.Options{BodyBudget: wire.MaxBody, BodyWait: 200 * time.Millisecond})
	slow := slowPush(t, e, "127.0.0.2")
	// The slow body holds the budget once the server started reading it:
	// wait until an honest push is turned away.
	rec := e.record(e.writer, wire.NewID(), 1)
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{rec}})
		if r.code == http.StatusServiceUnavailable {
			r.want(t, http.StatusServiceUnavailable, "the server is busy")
			break
		}
		if r.code == http.StatusOK {
			t.Fatal("a push was read while a slow body held the whole budget")
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %d, want 503 while the budget is held", r.code)
		}
		time.Sleep(50 * time.Millisecond)
	}
	slow.Close()
	// Control: with the slow sender gone, the push is served.
	for {
		r := e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{rec}})
		if r.code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the slow sender left: status %d", r.code)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// LimitListener caps the connections open at once: with a cap of one, a
// second connection gets no answer while the first is open, and is served
// once the first closes.
func TestConnectionCap(t *testing.T) {
	e := newTeam(t, server.Options{})
	hs := httptest.NewUnstartedServer(e.srv)
	hs.Listener = server.LimitListener(hs.Listener, 1)
	hs.Start()
	t.Cleanup(hs.Close)
	addr := hs.Listener.Addr().String()
	first := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\n", 0, 0)
	if code := status(t, first); code != http.StatusOK {
		t.Fatalf("first: %d", code)
	}
	// The first connection stays open (keep-alive): the second waits.
	second := rawRequest(t, addr, "GET /healthz HTTP/1.1\r\n", 0, 0)
	second.SetReadDeadline(time.Now().Add(time.Second))
	if n, err := second.Read(make([]byte, 1)); err == nil || n > 0 {
		t.Fatal("a second connection was served over a cap of one")
	}
	first.Close()
	if code := status(t, second); code != http.StatusOK {
		t.Fatalf("second, once the first closed: %d", code)
	}
}

// One client address holds at most a quarter of the budget (at least one
// largest body): while it holds its share, its next body is turned away
// at once, and another client's is served.
func TestBodyShare(t *testing.T) {
	e := newTeam(t, server.Options{BodyBudget: 4 * wire.MaxBody, BodyWait: time.Minute})
	addr := strings.TrimPrefix(e.hs.URL, "http://")
	slowPush(t, e, "127.0.0.2")
	// A second largest body from the same address, its head only: turned
	// away once the first holds the share. (Until the server reads the
	// first, the probe may take the share itself and wait for its body:
	// then it is closed, which frees it, and tried again.)
	garbage := base64.StdEncoding.EncodeToString(make([]byte, 64))
	deadline := time.Now().Add(60 * time.Second)
	for {
		c := rawRequestFrom(t, "127.0.0.2", addr, "POST /v1/push HTTP/1.1\r\n"+wire.HeaderDevice+": "+e.writer.ID+"\r\n"+wire.HeaderTime+": "+
			strconv.FormatInt(e.clock.Now().Unix(), 10)+"\r\n"+wire.HeaderNonce+": "+wire.NewID()+"\r\n"+wire.HeaderSignature+": "+garbage+"\r\n", wire.MaxBody, 0)
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		c.Close()
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable {
			break
		}
		if err == nil {
			t.Fatalf("a second largest body from one address: %d, want 503", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer to a second largest body from one address: %v", err)
		}
	}
	// Another client (127.0.0.1) is served meanwhile.
	rec := e.record(e.writer, wire.NewID(), 1)
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{rec}}).want(t, http.StatusOK, "")
}
