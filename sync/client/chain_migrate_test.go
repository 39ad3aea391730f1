package client

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// A team that synced with v1 moves to the chain at an admin's first sync
// with this hush (docs/sync.md, "Migration of existing teams"): the admin
// fetches every record with the v1 checks and writes the base entry over
// their snapshot; from then on a v1 push is refused with what to do, and
// every other device's first chain pull checks that the records it gets
// hash to the snapshot the admin signed.
func TestChainMigration(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, bob.v, "app/alpha", "bob-v1")
	tm.sync(t, bob)
	tm.sync(t, admin)
	carol := tm.add(t, "carol", wire.RoleWriter) // joined on v1 too
	if len(tm.p.sent(0, "POST /v2/push", "")) != 0 {
		t.Fatal("a v1 team used the chain")
	}

	// The admin upgrades: its sync starts the chain.
	admin.v1 = false
	mark := tm.p.mark()
	tm.sync(t, admin)
	if !admin.st.Chained || admin.st.Chain.Pos != 1 {
		t.Fatalf("after the admin's first sync: chained %v at %d", admin.st.Chained, admin.st.Chain.Pos)
	}
	if xs := tm.p.sent(mark, "POST /v2/push", admin.id()); len(xs) != 1 {
		t.Fatalf("the admin sent %d chain pushes, want the base", len(xs))
	}
	chainCursorReal(t, tm, admin)

	// A device still on v1 can no longer write outside the chain.
	mSet(t, bob.v, "app/beta", "bob-beta")
	_, err := bob.Sync(mctx)
	mWantErr(t, err, "upgrade hush on this device", nil)
	if s, _ := status(bob.v); s.Unpushed != 1 {
		t.Fatalf("bob's refused change: %d unpushed", s.Unpushed)
	}

	// The server lies to carol's first chain pull about the snapshot.
	carol.v1 = false
	alpha := secretID(t, admin, "app/alpha")
	for _, c := range []struct {
		name, text string
		lie        func(pg *wire.ChainPage)
	}{
		{"a record left out of the snapshot", "the snapshot sent with the base entry is not the one its author signed", func(pg *wire.ChainPage) {
			pg.Base = slices.DeleteFunc(pg.Base, func(it wire.BaseItem) bool { return it.ID == alpha })
			pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return r.ID == alpha })
		}},
		{"an older version in the snapshot's place", "is not what the entry names", func(pg *wire.ChainPage) {
			old := tm.p.record(t, alpha, 1, 1)
			for i := range pg.Records {
				if pg.Records[i].ID == alpha {
					pg.Records[i] = old
				}
			}
		}},
		{"a record of the snapshot withheld", "a withheld record", func(pg *wire.ChainPage) {
			pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return r.ID == alpha })
		}},
		{"a base signed by the server", "an unsigned entry", func(pg *wire.ChainPage) {
			evil := newMEvil(t)
			pg.Entries[0].Sign(carol.st.Team, admin.id(), ed25519.NewKeyFromSeed(evil.sign))
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm.onChain(t, carol, c.lie)
			_, err := carol.Sync(mctx)
			tm.p.honest()
			mWantErr(t, err, c.text, nil)
			if !errors.Is(err, wire.ErrChain) {
				t.Fatalf("%v: not a chain error", err)
			}
			chainCursorReal(t, tm, carol)
		})
	}

	// bob upgrades: his first chain pull verifies the base, and his
	// change goes on the chain.
	bob.v1 = false
	tm.sync(t, bob)
	tm.chainConverge(t, admin, bob, carol)
	if got := mGet(t, carol.v, "app/beta"); got != "bob-beta" {
		t.Fatalf("carol has beta %q", got)
	}
	if got := mGet(t, carol.v, "app/alpha"); got != "bob-v1" {
		t.Fatalf("carol has alpha %q", got)
	}
}

// A push is confirmed by its entries: the pull after it asks without the
// records this device just wrote (mine=POS), and they do not travel back;
// the changes are marked pushed once their entries come back where they
// were signed. A server that sends them anyway changes nothing.
func TestChainPushConfirmedByEntries(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	for i := range 5 {
		mSet(t, admin.v, fmt.Sprintf("app/k%d", i), "v1")
	}
	mark := tm.p.mark()
	rep := tm.sync(t, admin)
	if rep.Pushed != 5 || rep.Unconfirmed != 0 {
		t.Fatalf("admin: %+v", rep)
	}
	xs := tm.p.sent(mark, "GET /v2/chain", admin.id())
	last := xs[len(xs)-1]
	var pg wire.ChainPage
	if err := json.Unmarshal(last.Resp, &pg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(last.Query, "mine=") || len(pg.Entries) != 5 || len(pg.Records) != 0 {
		t.Fatalf("the confirming pull %q: %d entries, %d records", last.Query, len(pg.Entries), len(pg.Records))
	}
	// The server ignores mine and sends the records anyway.
	tm.onChain(t, admin, func(pg *wire.ChainPage) {
		if len(pg.Entries) == 0 {
			return
		}
		full, err := tm.p.store.Chain(context.Background(), admin.st.Team, pg.Entries[0].Pos-1, len(pg.Entries))
		if err != nil {
			t.Error(err)
			return
		}
		pg.Records = full.Records
	})
	mSet(t, admin.v, "app/k0", "v2")
	mark = tm.p.mark()
	rep, err := admin.Sync(mctx)
	tm.p.honest()
	if err != nil || rep.Pushed != 1 || rep.Unconfirmed != 0 {
		t.Fatalf("with the records sent anyway: %+v %v", rep, err)
	}
	xs = tm.p.sent(mark, "GET /v2/chain", admin.id())
	if err := json.Unmarshal(xs[len(xs)-1].Resp, &pg); err != nil || len(pg.Records) != 1 {
		t.Fatalf("the records were not sent anyway: %d (%v)", len(pg.Records), err)
	}
	tm.chainConverge(t, admin, bob)
	if got := mGet(t, bob.v, "app/k0"); got != "v2" {
		t.Fatalf("bob has %q", got)
	}
}
