package server_test

// Hostile requests: each is refused with its exact status and leaves the
// server as it was (the stored state, and the team as a legit device
// pulls it). Every test ends with a control: the legit request the hostile
// ones imitate does change the state, so "unchanged" is not vacuous.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// endpoint is a route; authedEndpoints are those a device signs as
// itself (not the self-signed create and join).
type endpoint struct {
	method, path string
}

var authedEndpoints = []endpoint{
	{"GET", "/v1/changes?since=0"},
	{"POST", "/v1/push"},
	{"GET", "/v1/members"},
	{"GET", "/v1/key"},
	{"POST", "/v1/invites"},
	{"GET", "/v1/joins"},
	{"POST", "/v1/joins/approve"},
	{"GET", "/v1/log?since=0"},
	{"POST", "/v1/log"},
	{"GET", "/v1/audit?since=0"},
}

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

func TestBodies(t *testing.T) {
	e := newTeam(t, server.Options{})
	rec := e.record(e.writer, wire.NewID(), 1)
	good := string(body(t, wire.Push{Records: []wire.Record{rec}}))
	recJSON := string(body(t, rec))
	before := e.snapshot()

	// Over the limit: 413 for a known device before its signature is
	// checked; a stranger's body is never read (401).
	big := bytes.Repeat([]byte(" "), wire.MaxBody+1)
	copy(big, good)

	e.call(e.writer, "POST", "/v1/push", big).want(t, http.StatusRequestEntityTooLarge, "request body over")
	e.send(e.request("POST", "/v1/push", big)).want(t, http.StatusUnauthorized, "unauthenticated")
	e.send(e.request("POST", "/v1/join", big)).want(t, http.StatusRequestEntityTooLarge, "request body over")

	const malformed = "malformed request"
	for _, c := range []struct{ name, body, msg string }{
		{"empty", "", malformed},
		{"not JSON", "records", malformed},
		{"truncated", good[:len(good)-1], malformed},
		{"unclosed array", `{"records":[` + recJSON, malformed},
		{"unknown field", `{"records":[` + recJSON + `],"force":true}`, malformed},
		{"unknown record field", `{"records":[` + strings.Replace(recJSON, `{`, `{"team":"x",`, 1) + `]}`, malformed},
		{"trailing object", good + `{}`, malformed},
		{"trailing garbage", good + `x`, malformed},
		{"two pushes", good + good, malformed},
		{"records a string", `{"records":"all"}`, malformed},
		{"records an object", `{"records":{}}`, malformed},
		{"version a string", `{"records":[` + strings.Replace(recJSON, `"version":1`, `"version":"1"`, 1) + `]}`, malformed},
		{"version a float", `{"records":[` + strings.Replace(recJSON, `"version":1`, `"version":1.5`, 1) + `]}`, malformed},
		{"version huge", `{"records":[` + strings.Replace(recJSON, `"version":1`, `"version":1e30`, 1) + `]}`, malformed},
		{"sealed not base64", `{"records":[` + strings.Replace(recJSON, `"sealed":"`, `"sealed":"!`, 1) + `]}`, malformed},
		{"top level array", `[` + good + `]`, malformed},
		{"null", `null`, "a push carries 1 to 500 records"},
		{"no records", `{}`, "a push carries 1 to 500 records"},
		{"null records", `{"records":null}`, "a push carries 1 to 500 records"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.call(e.writer, "POST", "/v1/push", c.body).want(t, http.StatusBadRequest, c.msg)
		})
	}
	// The other endpoints with a body decode as strictly.
	e.call(e.admin, "POST", "/v1/invites", `{"id":"`+wire.NewID()+`","role":"admin","expires":"`+e.clock.Now().Add(time.Hour).UTC().Format(time.RFC3339)+`","uses":9}`).want(t, http.StatusBadRequest, malformed)
	e.call(e.admin, "POST", "/v1/invites", `{"id":"`+wire.NewID()+`","role":"admin","expires":"tomorrow"}`).want(t, http.StatusBadRequest, malformed)
	e.call(e.admin, "POST", "/v1/joins/approve", `{"invite":1}`).want(t, http.StatusBadRequest, malformed)
	e.call(e.admin, "POST", "/v1/joins/approve", `{}{}`).want(t, http.StatusBadRequest, malformed)
	stranger := newDevice(t, "s", "s")
	ct := string(body(t, wire.CreateTeam{Team: wire.NewID(), Name: "t", Device: stranger.Device}))
	e.call(stranger, "POST", "/v1/teams", ct+"[]").want(t, http.StatusBadRequest, malformed)
	e.call(stranger, "POST", "/v1/teams", strings.Replace(ct, `{`, `{"role":"admin",`, 1)).want(t, http.StatusBadRequest, malformed)
	e.call(stranger, "POST", "/v1/teams", "{").want(t, http.StatusBadRequest, malformed)
	e.call(stranger, "POST", "/v1/teams", `{"team":"`+wire.NewID()+`"}`).want(t, http.StatusBadRequest, "device id is not 32 hex digits")
	e.call(e.writer, "GET", "/v1/changes?since=-1", nil).want(t, http.StatusBadRequest, "since must be")
	e.call(e.writer, "GET", "/v1/changes?since=x", nil).want(t, http.StatusBadRequest, "since must be")
	e.call(e.writer, "GET", "/v1/changes", nil).want(t, http.StatusBadRequest, "since must be")
	e.unchanged(before, "malformed bodies")

	// Control: a push of exactly wire.MaxBody bytes (one record and spaces)
	// is read whole and applied.

	e.call(e.writer, "POST", "/v1/push", big[:wire.MaxBody]).want(t, http.StatusOK, "")
	if c := e.changes(e.reader); c.Head != 1 || len(c.Records) != 1 || c.Records[0].ID != rec.ID {
		t.Fatalf("after the push: %+v", c)
	}
}

