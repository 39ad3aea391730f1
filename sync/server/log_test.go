package server_test

// The membership log over HTTP: GET /v1/log, POST /v1/log (role changes,
// removals, new key epochs), the entries the server must refuse, two
// admins racing, and GET /v1/audit. Every refusal leaves the server as it
// was (env.unchanged also compares GET /v1/log and the log table), and
// every test ends with the control that does change it.

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// getLog reads the log after since as d.
func (e *env) getLog(d *device, since int64) wire.Log {
	e.t.Helper()
	var lg wire.Log
	e.call(d, "GET", "/v1/log?since="+strconv.FormatInt(since, 10), nil).want(e.t, http.StatusOK, "").decode(e.t, &lg)
	return lg
}

// checkMembers compares the server's view of the team (GET /v1/members:
// roles and states, which it serves by) with the verified log.
func (e *env) checkMembers() {
	e.t.Helper()
	var ms []wire.Member
	e.call(e.admin, "GET", "/v1/members", nil).want(e.t, http.StatusOK, "").decode(e.t, &ms)
	for _, sm := range ms {
		d, inLog := e.members.Devices[sm.ID]
		switch {
		case sm.State == "pending":
			if inLog {
				e.t.Errorf("device %s (%s) is pending on the server but in the log", sm.Name, sm.ID)
			}
		case !inLog:
			e.t.Errorf("device %s (%s) is %s on the server but not in the log", sm.Name, sm.ID, sm.State)
		case d.Active != (sm.State == "active") || (d.Active && d.Role != sm.Role):
			e.t.Errorf("device %s: the server has it %s %s, the log %s (active: %v)", sm.Name, sm.Role, sm.State, d.Role, d.Active)
		}
	}
}

// pushStatus pushes one record as d and returns its status.
func (e *env) pushStatus(d *device, r wire.Record) string {
	e.t.Helper()
	pr := e.push(d, r)
	if len(pr.Results) != 1 || pr.Results[0].ID != r.ID {
		e.t.Fatalf("push of one record: %+v", pr)
	}
	return pr.Results[0].Status
}

// sameEntries fails unless got are exactly want (hashes cover content and
// signature).
func sameEntries(t *testing.T, got, want []wire.LogEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d entries, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i].Hash(), want[i].Hash()) {
			t.Fatalf("entry %d differs from what was sent:\ngot  %+v\nwant %+v", i+1, got[i], want[i])
		}
	}
}

