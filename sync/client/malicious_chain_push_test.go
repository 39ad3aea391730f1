package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Whole pushes (issue 14, the last class: a push cut short). Every entry
// of a push signs the push's first and last position; a client applies a
// push only whole: a page that ends inside one is held, not applied, the
// cursor before the push, until the rest comes; a server that then stops
// there, or names an older head, is refused with a fault that says so.

// pushOf is the pair of secrets the attacks cut: the admin changes both
// in one push (entries before+1 and before+2) after bob synced them.
func pushOf(t *testing.T, tm *mTeam) (before wire.ChainCursor) {
	t.Helper()
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "db/USER", "user-1")
	mSet(t, admin.v, "db/PASS", "pass-1")
	tm.sync(t, admin)
	tm.sync(t, bob)
	before = chainCursorReal(t, tm, bob)
	mSet(t, admin.v, "db/USER", "user-2")
	mSet(t, admin.v, "db/PASS", "pass-2")
	tm.sync(t, admin)
	return before
}

// cutPage keeps a page's entries up to the first that is inside a push
// (and their records), as a page that ends there: the cursor after it.
func cutPage(t testing.TB, team string, pg *wire.ChainPage) wire.ChainCursor {
	i := slices.IndexFunc(pg.Entries, func(e wire.ChainEntry) bool { return e.PushLast > e.Pos })
	if i < 0 {
		t.Errorf("proxy: the page holds no entry inside a push")
		return wire.ChainCursor{}
	}
	pg.Entries = pg.Entries[:i+1]
	named := map[string]bool{}
	for _, e := range pg.Entries {
		named[e.ID] = true
	}
	pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return !named[r.ID] })
	return pg.Entries[i].Next(team)
}

// TestMaliciousChainPushCut: the server cuts bob's pull inside the
// admin's push of a pair (one entry of it sent, "more follow"), then
// stops there, names an older head, a head it does not send, or fails.
// Defence: PushMarks (pullChain): the page is held, nothing of the push
// is applied, the saved cursor stays before the push, and the sync fails
// with "a push cut short" that says which entries; an honest sync then
// brings the whole pair. Control: when the rest does come, the held page
// is applied with it, whole. On the code before push marks, bob applied
// the first half of the pair (and in "the cut page names itself the
// head", exited 0).
func TestMaliciousChainPushCut(t *testing.T) {
	for _, c := range []struct {
		name string
		// cutIsHead: the cut page says it is the whole chain (more: false)
		cutIsHead bool
		// then: the answer to the next pull (nil: the honest rest)
		then func(t *testing.T, x *mExchange, cut, before wire.ChainCursor)
		text string
	}{
		{name: "the cut page names itself the head", cutIsHead: true, text: "and says its chain ends there"},
		{name: "then its head is the cut", text: "and says its chain ends there", then: func(t *testing.T, x *mExchange, cut, _ wire.ChainCursor) {
			rewrite(t, x, func(pg *wire.ChainPage) { pg.Entries, pg.Records, pg.More, pg.Head = nil, nil, false, cut })
		}},
		{name: "then the older head before the push", text: "then names an older head", then: func(t *testing.T, x *mExchange, _, before wire.ChainCursor) {
			rewrite(t, x, func(pg *wire.ChainPage) { pg.Entries, pg.Records, pg.More, pg.Head = nil, nil, false, before })
		}},
		{name: "then a head it does not send", text: "as its head but sends nothing", then: func(t *testing.T, x *mExchange, cut, _ wire.ChainCursor) {
			rewrite(t, x, func(pg *wire.ChainPage) {
				pg.Entries, pg.Records, pg.More = nil, nil, false
				pg.Head.Pos = cut.Pos + 7
			})
		}},
		{name: "then the server fails", text: "unavailable", then: func(t *testing.T, x *mExchange, _, _ wire.ChainCursor) {
			x.Status, x.Resp = http.StatusServiceUnavailable, []byte(`{"error":"unavailable"}`)
		}},
		{name: "then the rest, honestly"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm := newMTeam(t)
			admin, bob := tm.admin, tm.bob
			before := pushOf(t, tm)
			team := bob.st.Team
			calls := 0
			var cut wire.ChainCursor
			// What bob holds when the answer after the cut page is sent.
			var heldUser, heldPass string
			var heldAt wire.ChainCursor
			tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
				if x.Device != bob.id() {
					return
				}
				calls++
				switch calls {
				case 1:
					rewrite(t, x, func(pg *wire.ChainPage) {
						cut = cutPage(t, team, pg)
						pg.More = !c.cutIsHead
						if c.cutIsHead {
							pg.Head = cut
						}
					})
				case 2:
					if s, err := bob.v.Get("db/USER"); err == nil {
						heldUser = string(s.Value)
					}
					if s, err := bob.v.Get("db/PASS"); err == nil {
						heldPass = string(s.Value)
					}
					if st, err := Load(bob.v); err == nil {
						heldAt = st.Chain
					}
					if c.then != nil {
						c.then(t, x, cut, before)
					}
				}
			})
			_, err := bob.Sync(mctx)
			tm.p.honest()
			if cut.Pos != before.Pos+1 {
				t.Fatalf("the cut is at %d, want inside the push after %d", cut.Pos, before.Pos)
			}
			u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS")
			if c.text == "" {
				// The rest came: held, then applied whole.
				if err != nil {
					t.Fatalf("the honest rest after a page cut inside a push: %v", err)
				}
				if heldUser != "user-1" || heldPass != "pass-1" || !heldAt.Equal(before) {
					t.Fatalf("while the rest of the push was on its way bob held %s / %s at %d, want user-1 / pass-1 at %d (nothing applied)", heldUser, heldPass, heldAt.Pos, before.Pos)
				}
				if u != "user-2" || p != "pass-2" {
					t.Fatalf("after the whole push bob holds %s / %s", u, p)
				}
				tm.chainConverge(t, admin, bob)
				return
			}
			mWantErr(t, err, c.text, nil)
			var ce *wire.ChainError
			if c.then == nil || !strings.Contains(c.name, "fails") {
				if !errors.As(err, &ce) || ce.Fault != wire.FaultPushCut || !strings.Contains(err.Error(), "inside one device's push of entries") {
					t.Fatalf("error %v: want a push cut short", err)
				}
			}
			if u != "user-1" || p != "pass-1" {
				t.Fatalf("after a pull cut inside a push bob holds %s / %s, want user-1 / pass-1 (nothing of the push)", u, p)
			}
			if at := chainCursorReal(t, tm, bob); !at.Equal(before) {
				t.Fatalf("bob's cursor moved into the push: %d, want %d", at.Pos, before.Pos)
			}
			// Recovery: the honest server brings the whole pair.
			tm.sync(t, bob)
			if u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS"); u != "user-2" || p != "pass-2" {
				t.Fatalf("after the honest sync bob holds %s / %s", u, p)
			}
			tm.chainConverge(t, admin, bob)
		})
	}
}