func TestPushValidation(t *testing.T) {
	e := newTeam(t, server.Options{})
	// A record already there, to check that refused pushes leave it alone.
	kept := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, kept)
	before := e.snapshot()

	w := e.writer
	rec := func(mut func(r *wire.Record)) wire.Record {
		r := e.record(w, wire.NewID(), 1)
		if mut != nil {
			mut(&r)
			e.resign(w, &r)
		}
		return r
	}
	dup := rec(nil)
	many := make([]wire.Record, wire.MaxPushRecords+1)
	for i := range many {
		many[i] = rec(nil)
	}
	otherTeam := rec(nil)
	otherTeam.Sig = ed25519.Sign(w.key, wire.RecordSigned(wire.NewID(), &otherTeam))
	cases := []struct {
		name string
		rs   []wire.Record
		msg  string
	}{
		{"signed by another device", []wire.Record{func() wire.Record {
			r := rec(nil)
			r.Sig = ed25519.Sign(e.reader.key, wire.RecordSigned(e.team, &r))
			return r
		}()}, "record"},
		{"authored by another device", []wire.Record{func() wire.Record {
			// A record the admin really signed, pushed by the writer.
			r := e.record(e.admin, wire.NewID(), 1)
			return r
		}()}, "record"},
		{"author changed after signing", []wire.Record{func() wire.Record {
			r := rec(nil)
			r.Author = e.admin.ID
			return r
		}()}, "record"},
		{"signed for another team", []wire.Record{otherTeam}, "record"},
		{"sealed bytes changed", []wire.Record{func() wire.Record {
			r := rec(nil)
			r.Sealed[0] ^= 1
			return r
		}()}, "record"},
		{"version changed", []wire.Record{func() wire.Record {
			r := rec(nil)
			r.Version = 2
			return r
		}()}, "record"},
		{"bad signature after a good record", []wire.Record{rec(nil), func() wire.Record {
			r := rec(nil)
			r.Sig[0] ^= 1
			return r
		}()}, "record"},
		{"duplicate ids", []wire.Record{dup, dup}, "record " + dup.ID + " is in the push twice"},
		{"duplicate ids, other versions", []wire.Record{rec(func(r *wire.Record) { r.ID = kept.ID; r.Version = 2 }), rec(func(r *wire.Record) { r.ID = kept.ID; r.Version = 3 })}, "record " + kept.ID + " is in the push twice"},
		{"zero records", []wire.Record{}, "a push carries 1 to 500 records"},
		{"too many records", many, "a push carries 1 to 500 records"},
		{"id upper case", []wire.Record{rec(func(r *wire.Record) { r.ID = strings.ToUpper(r.ID) })}, "record id is not 32 hex digits"},
		{"id short", []wire.Record{rec(func(r *wire.Record) { r.ID = r.ID[:31] })}, "record id is not 32 hex digits"},
		{"id empty", []wire.Record{rec(func(r *wire.Record) { r.ID = "" })}, "record id is not 32 hex digits"},
		{"id path", []wire.Record{rec(func(r *wire.Record) { r.ID = "../../" + r.ID[6:] })}, "record id is not 32 hex digits"},
		{"id with newline", []wire.Record{rec(func(r *wire.Record) { r.ID = r.ID + "\n" })}, "record id is not 32 hex digits"},
		{"version 0", []wire.Record{rec(func(r *wire.Record) { r.Version = 0 })}, "record"},
		{"version negative", []wire.Record{rec(func(r *wire.Record) { r.Version = -1 })}, "record"},
		{"epoch 0", []wire.Record{rec(func(r *wire.Record) { r.Epoch = 0 })}, "record"},
		{"sealed empty", []wire.Record{rec(func(r *wire.Record) { r.Sealed = nil })}, "record"},
		{"sealed too big", []wire.Record{rec(func(r *wire.Record) { r.Sealed = make([]byte, wire.MaxRecord+1) })}, "record"},
		{"no signature", []wire.Record{func() wire.Record { r := rec(nil); r.Sig = nil; return r }()}, "record"},
		{"short signature", []wire.Record{func() wire.Record { r := rec(nil); r.Sig = r.Sig[:63]; return r }()}, "record"},
		{"second record invalid", []wire.Record{rec(nil), rec(func(r *wire.Record) { r.Version = 0 })}, "record"},
		{"last of 500 invalid", append(append([]wire.Record(nil), many[:wire.MaxPushRecords-1]...), rec(func(r *wire.Record) { r.ID = "x" })), "record id is not"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.call(e.writer, "POST", "/v1/push", wire.Push{Records: c.rs}).want(t, http.StatusBadRequest, c.msg)
		})
	}
	e.unchanged(before, "invalid pushes")

	// Controls: 500 records at once are fine, and a Seq the client sends
	// is the server's to set.
	pr := e.push(e.writer, many[:wire.MaxPushRecords]...)
	if len(pr.Results) != wire.MaxPushRecords || pr.Head != 1+wire.MaxPushRecords {
		t.Fatalf("500 records: %d results, head %d", len(pr.Results), pr.Head)
	}
	r := rec(nil)
	r.Seq = 1
	pr = e.push(e.writer, r)
	if pr.Results[0].Status != wire.PushOK || pr.Results[0].Seq != pr.Head || pr.Head != 2+wire.MaxPushRecords {
		t.Fatalf("push with a seq: %+v", pr)
	}
}