func TestGetLog(t *testing.T) {
	e := newTeam(t, server.Options{})
	inv := e.invite(wire.RoleWriter)
	p := e.join(inv, "pending-box", "pat")
	e.setRole(e.admin, "rita", wire.RoleWriter)
	if e.members.Seq != 4 {
		t.Fatalf("log of %d entries, want 4 (create, 2 adds, a role)", e.members.Seq)
	}

	// Every device of the team reads it, a pending one too (it verifies the
	// log before it trusts the key an admin wraps for it).
	for _, d := range []*device{e.admin, e.writer, e.reader, p} {
		lg := e.getLog(d, 0)
		if lg.Head != 4 {
			t.Fatalf("%s: head %d, want 4", d.Name, lg.Head)
		}
		sameEntries(t, lg.Entries, e.entries)
	}
	// The log the server serves verifies, from the genesis on, to the
	// state the clients reached.
	m := wire.NewMembership(e.team)
	for _, le := range e.getLog(p, 0).Entries {
		if err := m.Apply(&le); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(m.Head, e.members.Head) || !bytes.Equal(m.Genesis, e.entries[0].Hash()) {
		t.Fatalf("the served log leads to head %x, genesis %x", m.Head, m.Genesis)
	}
	// since: only what follows; the head always.
	for since := int64(0); since <= 6; since++ {
		lg := e.getLog(e.reader, since)
		want := e.entries[min(since, 4):]
		if lg.Head != 4 || lg.Entries == nil {
			t.Fatalf("since %d: head %d, entries %v (want [] rather than null)", since, lg.Head, lg.Entries)
		}
		sameEntries(t, lg.Entries, want)
	}
	lg := e.getLog(e.reader, 1<<62)
	if lg.Head != 4 || len(lg.Entries) != 0 {
		t.Fatalf("since far ahead: %+v", lg)
	}
	for _, since := range []string{"-1", "x", "", "1.5", "99999999999999999999"} {
		e.call(e.reader, "GET", "/v1/log?since="+since, nil).want(t, http.StatusBadRequest, "since must be a log position")
	}
	e.call(e.reader, "GET", "/v1/log", nil).want(t, http.StatusBadRequest, "since must be a log position")
	// A stranger reads nothing.
	e.call(newDevice(t, "stranger", "mallory"), "GET", "/v1/log?since=0", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	// Another team's log is its own.
	f := newEnvOn(t, e)
	if lg := f.getLog(f.admin, 0); lg.Head != 1 || len(lg.Entries) != 1 || lg.Entries[0].Team != f.team {
		t.Fatalf("another team's log: %+v", lg)
	}

	// Control: an approval is the next entry, for everyone.
	e.approve(inv, p)
	lg = e.getLog(p, 4)
	sameEntries(t, lg.Entries, e.entries[4:])
	if lg.Head != 5 || lg.Entries[0].Kind != wire.LogAdd || lg.Entries[0].Device.ID != p.ID {
		t.Fatalf("after the approval: %+v", lg)
	}
}

func TestLogRoleChange(t *testing.T) {
	e := newTeam(t, server.Options{})
	rec := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, rec)

	// The writer becomes a reader: its pushes are refused at once.
	e.setRole(e.admin, "wes", wire.RoleReader)
	e.checkMembers()
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(e.writer, rec.ID, 2)}}).want(t, http.StatusForbidden, "a reader cannot change secrets")
	// The reader becomes a writer: it pushes, at the new log position.
	e.setRole(e.admin, "rita", wire.RoleWriter)
	e.checkMembers()
	if st := e.pushStatus(e.reader, e.record(e.reader, rec.ID, 2)); st != wire.PushOK {
		t.Fatalf("a new writer's push: %s", st)
	}
	// A record written before the change is stale: its author must see
	// the change first.
	before := e.snapshot()
	if st := e.pushStatus(e.reader, e.recordAt(e.reader, rec.ID, 3, 1, e.members.Seq-1)); st != wire.PushStale {
		t.Fatalf("a record at the log position before the last change: %s, want stale", st)
	}
	if st := e.pushStatus(e.reader, e.recordAt(e.reader, rec.ID, 3, 1, e.members.Seq+1)); st != wire.PushStale {
		t.Fatalf("a record at a log position ahead of the log: %s, want stale", st)
	}
	e.unchanged(before, "stale pushes")

	// A writer made admin can invite and change the log; an admin made
	// writer no longer can.
	e.call(e.writer, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleReader, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusForbidden, "only an admin can do this")
	e.setRole(e.admin, "wes", wire.RoleAdmin)
	e.call(e.writer, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleReader, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusCreated, "")
	e.setRole(e.writer, "ann", wire.RoleWriter)
	admin := e.admin
	e.admin = e.writer
	e.checkMembers()
	e.call(admin, "POST", "/v1/invites", wire.Invite{ID: wire.NewID(), Role: wire.RoleReader, Expires: e.clock.Now().Add(time.Hour)}).want(t, http.StatusForbidden, "only an admin can do this")
	e.appendLog(admin, e.roleEntry(admin, "ann", wire.RoleAdmin), nil).want(t, http.StatusForbidden, "only an admin can do this")

	// A member has one role: a new device of rita (a writer now) that
	// joined with a reader's invite cannot be added, with either role.
	inv := e.invite(wire.RoleReader)
	rita2 := e.join(inv, "rita-laptop", "rita")
	before = e.snapshot()
	e.call(e.admin, "POST", "/v1/joins/approve", e.approval(e.admin, inv, rita2)).want(t, http.StatusBadRequest, "membership log entry")
	a := e.approval(e.admin, inv, rita2)
	a.Entry = *e.addEntry(e.admin, rita2, wire.RoleWriter)
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusBadRequest, "the log entry must add the device approved, with its invitation's role")
	e.unchanged(before, "a device of a member with another role than its invite's")
	// With a writer's invite it is; then a role change takes every device
	// of the member.
	inv = e.invite(wire.RoleWriter)
	rita3 := e.join(inv, "rita-laptop-2", "rita")
	e.approve(inv, rita3)
	if st := e.pushStatus(rita3, e.record(rita3, wire.NewID(), 1)); st != wire.PushOK {
		t.Fatalf("rita's new device pushes: %s", st)
	}
	e.setRole(e.admin, "rita", wire.RoleReader)
	e.checkMembers()
	for _, d := range []*device{e.reader, rita3} {
		e.call(d, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(d, wire.NewID(), 1)}}).want(t, http.StatusForbidden, "a reader cannot change secrets")
	}
}

