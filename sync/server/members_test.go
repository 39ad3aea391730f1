package server_test

import (
	"net/http"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// TestKeptMembershipMovesOn: the server keeps each team's verified
// membership between requests (members.go); a log entry appended
// meanwhile counts from the next request on. Here the writer loses the
// root: a record written before the change is stale, a pull that sent it
// the team's records sends none, and a record written at the new log
// position is refused as out of its scopes.
func TestKeptMembershipMovesOn(t *testing.T) {
	e := newTeam(t, server.Options{})
	rec := e.record(e.writer, wire.NewID(), 1)
	if st := e.pushStatus(e.writer, rec); st != wire.PushOK {
		t.Fatalf("push before the change: %s", st)
	}
	if c := e.changes(e.writer); len(c.Records) != 1 {
		t.Fatalf("the writer's pull before the change: %d records, want 1", len(c.Records))
	}
	before := e.members.Seq

	// The root ungranted from the writer's member: a new root epoch, its
	// key wrapped to the admin and the reader.
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	le := e.next(wire.LogUngrant)
	le.Member, le.Epoch = e.writer.Member, e.members.Epoch+1
	le.Sign(e.admin.ID, e.admin.key)
	keys := []wire.WrappedKey{e.wrapKey(e.admin, &e.admin.Device, le.Epoch, key), e.wrapKey(e.admin, &e.reader.Device, le.Epoch, key)}
	e.appendLog(e.admin, le, keys).want(t, http.StatusOK, "")
	e.keys[le.Epoch] = key

	// First request after the change: a record written before it, at
	// the log position the server kept, is stale (the store compares
	// positions as it commits).
	old := e.recordAt(e.writer, rec.ID, 2, 1, before)
	if st := e.pushStatus(e.writer, old); st != wire.PushStale {
		t.Fatalf("a push written before the change: %s, want %s", st, wire.PushStale)
	}
	if c := e.changes(e.writer); len(c.Records) != 0 {
		t.Fatalf("the writer's pull after it lost the root: %d records, want none", len(c.Records))
	}
	if c := e.changes(e.reader); len(c.Records) != 1 {
		t.Fatalf("the reader's pull after the change: %d records, want 1", len(c.Records))
	}
	now := e.recordAt(e.writer, rec.ID, 2, e.members.Epoch, e.members.Seq)
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{now}}).want(t, http.StatusForbidden, "this device may not write record")
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{old}}).want(t, http.StatusForbidden, "this device may not write record")
}

// TestKeptMembershipMovesOnChain is TestKeptMembershipMovesOn on the
// change chain: a chain push is checked against the kept membership
// when its records name its log position, and a pull against the log
// length read with its page; after the writer loses the root, a push
// written before the change is stale, its pull gets no root record (the
// reader's does), and a push written at the new position is refused.
func TestKeptMembershipMovesOnChain(t *testing.T) {
	e := newTeam(t, server.Options{})
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	head := res.Head
	rec := e.record(e.writer, wire.NewID(), 1)
	p, next := e.chainPush(e.writer, head, rec)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK {
		t.Fatalf("push before the change: %+v", res)
	}
	head = next
	pull := func(d *device) int {
		t.Helper()
		var pg wire.ChainPage
		e.call(d, "GET", "/v2/chain?after=1"+linksQuery, nil).want(t, http.StatusOK, "").decode(t, &pg)
		return len(pg.Records)
	}
	if n := pull(e.writer); n != 1 {
		t.Fatalf("the writer's pull before the change: %d records, want 1", n)
	}
	before := e.members.Seq

	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		t.Fatal(err)
	}
	le := e.next(wire.LogUngrant)
	le.Member, le.Epoch = e.writer.Member, e.members.Epoch+1
	le.Sign(e.admin.ID, e.admin.key)
	keys := []wire.WrappedKey{e.wrapKey(e.admin, &e.admin.Device, le.Epoch, key), e.wrapKey(e.admin, &e.reader.Device, le.Epoch, key)}
	e.appendLog(e.admin, le, keys).want(t, http.StatusOK, "")
	e.keys[le.Epoch] = key

	old := e.recordAt(e.writer, rec.ID, 2, 1, before)
	p, _ = e.chainPush(e.writer, head, old)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushStale {
		t.Fatalf("a push written before the change: %+v, want %s", res, wire.PushStale)
	}
	if n := pull(e.writer); n != 0 {
		t.Fatalf("the writer's pull after it lost the root: %d records, want none", n)
	}
	if n := pull(e.reader); n != 1 {
		t.Fatalf("the reader's pull after the change: %d records, want 1", n)
	}
	now := e.recordAt(e.writer, rec.ID, 2, e.members.Epoch, e.members.Seq)
	p, _ = e.chainPush(e.writer, head, now)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusForbidden, "this device may not write record")
}