func TestRoles(t *testing.T) {
	e := newTeam(t, server.Options{})
	inv := e.invite(wire.RoleWriter)
	p := e.join(inv, "pending-box", "pat")
	before := e.snapshot()

	// A reader pushing: refused, and the audit log says so.
	rec := e.record(e.reader, wire.NewID(), 1)
	e.call(e.reader, "POST", "/v1/push", wire.Push{Records: []wire.Record{rec}}).want(t, http.StatusForbidden, "a reader cannot change secrets")
	e.events(func(ev store.Event) bool {
		return ev.Device == e.reader.ID && ev.Action == "push" && strings.HasPrefix(ev.Result, "denied")
	})
	// Even a well-formed push of someone else's record.
	e.call(e.reader, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(e.writer, wire.NewID(), 1)}}).want(t, http.StatusForbidden, "a reader cannot change secrets")

	// Writers and readers calling admin endpoints.
	for _, d := range []*device{e.writer, e.reader} {
		e.call(d, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleAdmin, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusForbidden, "only an admin can do this")
		e.call(d, "GET", "/v1/joins", nil).want(t, http.StatusForbidden, "only an admin can do this")
		// A wrapped key the caller really signed, for a pending device.
		e.call(d, "POST", "/v1/joins/approve", wire.Approve{Invite: inv, Device: p.ID, Key: e.wrappedKey(d, p)}).want(t, http.StatusForbidden, "only an admin can do this")
	}
	e.unchanged(before, "requests beyond a role")
	e.call(e.writer, "GET", "/v1/key", nil).want(t, http.StatusOK, "")
	e.call(e.reader, "GET", "/v1/changes?since=0", nil).want(t, http.StatusOK, "")

	// Controls.
	e.push(e.writer, e.record(e.writer, wire.NewID(), 1))
	e.approve(inv, p)
}

func TestPendingDevice(t *testing.T) {
	e := newTeam(t, server.Options{})
	e.push(e.writer, e.record(e.writer, wire.NewID(), 1))
	inv := e.invite(wire.RoleAdmin) // even a future admin waits
	p := e.join(inv, "pending-box", "pat")
	other := e.join(e.invite(wire.RoleWriter), "other", "oz")
	inv2 := e.invite(wire.RoleAdmin)
	before := e.snapshot()

	const waiting = "this device is waiting for an admin to approve it"
	e.call(p, "GET", "/v1/changes?since=0", nil).want(t, http.StatusForbidden, waiting)
	e.call(p, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(p, wire.NewID(), 1)}}).want(t, http.StatusForbidden, waiting)
	e.call(p, "GET", "/v1/members", nil).want(t, http.StatusForbidden, waiting)
	e.call(p, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleAdmin, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusForbidden, waiting)
	e.call(p, "GET", "/v1/joins", nil).want(t, http.StatusForbidden, waiting)
	// Approving another pending device, or itself.
	e.call(p, "POST", "/v1/joins/approve", wire.Approve{Device: other.ID, Key: e.wrappedKey(p, other)}).want(t, http.StatusForbidden, waiting)
	e.call(p, "POST", "/v1/joins/approve", wire.Approve{Device: p.ID, Key: e.wrappedKey(p, p)}).want(t, http.StatusForbidden, waiting)
	e.call(p, "GET", "/v1/key", nil).want(t, http.StatusNotFound, "no key for this device yet")
	// Joining again with a fresh invite under the same id.
	e.call(p, "POST", "/v1/join", e.joinBody(inv2, p)).want(t, http.StatusConflict, "device id already in use")
	e.unchanged(before, "a pending device")

	e.approve(inv, p)
	var k wire.WrappedKey
	e.call(p, "GET", "/v1/key", nil).want(t, http.StatusOK, "").decode(t, &k)
	if k.Device != p.ID || k.Signer != e.admin.ID {
		t.Fatalf("key %+v", k)
	}
	if c := e.changes(p); c.Head != 1 {
		t.Fatalf("approved device pulls head %d", c.Head)
	}
}