func TestLogRemove(t *testing.T) {
	e := newTeam(t, server.Options{})
	stranger := newDevice(t, "stranger", "mallory")
	rec := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, rec)
	// The reader's member has a second device.
	e.setRole(e.admin, "rita", wire.RoleWriter)
	inv := e.invite(wire.RoleWriter)
	rita2 := e.join(inv, "rita-laptop", "rita")
	e.approve(inv, rita2)

	// strangerBody is the answer to a bad signature under d's id.
	strangerBody := func(method, path string, d *device) []byte {
		r := e.request(method, path, nil)
		signRequest(r.Header, stranger.key, d.ID, method, r.URL.RequestURI(), nil, e.clock.Now().Unix(), wire.NewID())
		return e.send(r).want(t, http.StatusUnauthorized, "unauthenticated").body
	}
	gone := func(d *device) {
		t.Helper()
		for _, ep := range authedEndpoints {
			got := e.call(d, ep.method, ep.path, nil).want(t, http.StatusUnauthorized, "unauthenticated")
			if ref := strangerBody(ep.method, ep.path, d); !bytes.Equal(got.body, ref) {
				t.Errorf("removed %s: %s %s answers %q, a stranger %q", d.Name, ep.method, ep.path, got.body, ref)
			}
		}
		e.call(d, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(d, rec.ID, 2)}}).want(t, http.StatusUnauthorized, "unauthenticated")
	}

	// One device: the server stops serving it at once.
	e.remove(e.admin, e.writer)
	e.checkMembers()
	before := e.snapshot()
	gone(e.writer)
	e.unchanged(before, "a removed device")
	if lg := e.getLog(e.reader, 0); lg.Entries[len(lg.Entries)-1].Target != e.writer.ID {
		t.Fatalf("the removal is not the log's last entry: %+v", lg.Entries[len(lg.Entries)-1])
	}
	// A record its author wrote before the removal is stale for everyone.
	if st := e.pushStatus(e.reader, e.recordAt(e.reader, rec.ID, 2, 1, e.members.Seq-1)); st != wire.PushStale {
		t.Fatalf("a record written before the removal: %s, want stale", st)
	}

	// A member: every device goes.
	le := e.next(wire.LogRemove)
	le.Member = "rita"
	le.Sign(e.admin.ID, e.admin.key)
	e.appendLog(e.admin, le, nil).want(t, http.StatusOK, "")
	e.checkMembers()
	before = e.snapshot()
	gone(e.reader)
	gone(rita2)
	e.unchanged(before, "a removed member")
	// Removed is removed: not twice, and not back through a role change.
	for _, c := range []struct {
		name string
		le   *wire.LogEntry
	}{
		{"the device again", e.removeEntry(e.admin, e.writer)},
		{"the member again", func() *wire.LogEntry {
			le := e.next(wire.LogRemove)
			le.Member = "rita"
			le.Sign(e.admin.ID, e.admin.key)
			return le
		}()},
		{"a role for the removed member", e.roleEntry(e.admin, "rita", wire.RoleAdmin)},
	} {
		e.appendLog(e.admin, c.le, nil).want(t, http.StatusBadRequest, "membership log entry")
	}
	e.unchanged(before, "changes to removed devices")

	// Control: the admin still writes, at the new position.
	if st := e.pushStatus(e.admin, e.record(e.admin, rec.ID, 2)); st != wire.PushOK {
		t.Fatalf("the admin's push after the removals: %s", st)
	}
}

