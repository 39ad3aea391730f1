package client

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A removed member's key (attack 14c, finding 2). The server may hold the
// keys of a member who has been removed: it can sign chain entries in her
// name, dated (log_seq) at a membership log position from before the
// removal, when she could still write.

// memberEntry is a chain entry and its record as the device of st (a
// member the server holds the keys of) signs them, extending the chain at
// at: written at st's log position, sealed under st's epoch.
func memberEntry(t testing.TB, st *State, at wire.ChainCursor, id string, version int64, value string) (wire.ChainEntry, wire.Record) {
	t.Helper()
	r, err := st.sealWith(id, version, &payload{Name: "app/mallory", Meta: vault.Meta{Type: vault.TypeOther}, Value: []byte(value)}, st.signer())
	if err != nil {
		t.Fatal(err)
	}
	e := wire.NextEntry(at, r, time.Now())
	e.InPush(at, 1)
	e.Sign(st.Team, st.Device.ID, st.signer())
	return e, *r
}

// A removed member's entry after the removal's re-seal, dated before the
// removal. Defence: an entry's log position may never be below the
// previous entry's (wire.CheckLogOrder: "an entry dated before the one it
// follows"); an honest server takes a push only at the current log
// position, so an honest chain never has one. Without the check bob
// takes the entry (his cursor moves, `team verify` includes it, and it
// counted as news from the team).
func TestMaliciousChainRemovedMemberBackdated(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)
	held := mallory.st // what the server holds of her: keys, log position
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, admin) // every secret sealed again under epoch 2
	tm.sync(t, bob)
	id := strings.Repeat("ab", 16)
	tm.onChain(t, bob, func(pg *wire.ChainPage) {
		e, r := memberEntry(t, held, pg.Head, id, 1, "mallory-after-removal")
		pg.Entries = append(pg.Entries, e)
		pg.Records = append(pg.Records, r)
		pg.Head, pg.More = e.Next(held.Team), false
	})
	tm.chainRefused(t, bob, "an entry dated before the one it follows", wire.FaultBackdated)

	// The honest server refuses a push written at a log position that is
	// not the current one (`stale`): an honest device that was merely
	// behind on the log fetches it again and pushes again, in one sync.
	carol := tm.invite(t, "carol", wire.RoleReader)
	mSet(t, bob.v, "app/alpha", "bob-behind")
	moved, mark := false, tm.p.mark()
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		if x.Device == bob.id() && !moved {
			moved = true
			// The admin's sync approves carol: the log moves between
			// bob's log fetch and his push.
			if _, err := admin.Sync(context.Background()); err != nil {
				t.Errorf("the admin's sync: %v", err)
			}
		}
		return false
	})
	rep := tm.sync(t, bob)
	tm.p.honest()
	if !moved || rep.Pushed != 1 || rep.Stale != 0 {
		t.Fatalf("bob behind on the log: moved=%v %+v", moved, rep)
	}
	var answers []string
	for _, x := range tm.p.sent(mark, "POST /v2/push", bob.id()) {
		var res wire.ChainPushResponse
		json.Unmarshal(x.Resp, &res)
		answers = append(answers, res.Status)
	}
	if strings.Join(answers, ",") != wire.PushStale+","+wire.PushOK {
		t.Fatalf("the server's answers to bob's pushes: %v, want stale then ok", answers)
	}
	tm.sync(t, carol)
	tm.chainConverge(t, admin, bob, carol)
	pg, err := tm.p.store.Chain(mctx, admin.st.Team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if err := wire.CheckLogOrder(0, pg.Entries); err != nil {
		t.Fatalf("the honest chain: %v", err)
	}
}

// A removed member's entries as news. The server shows bob the log up to
// mallory's removal (not the new epoch after it), never passes his pushes
// on, and, nine days later, adds an entry signed with mallory's key at a
// log position from before her removal: it follows the chain it extends
// (the admin has not synced since), so it verifies. Defence: an entry by a
// device the verified log shows removed is not news from the team
// (LastChange), so bob, who wrote and saw nothing else, warns (rows 8, 12
// and 21 rely on "news" being a current member's). Without it the
// entry hides the frozen view: no warning.
func TestMaliciousChainRemovedMemberNotNews(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)
	held := mallory.st
	// Bob is shown the log without the epoch entries after the removal.
	tm.p.onAfter("GET /v1/log", func(x *mExchange) {
		if x.Device != bob.id() {
			return
		}
		rewrite(t, x, func(lg *wire.Log) {
			kept := lg.Entries[:0]
			for _, e := range lg.Entries {
				if e.Kind == wire.LogEpoch && e.Seq > held.Members.Seq {
					lg.Head--
					continue
				}
				kept = append(kept, e)
			}
			lg.Entries = kept
		})
	})
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	bobSync := func(at time.Time) *Report {
		t.Helper()
		var rep *Report
		if err := bob.team(func(tt *Team) (err error) {
			tt.SetClock(func() time.Time { return at })
			rep, err = tt.Sync(mctx)
			return err
		}); err != nil {
			t.Fatalf("bob's sync: %v", err)
		}
		return rep
	}
	bobSync(now) // the removal: news
	if bob.st.Members.Devices[mallory.id()].Active {
		t.Fatal("bob's log does not show mallory removed")
	}
	// Bob's pushes are answered ok and never passed on.
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		return x.Device == bob.id() && answer(x, 200, wire.ChainPushResponse{Status: wire.PushOK})
	})
	mSet(t, bob.v, "app/beta", "bob-frozen")
	if rep := bobSync(now); rep.Pushed != 0 {
		t.Fatalf("bob's push passed on: %+v", rep)
	}
	var inj *wire.ChainEntry
	tm.onChain(t, bob, func(pg *wire.ChainPage) {
		if inj != nil {
			pg.Entries, pg.Records, pg.Head, pg.More = []wire.ChainEntry{}, []wire.Record{}, inj.Next(held.Team), false
			return
		}
		e, r := memberEntry(t, held, pg.Head, strings.Repeat("cd", 16), 1, "mallory-keeps-it-alive")
		inj = &e
		pg.Entries = append(pg.Entries, e)
		pg.Records = append(pg.Records, r)
		pg.Head, pg.More = e.Next(held.Team), false
	})
	rep := bobSync(now.Add(9 * 24 * time.Hour))
	if inj == nil || bob.st.Chain.Pos != inj.Pos {
		t.Fatalf("bob did not take the entry (cursor %d): the test shows nothing", bob.st.Chain.Pos)
	}
	if !rep.Fresh.Wrote || rep.Fresh.Warning() == "" {
		b, _ := json.Marshal(rep.Fresh)
		t.Fatalf("bob wrote for 9 days and saw only a removed member's entry, without a warning: %s", b)
	}
}