func TestStrangersLearnNothing(t *testing.T) {
	e := newTeam(t, server.Options{})
	stranger := newDevice(t, "stranger", "mallory")
	e.push(e.writer, e.record(e.writer, wire.NewID(), 1))

	// The reference: a bad signature under a member's id.
	badSig := func(ep endpoint) []byte {
		r := e.request(ep.method, ep.path, nil)
		signRequest(r.Header, stranger.key, e.writer.ID, ep.method, r.URL.RequestURI(), nil, e.clock.Now().Unix(), wire.NewID())
		return e.send(r).want(t, http.StatusUnauthorized, "unauthenticated").body
	}
	check := func(d *device, what string) {
		t.Helper()
		before := e.snapshot()
		for _, ep := range authedEndpoints {
			ref := badSig(ep)
			got := e.call(d, ep.method, ep.path, nil).want(t, http.StatusUnauthorized, "unauthenticated")
			if !bytes.Equal(got.body, ref) || got.hdr.Get("Content-Type") != "application/json" {
				t.Errorf("%s %s %s: %q, a bad signature gets %q", what, ep.method, ep.path, got.body, ref)
			}
		}
		e.unchanged(before, what)
	}
	// A device the server never heard of, correctly self-signed.
	check(stranger, "an unknown device")
	// A removed device, with its real key: removed through the log.
	e.remove(e.admin, e.writer)
	check(e.writer, "a removed device")
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(e.writer, wire.NewID(), 1)}}).want(t, http.StatusUnauthorized, "unauthenticated")
	// A removed admin cannot invite, approve or change the log: a second
	// admin removes the first.
	inv := e.invite(wire.RoleWriter)
	p := e.join(inv, "p", "p")
	admin2 := e.member(wire.RoleAdmin, "second-admin", "abe")
	old := e.admin
	e.remove(admin2, old)
	e.admin = admin2
	before := e.snapshot()
	e.call(old, "POST", "/v1/joins/approve", e.approval(old, inv, p)).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(old, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleAdmin, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(old, "POST", "/v1/log", wire.AppendLog{Entry: *e.removeEntry(old, admin2)}).want(t, http.StatusUnauthorized, "unauthenticated")
	e.unchanged(before, "a removed admin")

	// A member of another team sees nothing of this one.
	f := newEnvOn(t, e)
	if c := f.changes(f.admin); c.Head != 0 || len(c.Records) != 0 {
		t.Fatalf("another team's admin pulls %+v", c)
	}
	var ms []wire.Member
	f.call(f.admin, "GET", "/v1/members", nil).want(t, http.StatusOK, "").decode(t, &ms)
	if len(ms) != 1 || ms[0].ID != f.admin.ID {
		t.Fatalf("another team's admin lists %+v", ms)
	}
	var pj []wire.PendingJoin
	f.call(f.admin, "GET", "/v1/joins", nil).want(t, http.StatusOK, "").decode(t, &pj)
	if len(pj) != 0 {
		t.Fatalf("another team's admin sees joins %+v", pj)
	}
	var lg wire.Log
	f.call(f.admin, "GET", "/v1/log?since=0", nil).want(t, http.StatusOK, "").decode(t, &lg)
	if lg.Head != 1 || len(lg.Entries) != 1 || lg.Entries[0].Team != f.team {
		t.Fatalf("another team's admin reads the log %+v", lg)
	}
	// ... and cannot approve this team's pending device with a key and an
	// entry it signed, for either team's log.
	before = e.snapshot()
	f.roles[inv] = wire.RoleWriter
	f.call(f.admin, "POST", "/v1/joins/approve", f.approval(f.admin, inv, p)).want(t, http.StatusConflict, "that device is not waiting for approval")
	a := e.approval(admin2, inv, p)
	a.Key, a.Entry = f.wrappedKey(f.admin, p), *e.addEntry(f.admin, p, wire.RoleWriter)
	f.call(f.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusConflict, "that device is not waiting for approval")
	// ... nor change this team's log with an entry it signed.
	if r := f.call(f.admin, "POST", "/v1/log", wire.AppendLog{Entry: *e.removeEntry(f.admin, e.reader)}); r.code != http.StatusBadRequest && r.code != http.StatusConflict {
		t.Fatalf("another team's admin appends to this team's log: %d %s", r.code, r.body)
	}
	e.unchanged(before, "another team's admin")
	// Control: this team's admin approves.
	e.call(admin2, "POST", "/v1/joins/approve", e.approval(admin2, inv, p)).want(t, http.StatusOK, "")
}

// newEnvOn makes a second team on e's server.
func newEnvOn(t *testing.T, e *env) *env {
	f := &env{t: t, db: e.db, st: e.st, srv: e.srv, hs: e.hs, clock: e.clock, logs: e.logs, secrets: map[string][]byte{}, roles: map[string]string{}}
	f.createTeam()
	return f
}

