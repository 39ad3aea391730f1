package server_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Authorization: what a role, a pending device or a stranger may not do
// or learn.

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
