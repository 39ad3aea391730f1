package server_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Authentication: unsigned, badly signed, replayed and out-of-window
// requests.

func TestUnauthenticated(t *testing.T) {
	e := newTeam(t, server.Options{})
	stranger := newDevice(t, "stranger", "mallory")
	id := wire.NewID()
	good := body(t, wire.Push{Records: []wire.Record{e.record(e.writer, id, 1)}})
	const path = "/v1/push"
	now := e.clock.Now().Unix()

	// sign returns a push request from the writer whose signature covers
	// what the arguments say, with headers for the real values.
	sign := func(key ed25519.PrivateKey, method, uri string, b []byte, unix int64, nonce, dev string) *http.Request {
		r := e.request("POST", path, good)
		signRequest(r.Header, key, dev, method, uri, b, unix, nonce)
		return r
	}
	legit := func() *http.Request { return sign(e.writer.key, "POST", path, good, now, wire.NewID(), e.writer.ID) }
	with := func(name, value string) func() *http.Request {
		return func() *http.Request {
			r := legit()
			if value == "<none>" {
				r.Header.Del(name)
			} else {
				r.Header.Set(name, value)
			}
			return r
		}
	}
	nonce := wire.NewID()
	cases := []struct {
		name string
		req  func() *http.Request
	}{
		{"no headers", func() *http.Request { return e.request("POST", path, good) }},
		{"no device", with(wire.HeaderDevice, "<none>")},
		{"no time", with(wire.HeaderTime, "<none>")},
		{"no nonce", with(wire.HeaderNonce, "<none>")},
		{"no signature", with(wire.HeaderSignature, "<none>")},
		{"device not hex", with(wire.HeaderDevice, strings.Repeat("z", 32))},
		{"device upper case", with(wire.HeaderDevice, strings.ToUpper(e.writer.ID))},
		{"device short", with(wire.HeaderDevice, e.writer.ID[:31])},
		{"device too long", with(wire.HeaderDevice, e.writer.ID+"0")},
		{"device with a space", with(wire.HeaderDevice, e.writer.ID[:16]+" "+e.writer.ID[16:])},
		{"nonce short", with(wire.HeaderNonce, "abc")},
		{"nonce not hex", with(wire.HeaderNonce, strings.Repeat("g", 32))},
		{"time not a number", with(wire.HeaderTime, "yesterday")},
		{"time a float", with(wire.HeaderTime, strconv.FormatInt(now, 10)+".5")},
		{"time too large", with(wire.HeaderTime, "99999999999999999999999")},
		{"time empty", with(wire.HeaderTime, "")},
		{"signature not base64", with(wire.HeaderSignature, "!!!!")},
		{"signature url base64", with(wire.HeaderSignature, base64.URLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 64)))},
		{"signature short", with(wire.HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 63)))},
		{"signature long", with(wire.HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 65)))},
		{"signature zeros", with(wire.HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 64)))},
		{"signed by another member's key", func() *http.Request {
			return sign(e.reader.key, "POST", path, good, now, wire.NewID(), e.writer.ID)
		}},
		{"signed by a stranger's key", func() *http.Request {
			return sign(stranger.key, "POST", path, good, now, wire.NewID(), e.writer.ID)
		}},
		{"signed as another device", func() *http.Request {
			// The reader's own valid signature, sent under the writer's id.
			r := sign(e.reader.key, "POST", path, good, now, wire.NewID(), e.reader.ID)
			r.Header.Set(wire.HeaderDevice, e.writer.ID)
			return r
		}},
		{"signed over another body", func() *http.Request {
			return sign(e.writer.key, "POST", path, body(t, wire.Push{Records: []wire.Record{e.record(e.writer, wire.NewID(), 1)}}), now, wire.NewID(), e.writer.ID)
		}},
		{"signed over an empty body", func() *http.Request {
			return sign(e.writer.key, "POST", path, nil, now, wire.NewID(), e.writer.ID)
		}},
		{"signed over another path", func() *http.Request {
			return sign(e.writer.key, "POST", "/v1/invites", good, now, wire.NewID(), e.writer.ID)
		}},
		{"signed over the path with a query", func() *http.Request {
			return sign(e.writer.key, "POST", path+"?x=1", good, now, wire.NewID(), e.writer.ID)
		}},
		{"signed over another method", func() *http.Request {
			return sign(e.writer.key, "PUT", path, good, now, wire.NewID(), e.writer.ID)
		}},
		{"signed over another time", func() *http.Request {
			r := sign(e.writer.key, "POST", path, good, now-1, wire.NewID(), e.writer.ID)
			r.Header.Set(wire.HeaderTime, strconv.FormatInt(now, 10))
			return r
		}},
		{"signed over another nonce", func() *http.Request {
			r := sign(e.writer.key, "POST", path, good, now, wire.NewID(), e.writer.ID)
			r.Header.Set(wire.HeaderNonce, nonce)
			return r
		}},
		{"signature bit flipped", func() *http.Request {
			r := legit()
			sig, _ := base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderSignature))
			sig[10] ^= 1
			r.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
			return r
		}},
	}
	before := e.snapshot()
	var first []byte
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.send(c.req()).want(t, http.StatusUnauthorized, "unauthenticated")
			// One answer for every failure: a stranger learns nothing from it.
			if first == nil {
				first = r.body
			} else if !bytes.Equal(r.body, first) {
				t.Errorf("body %q differs from %q", r.body, first)
			}
		})
	}
	e.unchanged(before, "unauthenticated pushes")

	// The nonce of "signed over another nonce" was never used: a bad
	// signature costs no nonce, so a stranger cannot burn a device's nonces.
	r := e.request("POST", path, good)
	signRequest(r.Header, e.writer.key, e.writer.ID, "POST", path, good, now, nonce)
	e.send(r).want(t, http.StatusOK, "")
	if c := e.changes(e.admin); c.Head != 1 || len(c.Records) != 1 || c.Records[0].ID != id {
		t.Fatalf("after the legit push: %+v", c)
	}
}