func TestJoinRefusals(t *testing.T) {
	e := newTeam(t, server.Options{})
	used := e.invite(wire.RoleWriter)
	e.join(used, "first", "fay")
	expired := e.invite(wire.RoleWriter)
	e.clock.Add(time.Hour) // the invites last an hour: expired is, now
	justExpired := e.invite(wire.RoleWriter)
	e.clock.Add(time.Hour + time.Second)
	fresh := e.invite(wire.RoleReader)
	f := newEnvOn(t, e)
	foreign := f.invite(wire.RoleWriter)
	before := e.snapshot()

	d := newDevice(t, "joiner", "jo")
	var first []byte
	for _, c := range []struct{ name, inv string }{
		{"unknown", wire.NewID()},
		{"used", used},
		{"expired", expired},
		{"expired a second ago", justExpired},
	} {
		r := e.call(d, "POST", "/v1/join", e.joinBody(c.inv, d)).want(t, http.StatusNotFound, "invite not found, already used or expired")
		if first == nil {
			first = r.body
		} else if !bytes.Equal(first, r.body) {
			t.Errorf("%s invite: %q, unknown invite: %q", c.name, r.body, first)
		}
	}
	// Another team's invite, with this team's id or its own.
	j := e.joinBody(foreign, d)
	j.Binding = make([]byte, 32)
	if r := e.call(d, "POST", "/v1/join", j).want(t, http.StatusNotFound, ""); !bytes.Equal(r.body, first) {
		t.Errorf("another team's invite: %q", r.body)
	}
	// The invite's team with another team's id: no such invite there.
	j = e.joinBody(fresh, d)
	j.Team = f.team
	if r := e.call(d, "POST", "/v1/join", j).want(t, http.StatusNotFound, ""); !bytes.Equal(r.body, first) {
		t.Errorf("invite under another team: %q", r.body)
	}

	// The header's device is not the body's.
	other := newDevice(t, "other", "oz")
	e.call(other, "POST", "/v1/join", e.joinBody(fresh, d)).want(t, http.StatusUnauthorized, "unauthenticated")
	// The body's device id is a member's (with the joiner's keys).
	taken := newDevice(t, "taken", "tk")
	taken.ID = e.writer.ID
	e.call(taken, "POST", "/v1/join", e.joinBody(fresh, taken)).want(t, http.StatusConflict, "device id already in use")
	// Malformed joins.
	j = e.joinBody(fresh, d)
	j.Binding = j.Binding[:31]
	e.call(d, "POST", "/v1/join", j).want(t, http.StatusBadRequest, "join needs")
	j = e.joinBody(fresh, d)
	j.Invite = "x"
	e.call(d, "POST", "/v1/join", j).want(t, http.StatusBadRequest, "join needs")
	bad := *d
	bad.Box = "ssh-ed25519 AAAA"
	e.call(&bad, "POST", "/v1/join", e.joinBody(fresh, &bad)).want(t, http.StatusBadRequest, "device box key")
	bad = *d
	bad.Name = "line\nbreak"
	e.call(&bad, "POST", "/v1/join", e.joinBody(fresh, &bad)).want(t, http.StatusBadRequest, "device name")
	bad = *d
	bad.SignKey = bad.SignKey[:31]
	e.call(&bad, "POST", "/v1/join", e.joinBody(fresh, &bad)).want(t, http.StatusBadRequest, "device signing key")
	e.unchanged(before, "refused joins")

	// Control: the fresh invite was not spent by the refusals above.
	e.call(d, "POST", "/v1/join", e.joinBody(fresh, d)).want(t, http.StatusAccepted, "")
	e.call(newDevice(t, "again", "ag"), "POST", "/v1/join", e.joinBody(fresh, d)).want(t, http.StatusUnauthorized, "")
	second := newDevice(t, "second", "sec")
	e.call(second, "POST", "/v1/join", e.joinBody(fresh, second)).want(t, http.StatusNotFound, "invite not found, already used or expired")
}