// relink re-signs es[i:] as their author (key), each linked to the one
// before: entries that device really signed, as a device that lies about
// its own push would.
func relink(team string, es []wire.ChainEntry, i int, d *mDev) {
	for j := i; j < len(es); j++ {
		if j > 0 {
			es[j].Prev = es[j-1].Hash(team)
		}
		// Its scope link too, as the lying author would sign it: to the
		// entry of its scope before it, within its push's (new) end.
		if l := es[j].ScopePrev; l != nil {
			for k := range j {
				if es[k].Pos == l.Pos {
					l.Hash = es[k].Hash(team)
				}
			}
			es[j].ScopeLast = min(es[j].ScopeLast, es[j].PushLast)
		}
		es[j].Sign(team, d.id(), d.st.signer())
	}
}

// TestMaliciousChainForgedPushMark: the admin's push of three comes to
// bob with marks that do not agree, validly signed by the admin (a
// device lying about its own push), or changed by the server without a
// signature. Defence: PushMarks.Check (a forged push mark, at the entry
// where they disagree) and the entry's signature over its marks; an end
// past the push that the chain stops before is a push cut short. The
// server refuses such pushes too (server TestChainPushMarks).
func TestMaliciousChainForgedPushMark(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	tm.sync(t, bob)
	mSet(t, admin.v, "app/one", "one")
	mSet(t, admin.v, "app/two", "two")
	mSet(t, admin.v, "app/three", "three")
	tm.sync(t, admin)
	mSet(t, admin.v, "app/four", "four")
	tm.sync(t, admin)
	team := bob.st.Team
	for _, c := range []struct {
		name  string
		lie   func(pg *wire.ChainPage)
		text  string
		fault wire.ChainFault
	}{
		{"entries of one push name different ends", func(pg *wire.ChainPage) {
			pg.Entries[1].PushLast = pg.Entries[1].Pos
			relink(team, pg.Entries, 1, admin)
		}, "the push of entries", wire.FaultPushMark},
		{"an end past the push, another push after it", func(pg *wire.ChainPage) {
			for i := range 3 {
				pg.Entries[i].PushLast++
			}
			relink(team, pg.Entries, 0, admin)
		}, "is not what it names", wire.FaultPushMark},
		{"an end past the push, the chain stops there", func(pg *wire.ChainPage) {
			for i := range 3 {
				pg.Entries[i].PushLast++
			}
			relink(team, pg.Entries, 0, admin)
			dropped := pg.Entries[3].ID
			pg.Entries = pg.Entries[:3]
			pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return r.ID == dropped })
		}, "inside one device's push", wire.FaultPushCut},
		{"a mark changed by the server", func(pg *wire.ChainPage) {
			pg.Entries[1].PushLast++
		}, "an unsigned entry", wire.FaultSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm.onChain(t, bob, func(pg *wire.ChainPage) {
				if len(pg.Entries) != 4 || pg.Entries[0].PushLast != pg.Entries[0].Pos+2 {
					t.Errorf("proxy: bob's page is not the push of three and one: %d entries", len(pg.Entries))
					return
				}
				c.lie(pg)
				pg.Head = pg.Entries[len(pg.Entries)-1].Next(team)
			})
			tm.chainRefused(t, bob, c.text, c.fault)
			if _, err := bob.v.Get("app/one"); err == nil {
				t.Fatal("bob took a secret of a push with forged marks")
			}
		})
	}
	tm.chainConverge(t, admin, bob)
}