func TestUnauthenticatedEveryEndpoint(t *testing.T) {
	e := newTeam(t, server.Options{})
	stranger := newDevice(t, "stranger", "mallory")
	before := e.snapshot()
	for _, ep := range authedEndpoints {
		// No headers at all.
		e.send(e.request(ep.method, ep.path, []byte("{}"))).want(t, http.StatusUnauthorized, "unauthenticated")
		// The admin's id, a stranger's signature.
		r := e.request(ep.method, ep.path, []byte("{}"))
		signRequest(r.Header, stranger.key, e.admin.ID, ep.method, r.URL.RequestURI(), []byte("{}"), e.clock.Now().Unix(), wire.NewID())
		e.send(r).want(t, http.StatusUnauthorized, "unauthenticated")
	}
	// The self-signed endpoints, unsigned.
	e.send(e.request("POST", "/v1/teams", body(t, wire.CreateTeam{Team: wire.NewID(), Name: "evil", Device: stranger.Device}))).want(t, http.StatusUnauthorized, "unauthenticated")
	inv := e.invite(wire.RoleAdmin)
	before = e.snapshot()
	e.send(e.request("POST", "/v1/join", body(t, e.joinBody(inv, stranger)))).want(t, http.StatusUnauthorized, "unauthenticated")
	// Self-signed by a key other than the one in the body.
	r := e.request("POST", "/v1/join", body(t, e.joinBody(inv, stranger)))
	other := newDevice(t, "other", "mallory")
	signRequest(r.Header, other.key, stranger.ID, "POST", "/v1/join", body(t, e.joinBody(inv, stranger)), e.clock.Now().Unix(), wire.NewID())
	e.send(r).want(t, http.StatusUnauthorized, "unauthenticated")
	e.unchanged(before, "unauthenticated requests")
	// Control: the invite still works.
	e.call(stranger, "POST", "/v1/join", e.joinBody(inv, stranger)).want(t, http.StatusAccepted, "")
}