func TestApproveRefusals(t *testing.T) {
	e := newTeam(t, server.Options{})
	inv := e.invite(wire.RoleWriter)
	p := e.join(inv, "pending-box", "pat")
	invQ := e.invite(wire.RoleReader)
	q := e.join(invQ, "queued", "quinn")
	admin2 := e.member(wire.RoleAdmin, "second-admin", "abe")
	before := e.snapshot()

	good := func() wire.Approve { return e.approval(e.admin, inv, p) }
	// withEntry is good() with the entry changed by mut and signed again
	// by signer.
	withEntry := func(signer *device, mut func(le *wire.LogEntry)) func() wire.Approve {
		return func() wire.Approve {
			a := good()
			dev := *a.Entry.Device
			a.Entry.Device = &dev
			mut(&a.Entry)
			a.Entry.Sign(signer.ID, signer.key)
			return a
		}
	}
	const (
		badKey   = "the wrapped key must be for the device approved and signed by this admin device"
		badEntry = "the log entry must add the device approved, with its invitation's role, signed by this admin device"
		invalid  = "membership log entry"
		moved    = "the membership log has moved on"
	)
	for _, c := range []struct {
		name string
		a    func() wire.Approve
		code int
		msg  string
	}{
		{"signed by another admin", func() wire.Approve {
			a := good()
			a.Key = e.wrappedKey(admin2, p)
			return a
		}, 400, badKey},
		{"signed by another key as this admin", func() wire.Approve {
			a := good()
			a.Key.Sig = ed25519.Sign(e.writer.key, wire.WrappedKeySigned(e.team, &a.Key))
			return a
		}, 400, badKey},
		{"signer changed", func() wire.Approve {
			a := good()
			a.Key.Signer = admin2.ID
			return a
		}, 400, badKey},
		{"sealed changed", func() wire.Approve {
			a := good()
			a.Key.Sealed[len(a.Key.Sealed)-1] ^= 1
			return a
		}, 400, badKey},
		{"signed for another team", func() wire.Approve {
			a := good()
			a.Key.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(wire.NewID(), &a.Key))
			return a
		}, 400, badKey},
		{"key for another device", func() wire.Approve {
			a := good()
			a.Key = e.wrappedKey(e.admin, q)
			return a
		}, 400, badKey},
		{"key for the admin itself", func() wire.Approve {
			a := good()
			a.Key = e.wrappedKey(e.admin, e.admin)
			return a
		}, 400, badKey},
		{"epoch 0", func() wire.Approve {
			a := good()
			a.Key.Epoch = 0
			a.Key.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &a.Key))
			return a
		}, 400, badKey},
		{"sealed empty", func() wire.Approve {
			a := good()
			a.Key.Sealed = nil
			a.Key.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &a.Key))
			return a
		}, 400, badKey},
		{"sealed too big", func() wire.Approve {
			a := good()
			a.Key.Sealed = make([]byte, 4097)
			a.Key.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &a.Key))
			return a
		}, 400, badKey},
		{"device id invalid", func() wire.Approve {
			a := good()
			a.Device, a.Key.Device = "x", "x"
			a.Key.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &a.Key))
			return a
		}, 400, badKey},
		{"an active device", func() wire.Approve {
			return wire.Approve{Device: e.writer.ID, Key: e.wrappedKey(e.admin, e.writer)}
		}, 409, "that device is not waiting for approval"},
		{"the admin itself", func() wire.Approve {
			return wire.Approve{Device: e.admin.ID, Key: e.wrappedKey(e.admin, e.admin)}
		}, 409, "that device is not waiting for approval"},
		{"an unknown device", func() wire.Approve {
			s := newDevice(t, "s", "s")
			return wire.Approve{Device: s.ID, Key: e.wrappedKey(e.admin, s)}
		}, 409, "that device is not waiting for approval"},
		{"another pending device's invite", func() wire.Approve {
			a := good()
			a.Invite = invQ
			return a
		}, 409, "that device is not waiting for approval"},

		// The log entry must add exactly the pending device, with its
		// invite's role, as the log's next entry, signed by the caller.
		{"no entry", func() wire.Approve {
			a := good()
			a.Entry = wire.LogEntry{}
			return a
		}, 400, badEntry},
		{"entry adds another pending device", func() wire.Approve {
			a := good()
			a.Entry = *e.addEntry(e.admin, q, wire.RoleWriter)
			return a
		}, 400, badEntry},
		{"entry adds another pending device, with its role", func() wire.Approve {
			a := good()
			a.Entry = *e.addEntry(e.admin, q, wire.RoleReader)
			return a
		}, 400, badEntry},
		{"entry adds a device the server never saw", func() wire.Approve {
			a := good()
			a.Entry = *e.addEntry(e.admin, newDevice(t, "ghost", "gus"), wire.RoleWriter)
			return a
		}, 400, badEntry},
		{"entry with another box key", withEntry(e.admin, func(le *wire.LogEntry) {
			le.Device.Box = newDevice(t, "x", "x").Box
		}), 400, badEntry},
		{"entry with another signing key", withEntry(e.admin, func(le *wire.LogEntry) {
			le.Device.SignKey = newDevice(t, "x", "x").SignKey
		}), 400, badEntry},
		{"entry with another device name", withEntry(e.admin, func(le *wire.LogEntry) { le.Device.Name = "renamed" }), 400, badEntry},
		{"entry with another member", withEntry(e.admin, func(le *wire.LogEntry) { le.Device.Member = "ann" }), 400, badEntry},
		{"entry with the reader role", withEntry(e.admin, func(le *wire.LogEntry) { le.Role = wire.RoleReader }), 400, badEntry},
		{"entry with the admin role", withEntry(e.admin, func(le *wire.LogEntry) { le.Role = wire.RoleAdmin }), 400, badEntry},
		{"entry of another kind", withEntry(e.admin, func(le *wire.LogEntry) { le.Kind = wire.LogRole; le.Member = "pat" }), 400, badEntry},
		{"entry signed by another admin", withEntry(admin2, func(*wire.LogEntry) {}), 400, badEntry},
		{"entry signed by the writer", withEntry(e.writer, func(*wire.LogEntry) {}), 400, badEntry},
		{"entry signed by another key as this admin", func() wire.Approve {
			a := good()
			a.Entry.Sign(e.writer.ID, e.writer.key)
			a.Entry.Signer = e.admin.ID
			return a
		}, 400, invalid},
		{"entry with a bit flipped after signing", func() wire.Approve {
			a := good()
			a.Entry.Time = a.Entry.Time.Add(time.Nanosecond)
			return a
		}, 400, invalid},
		{"entry for another team", withEntry(e.admin, func(le *wire.LogEntry) { le.Team = wire.NewID() }), 400, invalid},
		{"entry not chained to the head", withEntry(e.admin, func(le *wire.LogEntry) { le.Prev = e.entries[0].Hash() }), 400, invalid},
		{"entry not chained at all", withEntry(e.admin, func(le *wire.LogEntry) { le.Prev = nil }), 400, invalid},
		{"entry at a taken position", withEntry(e.admin, func(le *wire.LogEntry) { le.Seq-- }), 409, moved},
		{"entry skipping a position", withEntry(e.admin, func(le *wire.LogEntry) { le.Seq++ }), 409, moved},
		{"entry at position 1", withEntry(e.admin, func(le *wire.LogEntry) { le.Seq, le.Prev = 1, nil }), 409, moved},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.call(e.admin, "POST", "/v1/joins/approve", c.a()).want(t, c.code, c.msg)
		})
	}
	e.unchanged(before, "refused approvals")
	e.call(p, "GET", "/v1/key", nil).want(t, http.StatusNotFound, "no key for this device yet")

	// Control, then approving twice, with a fresh entry or the same one.
	a := good()
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusOK, "")
	e.took(&a.Entry)
	before = e.snapshot()
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.call(e.admin, "POST", "/v1/joins/approve", good()).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.call(admin2, "POST", "/v1/joins/approve", wire.Approve{Device: p.ID, Key: e.wrappedKey(admin2, p)}).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.call(admin2, "POST", "/v1/joins/approve", e.approval(admin2, inv, p)).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.unchanged(before, "approving twice")
	// The approval is in the log, as the admin sent it.
	var lg wire.Log
	e.call(p, "GET", "/v1/log?since=0", nil).want(t, http.StatusOK, "").decode(t, &lg)
	if last := lg.Entries[len(lg.Entries)-1]; lg.Head != e.members.Seq || !bytes.Equal(last.Hash(), a.Entry.Hash()) {
		t.Fatalf("log after the approval: head %d (want %d), last entry %+v", lg.Head, e.members.Seq, last)
	}

	// A removed device is not brought back by an approval.
	e.approve(invQ, q)
	e.remove(e.admin, q)
	before = e.snapshot()
	e.call(e.admin, "POST", "/v1/joins/approve", e.approval(e.admin, invQ, q)).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.call(e.admin, "POST", "/v1/joins/approve", wire.Approve{Device: q.ID, Key: e.wrappedKey(e.admin, q)}).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.unchanged(before, "approving a removed device")

	// After a new key epoch, a key of the old one is refused: the joiner
	// would refuse it and stay without a key.
	invR := e.invite(wire.RoleReader)
	r := e.join(invR, "late", "lou")
	e.rotate(e.admin)
	before = e.snapshot()
	old := e.approval(e.admin, invR, r)
	old.Key = e.wrapKey(e.admin, &r.Device, 1, e.keys[1])
	e.call(e.admin, "POST", "/v1/joins/approve", old).want(t, http.StatusBadRequest, "the wrapped key must be for the team's current key epoch")
	next := e.approval(e.admin, invR, r)
	next.Key = e.wrapKey(e.admin, &r.Device, 3, e.keys[2])
	e.call(e.admin, "POST", "/v1/joins/approve", next).want(t, http.StatusBadRequest, "the wrapped key must be for the team's current key epoch")
	e.unchanged(before, "approving with a key of another epoch")
	e.approve(invR, r)
	var k wire.WrappedKey
	e.call(r, "GET", "/v1/key", nil).want(t, http.StatusOK, "").decode(t, &k)
	if k.Epoch != 2 {
		t.Fatalf("the joiner's key is of epoch %d, want 2", k.Epoch)
	}
}