func TestLogEpoch(t *testing.T) {
	e := newTeam(t, server.Options{})
	admin2 := e.member(wire.RoleAdmin, "second-admin", "abe")
	gone := e.member(wire.RoleReader, "old-phone", "otto")
	e.remove(e.admin, gone)
	pending := e.join(e.invite(wire.RoleReader), "pending-box", "pat")
	rec := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, rec)
	before := e.snapshot()

	const needKeys = "a new epoch needs its key wrapped once to every device in the team, signed by this admin device"
	// each returns a new epoch's entry and keys, changed.
	type epochReq struct {
		le   *wire.LogEntry
		keys []wire.WrappedKey
	}
	fresh := func() epochReq {
		le, keys, _ := e.epochEntry(e.admin)
		return epochReq{le, keys}
	}
	drop := func(id string) func() epochReq {
		return func() epochReq {
			r := fresh()
			r.keys = slices.DeleteFunc(r.keys, func(k wire.WrappedKey) bool { return k.Device == id })
			return r
		}
	}
	extra := func(d *device) func() epochReq {
		return func() epochReq {
			r := fresh()
			r.keys = append(r.keys, e.wrapKey(e.admin, &d.Device, r.le.Epoch, make([]byte, 32)))
			return r
		}
	}
	mutKey := func(mut func(k *wire.WrappedKey)) func() epochReq {
		return func() epochReq {
			r := fresh()
			mut(&r.keys[0])
			return r
		}
	}
	resigned := func(mut func(k *wire.WrappedKey)) func() epochReq {
		return mutKey(func(k *wire.WrappedKey) {
			mut(k)
			k.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, k))
		})
	}
	for _, c := range []struct {
		name string
		req  func() epochReq
		code int
		msg  string
	}{
		{"no keys", func() epochReq { r := fresh(); r.keys = nil; return r }, 400, needKeys},
		{"missing the writer", drop(e.writer.ID), 400, needKeys},
		{"missing the caller itself", drop(e.admin.ID), 400, needKeys},
		{"missing the other admin", drop(admin2.ID), 400, needKeys},
		{"extra: a removed device", extra(gone), 400, needKeys},
		{"extra: a pending device", extra(pending), 400, needKeys},
		{"extra: a stranger", extra(newDevice(t, "stranger", "mallory")), 400, needKeys},
		{"extra: a device twice", func() epochReq {
			r := fresh()
			r.keys = append(r.keys, r.keys[1])
			return r
		}, 400, needKeys},
		{"a key of the current epoch", resigned(func(k *wire.WrappedKey) { k.Epoch-- }), 400, needKeys},
		{"a key of the epoch after", resigned(func(k *wire.WrappedKey) { k.Epoch++ }), 400, needKeys},
		{"a key signed by the other admin", func() epochReq {
			r := fresh()
			r.keys[0] = e.wrapKey(admin2, &e.writer.Device, r.le.Epoch, make([]byte, 32))
			return r
		}, 400, needKeys},
		{"a key signed by another key as the caller", mutKey(func(k *wire.WrappedKey) {
			k.Sig = ed25519.Sign(admin2.key, wire.WrappedKeySigned(e.team, k))
		}), 400, needKeys},
		{"a key signed for another team", mutKey(func(k *wire.WrappedKey) {
			k.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(wire.NewID(), k))
		}), 400, needKeys},
		{"a key changed after signing", mutKey(func(k *wire.WrappedKey) { k.Sealed[len(k.Sealed)-1] ^= 1 }), 400, needKeys},
		{"a key for another device than signed", mutKey(func(k *wire.WrappedKey) { k.Device = pending.ID }), 400, needKeys},
		{"a key without a signature", mutKey(func(k *wire.WrappedKey) { k.Sig = nil }), 400, needKeys},
		{"a key sealed empty", resigned(func(k *wire.WrappedKey) { k.Sealed = nil }), 400, needKeys},
		{"a key sealed too big", resigned(func(k *wire.WrappedKey) { k.Sealed = make([]byte, 4097) }), 400, needKeys},
		{"the epoch skips one", func() epochReq {
			r := fresh()
			r.le.Epoch++
			r.le.Sign(e.admin.ID, e.admin.key)
			for i := range r.keys {
				r.keys[i].Epoch = r.le.Epoch
				r.keys[i].Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &r.keys[i]))
			}
			return r
		}, 400, "membership log entry"},
		{"the epoch again", func() epochReq {
			r := fresh()
			r.le.Epoch--
			r.le.Sign(e.admin.ID, e.admin.key)
			for i := range r.keys {
				r.keys[i].Epoch = r.le.Epoch
				r.keys[i].Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &r.keys[i]))
			}
			return r
		}, 400, "membership log entry"},
		{"keys with a role change", func() epochReq {
			r := fresh()
			r.le = e.roleEntry(e.admin, "rita", wire.RoleWriter)
			for i := range r.keys {
				r.keys[i].Epoch = e.members.Epoch
				r.keys[i].Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &r.keys[i]))
			}
			return r
		}, 400, "only a new epoch, a grant or an ungrant carries keys"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.req()
			e.call(e.admin, "POST", "/v1/log", wire.AppendLog{Entry: *r.le, Keys: r.keys}).want(t, c.code, c.msg)
		})
	}
	e.unchanged(before, "refused epochs")
	if epoch, _, _ := e.st.Team(t.Context(), e.team); epoch != 1 {
		t.Fatalf("epoch %d after refusals", epoch)
	}

	// Control: the new epoch, by the other admin.
	e.rotate(admin2)
	if epoch, logSeq, err := e.st.Team(t.Context(), e.team); err != nil || epoch != 2 || logSeq != e.members.Seq {
		t.Fatalf("team after the new epoch: epoch %d, log %d, %v", epoch, logSeq, err)
	}
	// Every device in the team gets the new key, wrapped to it alone by
	// the admin who made it; the removed one gets nothing.
	for _, d := range []*device{e.admin, admin2, e.writer, e.reader} {
		var k wire.WrappedKey
		e.call(d, "GET", "/v1/key", nil).want(t, http.StatusOK, "").decode(t, &k)
		if k.Epoch != 2 || k.Device != d.ID || k.Signer != admin2.ID || !ed25519.Verify(admin2.SignKey, wire.WrappedKeySigned(e.team, &k), k.Sig) {
			t.Fatalf("%s's key after the new epoch: %+v", d.Name, k)
		}
		r, err := age.Decrypt(bytes.NewReader(k.Sealed), d.box)
		if err != nil {
			t.Fatal(err)
		}
		var g wire.KeyGrant
		if err := json.NewDecoder(r).Decode(&g); err != nil || g.Epoch != 2 || g.Device != d.ID || !bytes.Equal(g.Key, e.keys[2]) {
			t.Fatalf("%s's grant: %+v, %v", d.Name, g, err)
		}
	}
	e.call(pending, "GET", "/v1/key", nil).want(t, http.StatusNotFound, "no key for this device yet")
	// A push at the old epoch is stale, at the new one it applies.
	before = e.snapshot()
	if st := e.pushStatus(e.writer, e.recordAt(e.writer, rec.ID, 2, 1, e.members.Seq)); st != wire.PushStale {
		t.Fatalf("a push at the old epoch: %s, want stale", st)
	}
	ahead := e.record(e.writer, wire.NewID(), 1)
	ahead.Epoch++
	e.resign(e.writer, &ahead)
	if st := e.pushStatus(e.writer, ahead); st != wire.PushStale {
		t.Fatalf("a push at an epoch to come: %s, want stale", st)
	}
	if st := e.pushStatus(e.writer, e.recordAt(e.writer, rec.ID, 2, 2, e.members.Seq-1)); st != wire.PushStale {
		t.Fatalf("a push at the new epoch, before its entry: %s, want stale", st)
	}
	e.unchanged(before, "pushes at another epoch")
	if st := e.pushStatus(e.writer, e.record(e.writer, rec.ID, 2)); st != wire.PushOK {
		t.Fatalf("a push at the new epoch: %s", st)
	}
	// A push mixing both: each record on its own.
	pr := e.push(e.writer, e.recordAt(e.writer, wire.NewID(), 1, 1, e.members.Seq), e.record(e.writer, wire.NewID(), 1))
	if pr.Results[0].Status != wire.PushStale || pr.Results[1].Status != wire.PushOK {
		t.Fatalf("a push of an old and a new record: %+v", pr.Results)
	}
}

