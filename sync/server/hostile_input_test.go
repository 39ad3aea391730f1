package server_test

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Malformed input: bodies and pushes the server must refuse whole.

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