func TestRateLimit(t *testing.T) {
	e := newTeam(t, server.Options{})
	// A new server process on the same file: fresh buckets of 5.
	e.restart(server.Options{Rate: 5, Burst: 5})

	// burst sends up to 10 requests and returns the statuses up to and
	// including the first 429, and how long the first six took.
	burst := func(send func() response) ([]int, time.Duration) {
		var codes []int
		start := time.Now()
		var took time.Duration
		for i := 0; i < 10; i++ {
			r := send()
			codes = append(codes, r.code)
			if i == 5 {
				took = time.Since(start)
			}
			if r.code == http.StatusTooManyRequests {
				r.want(t, http.StatusTooManyRequests, "too many requests")
				break
			}
		}
		return codes, took
	}
	check := func(what string, ok int, codes []int, took time.Duration) {
		t.Helper()
		for i, c := range codes {
			switch {
			case i < 5 && c != ok:
				t.Fatalf("%s: request %d got %d (all: %v)", what, i+1, c, codes)
			case i == 5 && c != http.StatusTooManyRequests && took < 150*time.Millisecond:
				t.Fatalf("%s: the 6th request within %v got %d (all: %v)", what, took, c, codes)
			}
		}
		if codes[len(codes)-1] != http.StatusTooManyRequests {
			t.Fatalf("%s: never limited: %v", what, codes)
		}
	}

	// A device's requests.
	codes, took := burst(func() response { return e.call(e.admin, "GET", "/v1/members", nil) })
	check("an admin's reads", http.StatusOK, codes, took)
	// Pushes: the refused ones change nothing.
	var pushed []string
	codes, took = burst(func() response {
		r := e.record(e.writer, wire.NewID(), 1)
		resp := e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{r}})
		if resp.code == http.StatusOK {
			pushed = append(pushed, r.ID)
		}
		return resp
	})
	check("a writer's pushes", http.StatusOK, codes, took)
	// Self-signed requests are limited by address.
	codes, took = burst(func() response {
		d := newDevice(t, "j", "j")
		return e.call(d, "POST", "/v1/join", e.joinBody(wire.NewID(), d))
	})
	check("joins from one address", http.StatusNotFound, codes, took)

	// The writer's budget is its own: the reader is not limited by it.
	e.call(e.reader, "GET", "/v1/changes?since=0", nil).want(t, http.StatusOK, "")

	// Only the pushes that were let through were stored.
	c := e.changes(e.reader)
	if int(c.Head) != len(pushed) || len(c.Records) != len(pushed) {
		t.Errorf("head %d and %d records stored, %d pushes answered 200", c.Head, len(c.Records), len(pushed))
	}
}