func TestReplay(t *testing.T) {
	e := newTeam(t, server.Options{})
	id := wire.NewID()
	b := body(t, wire.Push{Records: []wire.Record{e.record(e.writer, id, 1)}})
	first := e.signed(e.writer, "POST", "/v1/push", b)
	e.send(first).want(t, http.StatusOK, "")
	before := e.snapshot()

	again := func() *http.Request {
		r := e.request("POST", "/v1/push", b)
		r.Header = first.Header.Clone()
		return r
	}
	e.send(again()).want(t, http.StatusUnauthorized, "replayed request")

	// The same nonce with a new, valid signature over another request.
	nonce := first.Header.Get(wire.HeaderNonce)
	b2 := body(t, wire.Push{Records: []wire.Record{e.record(e.writer, wire.NewID(), 1)}})
	r := e.request("POST", "/v1/push", b2)
	signRequest(r.Header, e.writer.key, e.writer.ID, "POST", "/v1/push", b2, e.clock.Now().Unix(), nonce)
	e.send(r).want(t, http.StatusUnauthorized, "replayed request")
	r = e.request("GET", "/v1/changes?since=0", nil)
	signRequest(r.Header, e.writer.key, e.writer.ID, "GET", "/v1/changes?since=0", nil, e.clock.Now().Unix()+1, nonce)
	e.send(r).want(t, http.StatusUnauthorized, "replayed request")

	// A self-signed request replayed: the join is not made twice.
	inv := e.invite(wire.RoleWriter)
	d := newDevice(t, "late", "lee")
	jb := body(t, e.joinBody(inv, d))
	join := e.signed(d, "POST", "/v1/join", jb)
	e.send(join).want(t, http.StatusAccepted, "")
	before = e.snapshot()
	r = e.request("POST", "/v1/join", jb)
	r.Header = join.Header.Clone()
	e.send(r).want(t, http.StatusUnauthorized, "replayed request")
	e.unchanged(before, "replays")

	// A restart keeps the nonces: the replay is still refused.
	e.restart(server.Options{})
	e.send(again()).want(t, http.StatusUnauthorized, "replayed request")
	e.unchanged(before, "a replay after a restart")

	// Nothing was applied twice: one push event, one join (the restart
	// flushed the audit log).
	got, err := e.st.Events(t.Context(), e.team, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	pushes, joins := 0, 0
	for _, ev := range got {
		switch {
		case ev.Action == "push" && ev.Result == "ok":
			pushes++
		case ev.Action == "join" && ev.Device == d.ID:
			joins++
		}
	}
	if pushes != 1 || joins != 1 {
		t.Fatalf("audit: %d push events, %d joins of the device (want 1 and 1): %+v", pushes, joins, got)
	}
}

func TestClockWindow(t *testing.T) {
	e := newTeam(t, server.Options{})
	before := e.snapshot()
	now := e.clock.Now()
	at := func(ts time.Time, nonce string) *http.Request {
		r := e.request("GET", "/v1/changes?since=0", nil)
		signRequest(r.Header, e.writer.key, e.writer.ID, "GET", "/v1/changes?since=0", nil, ts.Unix(), nonce)
		return r
	}
	const window = "request time is outside the allowed window"
	stale := wire.NewID()
	e.send(at(now.Add(-wire.ClockSkew-time.Second), stale)).want(t, http.StatusUnauthorized, window)
	e.send(at(now.Add(wire.ClockSkew+time.Second), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(now.Add(-24*time.Hour), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(time.Unix(0, 0), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(time.Unix(-1<<62, 0), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(time.Unix(1<<62, 0), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(time.Unix(1<<63-1, 0), wire.NewID())).want(t, http.StatusUnauthorized, window)
	e.send(at(time.Unix(-1<<63, 0), wire.NewID())).want(t, http.StatusUnauthorized, window)

	// A push signed now and sent after the server's clock moved on.
	b := body(t, wire.Push{Records: []wire.Record{e.record(e.writer, wire.NewID(), 1)}})
	push := e.signed(e.writer, "POST", "/v1/push", b)
	e.clock.Add(wire.ClockSkew + time.Second)
	e.send(push).want(t, http.StatusUnauthorized, window)
	e.clock.Add(-wire.ClockSkew - time.Second)
	// A push signed in the future (a fast clock on the device).
	e.clock.Add(wire.ClockSkew + time.Second)
	push = e.signed(e.writer, "POST", "/v1/push", b)
	e.clock.Add(-wire.ClockSkew - time.Second)
	e.send(push).want(t, http.StatusUnauthorized, window)
	e.unchanged(before, "requests outside the window")

	// The edges of the window are inside it, and the stale request's nonce
	// was not spent.
	e.send(at(now.Add(-wire.ClockSkew), stale)).want(t, http.StatusOK, "")
	e.send(at(now.Add(wire.ClockSkew), wire.NewID())).want(t, http.StatusOK, "")
}
