package client

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// Push answers: what the server says of a push, which nobody signs.

// 14. The server lies about a push: it answers ok without passing the
// push on, rewrites a real conflict into ok, replays an older ok answer,
// or raises the head in its answer. Believed, the device marks its change
// pushed ("0 local changes not yet pushed") while the team holds another
// value, with no conflict anywhere; or, with a raised head, refuses the
// honest server for good as one that went backwards.
//
// Defence: a push is done when this device sees its own record, byte for
// byte, come back in the team's changes (Sync pulls again after pushing;
// sync.go, push and apply); until then the change stays unpushed and goes
// again. Nothing in a push answer moves the pull cursor or counts as seen.
// Without the confirmation the first three cases end with the change
// marked pushed and no conflict; with the head counted as seen, the last
// one's honest sync fails as "went backwards".
func TestMaliciousPushAnswers(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	unpushed := func(d *mDev) int {
		t.Helper()
		s, err := status(d.v)
		if err != nil {
			t.Fatal(err)
		}
		return s.Unpushed
	}
	// converge: honest syncs until both hold the same app/alpha, and
	// nothing is left unpushed or in conflict.
	converge := func(t *testing.T, want string) {
		t.Helper()
		tm.p.honest()
		tm.sync(t, bob)
		tm.sync(t, admin)
		tm.sync(t, bob)
		if a, b := mGet(t, admin.v, "app/alpha"), mGet(t, bob.v, "app/alpha"); a != want || b != want {
			t.Fatalf("after honest syncs: admin %q, bob %q, want %q", a, b, want)
		}
		if unpushed(bob) != 0 || unpushed(admin) != 0 {
			t.Fatal("changes left unpushed after honest syncs")
		}
	}
	okFor := func(req *wire.Push) wire.PushResponse {
		var res wire.PushResponse
		for _, r := range req.Records {
			res.Results = append(res.Results, wire.PushResult{ID: r.ID, Status: wire.PushOK, Seq: 1000})
		}
		res.Head = 1000
		return res
	}

	t.Run("ok without passing the push on", func(t *testing.T) {
		mSet(t, bob.v, "app/alpha", "bob-1")
		tm.p.onBefore("POST /v1/push", func(x *mExchange) bool {
			if x.Device != bob.id() {
				return false
			}
			var req wire.Push
			json.Unmarshal(x.Body, &req)
			return answer(x, 200, okFor(&req))
		})
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pushed != 0 || rep.Unconfirmed != 1 || unpushed(bob) != 1 {
			t.Fatalf("a push that never reached the team: %+v, %d unpushed", rep, unpushed(bob))
		}
		converge(t, "bob-1")
	})

	t.Run("a conflict rewritten into ok", func(t *testing.T) {
		mSet(t, admin.v, "app/alpha", "admin-2")
		tm.sync(t, admin)
		mSet(t, bob.v, "app/alpha", "bob-2") // bob has not pulled admin-2
		tm.p.onBefore("GET /v1/changes", func(x *mExchange) bool {
			// bob's first pull sees nothing new (withheld), so his push
			// conflicts; then the answer is rewritten.
			if x.Device == bob.id() && !pushedYet(tm.p, bob) {
				return answer(x, 200, wire.Changes{Records: []wire.Record{}, Head: bob.st.Head})
			}
			return false
		})
		tm.p.onAfter("POST /v1/push", func(x *mExchange) {
			if x.Device != bob.id() {
				return
			}
			rewrite(t, x, func(r *wire.PushResponse) {
				for i := range r.Results {
					r.Results[i].Status, r.Results[i].Current, r.Results[i].Seq = wire.PushOK, nil, r.Head+1
				}
			})
		})
		mark := tm.p.mark()
		markPushes(tm.p, bob, mark)
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(rep.Conflicts, "app/alpha") || rep.Pushed != 0 {
			t.Fatalf("a conflict rewritten into ok: %+v", rep)
		}
		if err := bob.Resolve(mctx, "app/alpha", KeepMine); err != nil {
			t.Fatal(err)
		}
		converge(t, "bob-2")
	})

	t.Run("an older ok answer replayed", func(t *testing.T) {
		mSet(t, bob.v, "app/alpha", "bob-3")
		mark := tm.p.mark()
		tm.sync(t, bob)
		old := tm.p.sent(mark, "POST /v1/push", bob.id())[0].Resp
		tm.sync(t, admin)
		mSet(t, admin.v, "app/alpha", "admin-4")
		tm.sync(t, admin)
		mSet(t, bob.v, "app/alpha", "bob-4")
		tm.p.onAfter("GET /v1/changes", func(x *mExchange) {
			if x.Device == bob.id() && !pushedYet(tm.p, bob) {
				rewrite(t, x, func(ch *wire.Changes) { ch.Records, ch.Head = []wire.Record{}, bob.st.Head })
			}
		})
		tm.p.onAfter("POST /v1/push", func(x *mExchange) {
			if x.Device == bob.id() {
				x.Resp = old
			}
		})
		markPushes(tm.p, bob, tm.p.mark())
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(rep.Conflicts, "app/alpha") || rep.Pushed != 0 {
			t.Fatalf("an old answer replayed: %+v", rep)
		}
		if err := bob.Resolve(mctx, "app/alpha", KeepTheirs); err != nil {
			t.Fatal(err)
		}
		converge(t, "admin-4")
	})

	t.Run("a raised head in the answer", func(t *testing.T) {
		mSet(t, bob.v, "app/alpha", "bob-5")
		tm.p.onAfter("POST /v1/push", func(x *mExchange) {
			if x.Device == bob.id() {
				rewrite(t, x, func(r *wire.PushResponse) { r.Head += 1000 })
			}
		})
		if _, err := bob.Sync(mctx); err != nil {
			t.Fatal(err)
		}
		tm.p.honest()
		mSet(t, admin.v, "app/beta", "admin-beta")
		tm.sync(t, admin)
		tm.sync(t, bob) // not "went backwards"
		if got := mGet(t, bob.v, "app/beta"); got != "admin-beta" {
			t.Fatalf("bob has beta %q", got)
		}
		converge(t, "bob-5")
	})
}

// pushState tracks, per proxy, from which exchange on a device's pushes
// count (markPushes), so that a hook can tell the pull before a push from
// the pull after it.
var pushState = map[*mProxy]map[string]int{}

func markPushes(p *mProxy, d *mDev, mark int) {
	if pushState[p] == nil {
		pushState[p] = map[string]int{}
	}
	pushState[p][d.id()] = mark
}

func pushedYet(p *mProxy, d *mDev) bool {
	mark := pushState[p][d.id()]
	return len(p.sent(mark, "POST /v1/push", d.id()))+len(p.sent(mark, "POST /v2/push", d.id())) > 0
}
