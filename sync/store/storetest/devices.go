package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// testDeviceAfterWrites: each write to a device is seen by the next
// Device call, even one made just before the write read that device (a
// store may keep the devices it read: SQLite does, devcache.go). Every
// request of a device looks it up, so a store that answered from what it
// read before would let a removed device go on, a refused join in, or a
// demoted admin act as one.
func testDeviceAfterWrites(t *testing.T, s store.Store) {
	ctx := t.Context()
	tl := newLogTeam(t, s)
	tm := tl.team
	now := t0.Add(time.Minute)
	is := func(what, id, want string) {
		t.Helper()
		d, err := s.Device(ctx, id)
		if want == "" {
			if !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s: Device %s = %+v, %v, want not found", what, id, d, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%s: Device %s: %v", what, id, err)
		}
		if got := d.Role + "/" + d.State; got != want {
			t.Fatalf("%s: Device %s is %s, want %s", what, id, got, want)
		}
	}
	is("the creator", tm.admin.ID, "admin/active")

	// Join (a device not found is looked up first), then Approve.
	d := newDevice("joiner")
	is("before the join", d.ID, "")
	if err := s.Join(ctx, tm.id, invite(t, s, tm, wire.RoleWriter, now.Add(time.Hour)).ID, d, nil, now); err != nil {
		t.Fatal(err)
	}
	is("after the join", d.ID, "writer/pending")
	if err := s.Approve(ctx, tm.id, d.ID, newKey(d.ID, 1, tm.admin.ID), nil); err != nil {
		t.Fatal(err)
	}
	is("after Approve", d.ID, "writer/active")

	// A role change and a removal through the log.
	tl.appendOK(t, s, "make the joiner a reader", store.Change{Member: d.Member, Role: wire.RoleReader})
	is("after the role change", d.ID, "reader/active")
	tl.appendOK(t, s, "remove the joiner", store.Change{Remove: []string{d.ID}})
	is("after the removal", d.ID, "reader/removed")

	// A refused join.
	r := newDevice("refused")
	if err := s.Join(ctx, tm.id, invite(t, s, tm, wire.RoleWriter, now.Add(time.Hour)).ID, r, nil, now); err != nil {
		t.Fatal(err)
	}
	is("after the second join", r.ID, "writer/pending")
	if err := s.RefuseJoin(ctx, tm.id, r.ID); err != nil {
		t.Fatal(err)
	}
	is("after RefuseJoin", r.ID, "writer/removed")

	// Last seen.
	if err := s.Seen(ctx, tm.admin.ID, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Device(ctx, tm.admin.ID); err != nil || !got.LastSeen.Equal(now) {
		t.Fatalf("after Seen: Device = %+v, %v, want last seen %v", got, err, now)
	}

	// What a caller does to the device it got is its own.
	got, err := s.Device(ctx, tm.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.State, got.Role, got.SignKey[0] = store.Removed, wire.RoleReader, got.SignKey[0]^1
	again, err := s.Device(ctx, tm.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameDevice(again, tm.admin); err != nil || again.State != store.Active || again.Role != wire.RoleAdmin {
		t.Fatalf("a changed copy changed the store's device: %+v, %v", again, err)
	}
}