// TestChainWholePushAcrossPages: a push larger than a page (pages of 2
// entries, a push of 5) comes whole in one page: the honest server runs a
// page on to the end of the push it is in, so it never makes a client
// hold one back, and bob and a new member apply it.
func TestChainWholePushAcrossPages(t *testing.T) {
	tm := newMTeamOpts(t, false, server.Options{PullEntries: 2})
	admin, bob := tm.admin, tm.bob
	names := []string{"k/1", "k/2", "k/3", "k/4", "k/5"}
	for _, n := range names {
		mSet(t, admin.v, n, "v-"+n)
	}
	tm.sync(t, admin)
	mark := tm.p.mark()
	tm.sync(t, bob)
	carol := tm.add(t, "carol", wire.RoleReader)
	for _, d := range []*mDev{bob, carol} {
		var m wire.PushMarks
		longest := 0
		for _, x := range tm.p.sent(mark, "GET /v2/chain", d.id()) {
			var pg wire.ChainPage
			if err := json.Unmarshal(x.Resp, &pg); err != nil {
				t.Fatal(err)
			}
			if err := m.Check(pg.Entries); err != nil {
				t.Fatal(err)
			}
			if first, last := m.Open(); last != 0 {
				t.Fatalf("%s got a page that ends inside the push %d-%d", d.name, first, last)
			}
			longest = max(longest, len(pg.Entries))
		}
		if longest < 5 {
			t.Fatalf("%s's longest page held %d entries: the push of 5 was not in one page", d.name, longest)
		}
		for _, n := range names {
			if got := mGet(t, d.v, n); got != "v-"+n {
				t.Fatalf("%s holds %s = %q", d.name, n, got)
			}
		}
	}
	tm.chainConverge(t, admin, bob, carol)
}

