package client

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// A push is confirmed by its entries, not by its records (attack 14c,
// findings 4 and 3). No lie in the first case: a teammate pushes while
// this device's confirming pull is on its way, so the page holds this
// device's entries at the positions it signed, then the teammate's
// entries on the same records, and the teammate's records only. Before,
// the device said the server was not passing its changes on (exit 1)
// and its next sync reported both secrets in conflict.
func TestMaliciousChainConfirmRace(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleWriter)
	mSet(t, admin.v, "db/USER", "user-1")
	mSet(t, admin.v, "db/PASS", "pass-1")
	tm.sync(t, admin)
	tm.sync(t, bob)
	tm.sync(t, carol)

	mSet(t, bob.v, "db/USER", "bob-user-2")
	mSet(t, bob.v, "db/PASS", "bob-pass-2")
	raced := false
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
		if x.Device != bob.id() || !strings.Contains(x.Query, "mine=") || raced {
			return false
		}
		raced = true
		// Carol pulls bob's pair, rotates it, pushes: all before bob's
		// confirming pull reaches the server.
		if _, err := carol.Sync(context.Background()); err != nil {
			t.Errorf("carol's sync: %v", err)
		}
		mSet(t, carol.v, "db/USER", "carol-user-3")
		mSet(t, carol.v, "db/PASS", "carol-pass-3")
		if rep, err := carol.Sync(context.Background()); err != nil || rep.Pushed != 2 {
			t.Errorf("carol's push: %+v %v", rep, err)
		}
		return false
	})
	rep := tm.sync(t, bob)
	tm.p.honest()
	if !raced || rep.Pushed != 2 || rep.Unconfirmed != 0 || len(rep.Conflicts) != 0 {
		t.Fatalf("bob's sync with carol's push in the middle: raced=%v %+v", raced, rep)
	}
	if u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS"); u != "carol-user-3" || p != "carol-pass-3" {
		t.Fatalf("bob holds %s / %s, want carol's rotation", u, p)
	}
	if rep := tm.sync(t, bob); len(rep.Conflicts) != 0 || rep.Pushed != 0 {
		t.Fatalf("bob's next sync: %+v", rep)
	}
	tm.chainConverge(t, admin, bob, carol)
}

// The answer to the confirming pull is lost (finding 3's script): the
// sync fails, and the push is confirmed by the next sync, from the
// entries this device keeps of what it pushed (the vault's "team-pushed"
// setting), also when a teammate's change is built on it meanwhile.
// Before, that change was reported as a conflict.
func TestMaliciousChainConfirmLost(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleWriter)
	mSet(t, admin.v, "db/USER", "user-1")
	mSet(t, admin.v, "db/PASS", "pass-1")
	tm.sync(t, admin)
	tm.sync(t, bob)
	tm.sync(t, carol)

	mSet(t, bob.v, "db/USER", "bob-user-2")
	mSet(t, bob.v, "db/PASS", "bob-pass-2")
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
		if x.Device != bob.id() || !strings.Contains(x.Query, "mine=") {
			return false
		}
		x.Status, x.Resp = http.StatusBadGateway, []byte(`{"error":"lost"}`)
		return true
	})
	if _, err := bob.Sync(mctx); err == nil {
		t.Fatal("bob's sync with its confirming pull lost: no error")
	}
	tm.p.honest()
	tm.sync(t, carol)
	if u := mGet(t, carol.v, "db/USER"); u != "bob-user-2" {
		t.Fatalf("carol holds %s: bob's push did not land", u)
	}
	mSet(t, carol.v, "db/USER", "carol-user-3")
	mSet(t, carol.v, "db/PASS", "carol-pass-3")
	tm.sync(t, carol)

	rep := tm.sync(t, bob)
	if len(rep.Conflicts) != 0 || rep.Unconfirmed != 0 || slices.Contains(rep.Conflicts, "db/USER") {
		t.Fatalf("bob's honest sync after the lost answer: %+v", rep)
	}
	if u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS"); u != "carol-user-3" || p != "carol-pass-3" {
		t.Fatalf("bob holds %s / %s, want carol's rotation", u, p)
	}
	tm.chainConverge(t, admin, bob, carol)
}
