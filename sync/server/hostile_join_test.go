package server_test

import (
	"bytes"
	"crypto/ed25519"
	"net/http"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Joins and approvals the server refuses.

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