func TestLogRefusals(t *testing.T) {
	e := newTeam(t, server.Options{})
	admin2 := e.member(wire.RoleAdmin, "second-admin", "abe")
	exAdmin := e.member(wire.RoleAdmin, "old-admin", "olga")
	e.remove(e.admin, exAdmin)
	pending := e.join(e.invite(wire.RoleWriter), "pending-box", "pat")
	before := e.snapshot()
	head := e.members.Seq

	signed := func(signer *device, mut func(le *wire.LogEntry)) func() *wire.LogEntry {
		return func() *wire.LogEntry {
			le := e.next(wire.LogRole)
			le.Member, le.Role = "rita", wire.RoleWriter
			mut(le)
			le.Sign(signer.ID, signer.key)
			return le
		}
	}
	by := func(signer *device) func() *wire.LogEntry { return signed(signer, func(*wire.LogEntry) {}) }
	const (
		notAppendable = "an appended entry is a role change, a removal, a new epoch, a grant or an ungrant, signed by this admin device"
		invalid       = "membership log entry"
		moved         = "the membership log has moved on"
	)
	for _, c := range []struct {
		name   string
		caller *device
		le     func() *wire.LogEntry
		code   int
		msg    string
	}{
		{"a taken position", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Seq, le.Prev = head, e.entries[head-2].Hash() }), 409, moved},
		{"a position skipped", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Seq++ }), 409, moved},
		{"position 0", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Seq, le.Prev = 0, nil }), 409, moved},
		{"position -1", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Seq = -1 }), 409, moved},
		{"not chained to the head", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Prev = e.entries[0].Hash() }), 400, invalid},
		{"not chained at all", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Prev = nil }), 400, invalid},
		{"chained to a hash with a bit flipped", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Prev[0] ^= 1 }), 400, invalid},
		{"another team's", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Team = wire.NewID() }), 400, invalid},
		{"signed by the writer", e.admin, by(e.writer), 400, notAppendable},
		{"signed by a removed admin", e.admin, by(exAdmin), 400, notAppendable},
		{"signed by a pending device", e.admin, by(pending), 400, notAppendable},
		{"signed by a stranger", e.admin, by(newDevice(t, "stranger", "mallory")), 400, notAppendable},
		{"signed by the other admin", e.admin, by(admin2), 400, notAppendable},
		{"signed by another key as the caller", e.admin, func() *wire.LogEntry {
			le := by(admin2)()
			le.Signer = e.admin.ID
			return le
		}, 400, invalid},
		{"changed after signing", e.admin, func() *wire.LogEntry {
			le := by(e.admin)()
			le.Role = wire.RoleAdmin
			return le
		}, 400, invalid},
		{"no signature", e.admin, func() *wire.LogEntry {
			le := by(e.admin)()
			le.Sig = nil
			return le
		}, 400, invalid},
		{"unknown kind", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Kind = "promote" }), 400, notAppendable},
		{"a creation in the middle", e.admin, signed(e.admin, func(le *wire.LogEntry) {
			dev := e.admin.Device
			le.Kind, le.Name, le.Device, le.Role, le.Member = wire.LogCreate, "acme", &dev, wire.RoleAdmin, ""
		}), 400, notAppendable},
		{"an addition (approvals add devices)", e.admin, func() *wire.LogEntry { return e.addEntry(e.admin, pending, wire.RoleWriter) }, 400, notAppendable},
		{"a role for nobody", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Member = "nobody" }), 400, invalid},
		{"an unknown role", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Role = "owner" }), 400, invalid},
		{"a removal of nobody", e.admin, signed(e.admin, func(le *wire.LogEntry) { le.Kind, le.Member, le.Role = wire.LogRemove, "", "" }), 400, invalid},
		{"a removal of a pending device", e.admin, signed(e.admin, func(le *wire.LogEntry) {
			le.Kind, le.Member, le.Role, le.Target = wire.LogRemove, "", "", pending.ID
		}), 400, invalid},
		{"a new epoch that skips one, without keys", e.admin, signed(e.admin, func(le *wire.LogEntry) {
			le.Kind, le.Member, le.Role, le.Epoch = wire.LogEpoch, "", "", 3
		}), 400, invalid},
		// Callers other than an active admin are refused before the
		// entry is looked at.
		{"a writer's own entry", e.writer, by(e.writer), 403, "only an admin can do this"},
		{"a reader's own entry", e.reader, by(e.reader), 403, "only an admin can do this"},
		{"a pending device's own entry", pending, by(pending), 403, "this device is waiting for an admin to approve it"},
		{"a removed admin's own entry", exAdmin, by(exAdmin), 401, "unauthenticated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.call(c.caller, "POST", "/v1/log", wire.AppendLog{Entry: *c.le()}).want(t, c.code, c.msg)
		})
	}
	for _, b := range []string{"", "{", `{"entry":{}}`, `{"entry":{"seq":"1"}}`, `{"entry":{},"keys":{}}`, `{"entry":{},"extra":1}`, `{"entry":{}}{}`} {
		if r := e.call(e.admin, "POST", "/v1/log", b); r.code != http.StatusBadRequest {
			t.Errorf("body %q: %d %s", b, r.code, r.body)
		}
	}
	e.unchanged(before, "refused entries")
	if lg := e.getLog(e.reader, 0); lg.Head != head {
		t.Fatalf("refusals moved the log's head to %d", lg.Head)
	}

	// The last admin: admin2 leaves, then the admin can neither remove
	// nor demote itself, by device or by member.
	e.remove(e.admin, admin2)
	before = e.snapshot()
	e.appendLog(e.admin, e.removeEntry(e.admin, e.admin), nil).want(t, http.StatusBadRequest, invalid)
	le := e.next(wire.LogRemove)
	le.Member = "ann"
	le.Sign(e.admin.ID, e.admin.key)
	e.appendLog(e.admin, le, nil).want(t, http.StatusBadRequest, invalid)
	for _, role := range []string{wire.RoleWriter, wire.RoleReader} {
		e.appendLog(e.admin, e.roleEntry(e.admin, "ann", role), nil).want(t, http.StatusBadRequest, invalid)
	}
	e.unchanged(before, "leaving the team without an admin")
	// With a second admin, the first may go.
	e.setRole(e.admin, "wes", wire.RoleAdmin)
	e.setRole(e.admin, "ann", wire.RoleReader)
	e.checkMembers()
	e.call(e.admin, "POST", "/v1/log", wire.AppendLog{Entry: *e.roleEntry(e.admin, "ann", wire.RoleAdmin)}).want(t, http.StatusForbidden, "only an admin can do this")
	e.remove(e.writer, e.admin)
	e.admin = e.writer
	e.checkMembers()
}