func TestRateLimitStrangers(t *testing.T) {
	e := newTeam(t, server.Options{})
	e.restart(server.Options{Rate: 5, Burst: 5})
	stranger := newDevice(t, "stranger", "mallory")

	// A stranger who knows the writer's id sends requests under it with
	// bad signatures, many more than the writer's budget.
	var codes []int
	for i := 0; i < 20; i++ {
		r := e.request("GET", "/v1/members", nil)
		signRequest(r.Header, stranger.key, e.writer.ID, "GET", "/v1/members", nil, e.clock.Now().Unix(), wire.NewID())
		codes = append(codes, e.send(r).code)
	}
	for _, c := range codes {
		if c != http.StatusUnauthorized && c != http.StatusTooManyRequests {
			t.Fatalf("stranger: %v", codes)
		}
	}
	// Unauthenticated requests are limited too (per address).
	if codes[len(codes)-1] != http.StatusTooManyRequests {
		t.Errorf("20 bad signatures in a row were never limited: %v", codes)
	}
	// The writer is not locked out by them.
	e.call(e.writer, "GET", "/v1/members", nil).want(t, http.StatusOK, "")
}

func TestConcurrentCAS(t *testing.T) {
	e := newTeam(t, server.Options{})
	w2 := e.member(wire.RoleWriter, "ci", "cy")
	const rounds = 8
	for i := 0; i < rounds; i++ {
		id := wire.NewID()
		a, b := e.record(e.writer, id, 1), e.record(w2, id, 1)
		reqs := []*http.Request{
			e.signed(e.writer, "POST", "/v1/push", body(t, wire.Push{Records: []wire.Record{a}})),
			e.signed(w2, "POST", "/v1/push", body(t, wire.Push{Records: []wire.Record{b}})),
		}
		start := make(chan struct{})
		out := make(chan response, 2)
		for _, r := range reqs {
			go func() {
				<-start
				resp, err := e.hs.Client().Do(r)
				if err != nil {
					out <- response{desc: err.Error()}
					return
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				out <- response{code: resp.StatusCode, body: buf.Bytes(), desc: r.Header.Get(wire.HeaderDevice)}
			}()
		}
		close(start)
		var winner, loser *wire.PushResult
		var winnerRec wire.Record
		for range 2 {
			r := <-out
			if r.code != http.StatusOK {
				t.Fatalf("concurrent push: %d %s %s", r.code, r.body, r.desc)
			}
			var pr wire.PushResponse
			if err := json.Unmarshal(r.body, &pr); err != nil || len(pr.Results) != 1 {
				t.Fatalf("answer %s: %v", r.body, err)
			}
			res := pr.Results[0]
			switch res.Status {
			case wire.PushOK:
				if winner != nil {
					t.Fatalf("round %d: both pushes of version 1 applied", i)
				}
				winner = &res
				winnerRec = a
				if r.desc == w2.ID {
					winnerRec = b
				}
			case wire.PushConflict:
				if loser != nil {
					t.Fatalf("round %d: both pushes conflicted", i)
				}
				loser = &res
			default:
				t.Fatalf("status %q", res.Status)
			}
		}
		if winner == nil || loser == nil {
			t.Fatalf("round %d: winner %v loser %v", i, winner, loser)
		}
		cur := loser.Current
		if cur == nil || cur.Version != 1 || cur.Author != winnerRec.Author || !bytes.Equal(cur.Sealed, winnerRec.Sealed) ||
			!bytes.Equal(cur.Sig, winnerRec.Sig) || cur.Seq != winner.Seq {
			t.Fatalf("round %d: the conflict's current record %+v is not the winner's (%s, seq %d)", i, cur, winnerRec.Author, winner.Seq)
		}
	}
	c := e.changes(e.reader)
	if c.Head != rounds || len(c.Records) != rounds {
		t.Fatalf("after %d rounds: head %d, %d records", rounds, c.Head, len(c.Records))
	}
	// The loser resolves on top of the winner: version 2 applies once.
	top := c.Records[0]
	next := e.record(e.writer, top.ID, 2)
	if pr := e.push(e.writer, next); pr.Results[0].Status != wire.PushOK {
		t.Fatalf("version 2: %+v", pr)
	}
	stale := e.record(w2, top.ID, 2)
	pr := e.push(w2, stale)
	if pr.Results[0].Status != wire.PushConflict || pr.Results[0].Current.Version != 2 || pr.Results[0].Current.Author != e.writer.ID {
		t.Fatalf("a second version 2: %+v", pr.Results[0])
	}
	// Skipping a version is a conflict too.
	if pr := e.push(w2, e.record(w2, top.ID, 5)); pr.Results[0].Status != wire.PushConflict {
		t.Fatalf("version 5 over 2: %+v", pr.Results[0])
	}
}
