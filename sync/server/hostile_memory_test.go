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
	c, err := net.Dial("tcp", addr)
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

// The bodies held at once are bounded: while a slow sender holds the whole
// budget (here the smallest, one largest body), another body waits, then
// is turned away (503) without being read; once the slow one is gone, the
// same request is served.
func TestBodyBudget(t *testing.T) {
	e := newTeam(t, server.Options{BodyBudget: wire.MaxBody, BodyWait: 200 * time.Millisecond})
	addr := strings.TrimPrefix(e.hs.URL, "http://")
	// A real device id with a garbage signature, sending half its body.
	garbage := base64.StdEncoding.EncodeToString(make([]byte, 64))
	slow := rawRequest(t, addr, "POST /v1/push HTTP/1.1\r\n"+wire.HeaderDevice+": "+e.writer.ID+"\r\n"+wire.HeaderTime+": "+
		strconv.FormatInt(e.clock.Now().Unix(), 10)+"\r\n"+wire.HeaderNonce+": "+wire.NewID()+"\r\n"+wire.HeaderSignature+": "+garbage+"\r\n", wire.MaxBody, wire.MaxBody/2)
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