func TestLogRace(t *testing.T) {
	e := newTeam(t, server.Options{})
	admin2 := e.member(wire.RoleAdmin, "second-admin", "abe")
	admins := []*device{e.admin, admin2}
	const rounds = 8
	for round := range rounds {
		// Both admins make the log's next entry from the same state: one a
		// new epoch, the other a role change (or both a new epoch).
		type attempt struct {
			by   *device
			le   *wire.LogEntry
			keys []wire.WrappedKey
			key  []byte
		}
		var as []attempt
		for i, a := range admins {
			if round%2 == 0 || i == 0 {
				le, keys, key := e.epochEntry(a)
				as = append(as, attempt{a, le, keys, key})
			} else {
				role := []string{wire.RoleReader, wire.RoleWriter}[round%4/2]
				as = append(as, attempt{by: a, le: e.roleEntry(a, "rita", role)})
			}
		}
		reqs := make([]*http.Request, len(as))
		for i, a := range as {
			reqs[i] = e.signed(a.by, "POST", "/v1/log", body(t, wire.AppendLog{Entry: *a.le, Keys: a.keys}))
		}
		start := make(chan struct{})
		codes := make([]int, len(reqs))
		bodies := make([][]byte, len(reqs))
		done := make(chan struct{})
		for i, r := range reqs {
			go func() {
				defer func() { done <- struct{}{} }()
				<-start
				resp, err := e.hs.Client().Do(r)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				var buf bytes.Buffer
				buf.ReadFrom(resp.Body)
				codes[i], bodies[i] = resp.StatusCode, buf.Bytes()
			}()
		}
		close(start)
		for range reqs {
			<-done
		}
		won := -1
		for i, c := range codes {
			switch {
			case c == http.StatusOK && won < 0:
				won = i
			case c == http.StatusOK:
				t.Fatalf("round %d: both entries for position %d were taken", round, as[i].le.Seq)
			case c == http.StatusConflict && strings.Contains(string(bodies[i]), "the membership log has moved on"):
			default:
				t.Fatalf("round %d: %s's entry: %d %s", round, as[i].by.Name, c, bodies[i])
			}
		}
		if won < 0 {
			t.Fatalf("round %d: neither entry was taken: %v", round, codes)
		}
		w := as[won]
		e.took(w.le)
		if w.key != nil {
			e.keys[w.le.Epoch] = w.key
		}
		// The log holds the winner's entry; the team is as it says, with
		// the winner's keys only.
		lg := e.getLog(e.reader, 0)
		sameEntries(t, lg.Entries, e.entries)
		e.checkMembers()
		epoch, logSeq, err := e.st.Team(t.Context(), e.team)
		if err != nil || epoch != e.members.Epoch || logSeq != e.members.Seq {
			t.Fatalf("round %d: team at epoch %d, log %d (%v); the log says %d, %d", round, epoch, logSeq, err, e.members.Epoch, e.members.Seq)
		}
		var k wire.WrappedKey
		e.call(e.writer, "GET", "/v1/key", nil).want(t, http.StatusOK, "").decode(t, &k)
		if k.Epoch != e.members.Epoch || (w.key != nil && k.Signer != w.by.ID) {
			t.Fatalf("round %d: the writer's key %+v after %s won", round, k, w.by.Name)
		}
	}
	if e.members.Seq != 4+rounds {
		t.Fatalf("log of %d entries after %d rounds", e.members.Seq, rounds)
	}
}