// TestChainOldEntries: a chain written before push marks (a push of three
// by a hush that did not mark pushes, taken by a server that did not
// check them) still verifies: each unmarked entry is a push of its own.
// Marked pushes follow on the same chain, and a new member verifies the
// whole of it from entry 1. A server that knows marks tells such a client
// to upgrade instead of taking its push of three.
func TestChainOldEntries(t *testing.T) {
	tm := newMTeamOpts(t, false, server.Options{}, func(d *mDev) { d.unlinked = true }) // before scope links too
	admin, bob := tm.admin, tm.bob
	team := admin.st.Team
	admin.unmarked = true
	mSet(t, admin.v, "old/a", "a-1")
	mSet(t, admin.v, "old/b", "b-1")
	mSet(t, admin.v, "old/c", "c-1")
	// Today's server: "upgrade hush", nothing taken.
	_, err := admin.Sync(mctx)
	mWantErr(t, err, server.ErrNoPushMarks, nil)
	// The server before push marks took the push as it was.
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		var req wire.ChainPush
		if err := json.Unmarshal(x.Body, &req); err != nil || x.Device != admin.id() {
			return false
		}
		a := &store.ChainAppend{Prev: req.Prev, Records: req.Records}
		for i := range req.Entries {
			e := &req.Entries[i]
			if e.PushLast != 0 {
				t.Errorf("proxy: the unmarked client marked entry %d", e.Pos)
			}
			b, _ := json.Marshal(e)
			a.Entries = append(a.Entries, store.ChainStored{Pos: e.Pos, JSON: b, Hash: e.Hash(team)})
		}
		res, err := tm.p.store.ChainPush(context.Background(), team, a)
		if err != nil {
			t.Errorf("proxy: %v", err)
			return false
		}
		return answer(x, http.StatusOK, wire.ChainPushResponse{Status: res.Status, Head: res.Head})
	})
	tm.sync(t, admin)
	tm.p.honest()
	old, err := tm.p.store.Chain(context.Background(), team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	unmarked := 0
	ids := map[string]bool{secretID(t, admin, "old/a"): true, secretID(t, admin, "old/b"): true, secretID(t, admin, "old/c"): true}
	for _, e := range old.Entries {
		if e.PushLast == 0 && e.Kind == wire.ChainRecord && ids[e.ID] {
			unmarked++
		}
	}
	if unmarked != 3 {
		t.Fatalf("%d unmarked entries of the old push in the chain, want 3", unmarked)
	}
	// Bob (who knows marks) verifies and applies them.
	tm.sync(t, bob)
	if got := mGet(t, bob.v, "old/b"); got != "b-1" {
		t.Fatalf("bob holds old/b = %q", got)
	}
	// Marked pushes after them; a new member verifies the whole chain.
	admin.unmarked = false
	mSet(t, admin.v, "old/a", "a-2")
	mSet(t, admin.v, "old/c", "c-2")
	tm.sync(t, admin)
	head, err := tm.p.store.Chain(context.Background(), team, old.Head.Pos, 1000)
	if err != nil || len(head.Entries) != 2 || head.Entries[0].PushLast != old.Head.Pos+2 {
		t.Fatalf("the push after the old one is not marked: %+v %v", head, err)
	}
	carol := tm.add(t, "carol", wire.RoleReader)
	tm.chainConverge(t, admin, bob, carol)
	if got := mGet(t, carol.v, "old/c"); got != "c-2" {
		t.Fatalf("carol holds old/c = %q", got)
	}
	if !bytes.Equal(chainCursorReal(t, tm, carol).Hash, chainCursorReal(t, tm, admin).Hash) {
		t.Fatal("carol and the admin verified different heads")
	}
}

// TestMaliciousChainPushCutFirstSync: a new member's first sync, over
// pages of 2 entries (a push of two, pushes of one, then a push of four:
// pages 1-2, 3-4, then 5 run on to 9), is cut inside the push of four
// ("more follow": entries 5 and 6), and the next answer fails. The pages
// before the cut one are applied and saved; the cut page is held whole
// (one/c with the push's first entry), so the saved cursor is 4, before
// the push; the honest sync then brings the rest.
func TestMaliciousChainPushCutFirstSync(t *testing.T) {
	tm := newMTeamOpts(t, false, server.Options{PullEntries: 2})
	admin := tm.admin
	for _, n := range []string{"one/a", "one/b", "one/c"} {
		mSet(t, admin.v, n, n)
		tm.sync(t, admin)
	}
	for _, n := range []string{"four/a", "four/b", "four/c", "four/d"} {
		mSet(t, admin.v, n, n)
	}
	tm.sync(t, admin)
	carol := tm.invite(t, "carol", wire.RoleReader)
	tm.sync(t, admin) // approves carol
	team := carol.st.Team
	var cut wire.ChainCursor
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device != carol.id() {
			return
		}
		if cut.Pos != 0 {
			x.Status, x.Resp = http.StatusServiceUnavailable, []byte(`{"error":"unavailable"}`)
			return
		}
		rewrite(t, x, func(pg *wire.ChainPage) {
			if slices.IndexFunc(pg.Entries, func(e wire.ChainEntry) bool { return e.PushLast > e.Pos+1 }) < 0 {
				return // a page before the push of four: honest
			}
			cut = cutPage(t, team, pg)
			pg.More = true
		})
	})
	_, err := carol.Sync(mctx)
	tm.p.honest()
	mWantErr(t, err, "unavailable", nil)
	if cut.Pos == 0 {
		t.Fatal("carol's pull never reached the push of four")
	}
	for _, n := range []string{"one/a", "one/b"} {
		if got := mGet(t, carol.v, n); got != n {
			t.Fatalf("carol holds %s = %q: the pages before the cut one were not applied", n, got)
		}
	}
	for _, n := range []string{"one/c", "four/a", "four/b", "four/c", "four/d"} {
		if _, err := carol.v.Get(n); err == nil {
			t.Fatalf("carol holds %s of a push cut short", n)
		}
	}
	if at := chainCursorReal(t, tm, carol); cut.Pos != 6 || at.Pos != 4 {
		t.Fatalf("carol's saved cursor is %d after a cut at %d, want 4 after a cut at 6", at.Pos, cut.Pos)
	}
	tm.chainConverge(t, admin, carol)
	if got := mGet(t, carol.v, "four/d"); got != "four/d" {
		t.Fatalf("after the honest sync carol holds four/d = %q", got)
	}
}