func TestAudit(t *testing.T) {
	e := newTeam(t, server.Options{})
	start := e.clock.Now()
	rec := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, rec)
	e.changes(e.reader)
	e.call(e.reader, "GET", "/v1/key", nil).want(t, http.StatusOK, "")
	e.call(e.reader, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(e.reader, wire.NewID(), 1)}}).want(t, http.StatusForbidden, "")
	stale := e.recordAt(e.writer, rec.ID, 2, 1, e.members.Seq)
	e.setRole(e.admin, "rita", wire.RoleWriter)
	if st := e.pushStatus(e.writer, stale); st != wire.PushStale {
		t.Fatalf("stale push: %s", st)
	}
	inv := e.invite(wire.RoleReader)
	p := e.join(inv, "pending-box", "pat")
	e.remove(e.admin, e.reader)
	e.rotate(e.admin)
	f := newEnvOn(t, e) // another team's events are its own
	f.invite(wire.RoleWriter)

	type ev struct{ device, action, result, records string }
	want := []ev{
		{e.admin.ID, "create", "ok", ""},
		{e.admin.ID, "approve", "ok", e.writer.ID},
		{e.admin.ID, "approve", "ok", e.reader.ID},
		{e.writer.ID, "push", "ok", rec.ID},
		{e.reader.ID, "pull", "ok", rec.ID},
		{e.reader.ID, "key", "ok", ""},
		{e.reader.ID, "push", "denied: reader", ""},
		{e.admin.ID, "log-role", "ok", ""},
		{e.writer.ID, "push", "stale", rec.ID},
		{e.admin.ID, "invite", wire.RoleReader, inv},
		{p.ID, "join", "pending", ""},
		{e.admin.ID, "log-remove", "ok", e.reader.ID},
		{e.admin.ID, "log-epoch", "ok", ""},
	}
	// The audit log is written in batches: ask until every event is there.
	var got []wire.AuditEvent
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = nil
		e.call(e.admin, "GET", "/v1/audit?since=0", nil).want(t, http.StatusOK, "").decode(t, &got)
		have := map[ev]bool{}
		for _, g := range got {
			have[ev{g.Device, g.Action, g.Result, strings.Join(g.Records, ",")}] = true
		}
		missing := 0
		for _, w := range want {
			if !have[w] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events missing from the audit log %+v", missing, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// In order, and nothing of the other team's.
	var order []string
	for _, g := range got {
		if g.Device == f.admin.ID {
			t.Fatalf("another team's event: %+v", g)
		}
		if g.Time.Before(start) {
			t.Fatalf("event before the test: %+v", g)
		}
		order = append(order, g.Action)
	}
	if !sort.SliceIsSorted(got, func(i, j int) bool { return got[i].Time.Before(got[j].Time) }) {
		t.Errorf("events out of order: %v", order)
	}
	// since: unix seconds.
	// Later than any event: none, also past the year 2262 (unix
	// nanoseconds end there).
	for _, later := range []int64{e.clock.Now().Add(time.Hour).Unix(), 10_000_000_000, 9_223_372_037, 1<<63 - 1} {
		var none []wire.AuditEvent
		e.call(e.admin, "GET", fmt.Sprintf("/v1/audit?since=%d", later), nil).want(t, http.StatusOK, "").decode(t, &none)
		if len(none) != 0 {
			t.Fatalf("%d events since %d", len(none), later)
		}
	}
	for _, since := range []string{"-1", "x", "", "1.5"} {
		e.call(e.admin, "GET", "/v1/audit?since="+since, nil).want(t, http.StatusBadRequest, "since must be unix seconds")
	}

	// Admins only.
	e.call(e.writer, "GET", "/v1/audit?since=0", nil).want(t, http.StatusForbidden, "only an admin can do this")
	e.setRole(e.admin, "wes", wire.RoleReader)
	e.call(e.writer, "GET", "/v1/audit?since=0", nil).want(t, http.StatusForbidden, "only an admin can do this")
	e.call(p, "GET", "/v1/audit?since=0", nil).want(t, http.StatusForbidden, "this device is waiting for an admin to approve it")
	e.call(e.reader, "GET", "/v1/audit?since=0", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(newDevice(t, "stranger", "mallory"), "GET", "/v1/audit?since=0", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	// Control: made an admin, the writer reads it.
	e.setRole(e.admin, "wes", wire.RoleAdmin)
	e.call(e.writer, "GET", "/v1/audit?since=0", nil).want(t, http.StatusOK, "")
}

func TestCreateTeamLog(t *testing.T) {
	e := newEnv(t, server.Options{})
	d, other := newDevice(t, "laptop", "ann"), newDevice(t, "other", "oz")
	team := wire.NewID()
	good := func() wire.CreateTeam {
		return wire.CreateTeam{Team: team, Name: "acme", Device: d.Device, Log: *genesisEntry(team, "acme", d, e.clock.Now().UTC())}
	}
	// changed is good() with the log entry changed, then signed by signer.
	changed := func(signer *device, mut func(g *wire.LogEntry)) func() wire.CreateTeam {
		return func() wire.CreateTeam {
			c := good()
			dev := *c.Log.Device
			c.Log.Device = &dev
			mut(&c.Log)
			c.Log.Sign(signer.ID, signer.key)
			return c
		}
	}
	const msg = "the membership log must start with this team's creation, signed by this device"
	before := e.dump()
	for _, c := range []struct {
		name string
		ct   func() wire.CreateTeam
	}{
		{"no log", func() wire.CreateTeam { c := good(); c.Log = wire.LogEntry{}; return c }},
		{"another team's creation", changed(d, func(g *wire.LogEntry) { g.Team = wire.NewID() })},
		{"another name", changed(d, func(g *wire.LogEntry) { g.Name = "acme2" })},
		{"no name", changed(d, func(g *wire.LogEntry) { g.Name = "" })},
		{"the creator a writer", changed(d, func(g *wire.LogEntry) { g.Role = wire.RoleWriter })},
		{"not a creation", changed(d, func(g *wire.LogEntry) { g.Kind = wire.LogAdd })},
		{"entry 2", changed(d, func(g *wire.LogEntry) { g.Seq = 2 })},
		{"entry 0", changed(d, func(g *wire.LogEntry) { g.Seq = 0 })},
		{"chained to something", changed(d, func(g *wire.LogEntry) { g.Prev = make([]byte, 32) })},
		{"another box key", changed(d, func(g *wire.LogEntry) { g.Device.Box = other.Box })},
		{"another device name", changed(d, func(g *wire.LogEntry) { g.Device.Name = "renamed" })},
		{"another member", changed(d, func(g *wire.LogEntry) { g.Device.Member = "mallory" })},
		{"another device, signed by it", func() wire.CreateTeam {
			c := good()
			c.Log = *genesisEntry(team, "acme", other, e.clock.Now().UTC())
			return c
		}},
		{"signed by another key", func() wire.CreateTeam {
			c := good()
			c.Log.Sign(d.ID, other.key)
			return c
		}},
		{"changed after signing", func() wire.CreateTeam {
			c := good()
			c.Log.Time = c.Log.Time.Add(time.Second)
			return c
		}},
		{"no signature", func() wire.CreateTeam { c := good(); c.Log.Sig = nil; return c }},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.call(d, "POST", "/v1/teams", c.ct()).want(t, http.StatusBadRequest, msg)
		})
	}
	if after := e.dump(); after != before {
		t.Fatalf("refused creations changed the stored state:\n%s", after)
	}

	// Control: the log starts with the creation as sent.
	c := good()
	e.call(d, "POST", "/v1/teams", c).want(t, http.StatusCreated, "")
	e.team = team
	lg := e.getLog(d, 0)
	sameEntries(t, lg.Entries, []wire.LogEntry{c.Log})
	if epoch, logSeq, err := e.st.Team(t.Context(), team); err != nil || epoch != 1 || logSeq != 1 {
		t.Fatalf("a new team: epoch %d, log %d, %v", epoch, logSeq, err)
	}
	// The same team again, with its own valid creation: taken, and the
	// log stays the first creator's.
	first := c.Log
	c.Device, c.Log = other.Device, *genesisEntry(team, "acme", other, e.clock.Now().UTC())
	e.call(other, "POST", "/v1/teams", c).want(t, http.StatusConflict, "team or device id already in use")
	sameEntries(t, e.getLog(d, 0).Entries, []wire.LogEntry{first})
}
