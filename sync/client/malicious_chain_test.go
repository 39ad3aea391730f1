package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// The change chain (issue 14): order and completeness signed by the
// writers. Every test lies in the real server's answers to GET /v2/chain
// or POST /v2/push (proxy_test.go) and shows that the client refuses with
// an error that names the fault, that its saved cursor is still a
// position and hash of the real chain (chainCursorReal), and that honest
// syncs afterwards succeed and converge (recovery, not lock-out).

// onChain rewrites the chain pages one device pulls.
func (tm *mTeam) onChain(t testing.TB, d *mDev, f func(pg *wire.ChainPage)) {
	tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
		if x.Device == d.id() {
			rewrite(t, x, f)
		}
	})
}

// chainCursorReal fails unless d's saved cursor is a position of the real
// server's chain with its real hash: a cursor the server's word moved
// would name a position the chain does not have, or another hash.
func chainCursorReal(t testing.TB, tm *mTeam, d *mDev) wire.ChainCursor {
	t.Helper()
	st, err := Load(d.v)
	if err != nil {
		t.Fatal(err)
	}
	c := st.Chain
	if c.Pos == 0 {
		return c
	}
	pg, err := tm.p.store.Chain(context.Background(), st.Team, c.Pos-1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pg.Entries) != 1 || pg.Entries[0].Pos != c.Pos || !bytes.Equal(pg.Entries[0].Hash(st.Team), c.Hash) {
		t.Fatalf("%s's saved cursor (%d, %x) is not an entry of the real chain", d.name, c.Pos, c.Hash)
	}
	return c
}

// chainRefused runs d's sync under the current lies: it must fail with
// text (and, with fault, as that wire.ChainError), apply nothing, and
// save nothing; then the proxy is honest again.
func (tm *mTeam) chainRefused(t *testing.T, d *mDev, text string, fault wire.ChainFault) {
	t.Helper()
	tm.chainRefusedOnBranch(t, d, text, fault)
	chainCursorReal(t, tm, d)
}

// chainRefusedOnBranch is chainRefused for a device the server forked:
// its cursor is on a branch the real chain does not have.
func (tm *mTeam) chainRefusedOnBranch(t *testing.T, d *mDev, text string, fault wire.ChainFault) {
	t.Helper()
	defer tm.p.honest()
	before, state := mSecrets(t, d.v), d.snapshot(t)
	_, err := d.Sync(mctx)
	mWantErr(t, err, text, nil)
	if fault != "" {
		var ce *wire.ChainError
		if !errors.As(err, &ce) || ce.Fault != fault || !errors.Is(err, wire.ErrChain) {
			t.Fatalf("error %v: want a chain fault %q", err, fault)
		}
	}
	mSame(t, d.name+"'s secrets", mSecrets(t, d.v), before)
	if st, err := Load(d.v); err != nil {
		t.Fatal(err)
	} else if saved, _ := json.Marshal(st); !bytes.Equal(saved, state) {
		t.Errorf("%s's saved team state changed on a refused answer", d.name)
	}
}

// chainConverge: honest syncs of every device, then all hold the same
// secrets, nothing unpushed, the same verify hash.
func (tm *mTeam) chainConverge(t *testing.T, ds ...*mDev) {
	t.Helper()
	tm.p.honest()
	for range 2 {
		for _, d := range ds {
			tm.sync(t, d)
		}
	}
	want := mSecrets(t, ds[0].v)
	var hash string
	for _, d := range ds {
		mSame(t, d.name+"'s secrets after honest syncs", mSecrets(t, d.v), want)
		if s, err := status(d.v); err != nil || s.Unpushed != 0 {
			t.Fatalf("%s: %d unpushed after honest syncs (%v)", d.name, s.Unpushed, err)
		}
		chainCursorReal(t, tm, d)
		fp, err := d.Verify(mctx)
		if err != nil {
			t.Fatal(err)
		}
		if hash != "" && fp.Hash != hash {
			t.Fatalf("%s's verify hash %s differs after converging", d.name, fp.Hash)
		}
		hash = fp.Hash
	}
}

// Raised head: the server states a head above what it sends (an empty
// page that says more follow; a head of 2^50), or raises the head in a
// push answer. Defence: the cursor moves only to the last entry that
// passed every check (pullChain); a page whose stated head its entries do
// not reach is refused (checkPage); a push answer moves nothing. Without
// checkPage the first case passes in silence (and nothing is lost: the
// cursor did not move); with the cursor set from pg.Head, the honest sync
// after it is refused as a rollback.
func TestMaliciousChainRaisedHead(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	for _, c := range []struct {
		name, text string
		lie        func(pg *wire.ChainPage)
	}{
		{"an empty page that says more follow", "follow, but sends none", func(pg *wire.ChainPage) {
			pg.Entries, pg.Records, pg.More = nil, nil, true
			pg.Head.Pos += 3
		}},
		{"a head of 2^50, nothing sent", "reaches entry 1125899906842624, but sends nothing", func(pg *wire.ChainPage) {
			pg.Entries, pg.Records, pg.More = nil, nil, false
			pg.Head.Pos = 1 << 50
		}},
		{"a head above the page's last entry", "sends entries only up to", func(pg *wire.ChainPage) { pg.Head.Pos += 3 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mSet(t, admin.v, "app/alpha", c.name)
			tm.sync(t, admin)
			tm.onChain(t, bob, c.lie)
			tm.chainRefused(t, bob, c.text, "")
			tm.chainConverge(t, admin, bob)
			if got := mGet(t, bob.v, "app/alpha"); got != c.name {
				t.Fatalf("after honest syncs bob has %q", got)
			}
		})
	}
	t.Run("a raised head in a push answer", func(t *testing.T) {
		mSet(t, bob.v, "app/beta", "bob-beta")
		tm.p.onAfter("POST /v2/push", func(x *mExchange) {
			rewrite(t, x, func(r *wire.ChainPushResponse) { r.Head.Pos += 1000 })
		})
		tm.sync(t, bob)
		tm.p.honest()
		chainCursorReal(t, tm, bob)
		tm.chainConverge(t, admin, bob)
	})
}

// Rewritten position or sequence number: an entry's position changed, or
// the records' seq (no longer read). Defence: an entry's position is in
// its signature and must be the cursor's + 1 (VerifyChain: a gap); the
// order of records is the entries', never seq.
func TestMaliciousChainRewrittenPosition(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "alpha-2")
	mSet(t, admin.v, "app/gamma", "gamma-1")
	tm.sync(t, admin)
	t.Run("position", func(t *testing.T) {
		tm.onChain(t, bob, func(pg *wire.ChainPage) {
			for i := range pg.Entries {
				pg.Entries[i].Pos++
			}
			pg.Head.Pos++
		})
		tm.chainRefused(t, bob, "has a gap at position", wire.FaultGap)
	})
	t.Run("position, re-signed by the server", func(t *testing.T) {
		evil := newMEvil(t)
		tm.onChain(t, bob, func(pg *wire.ChainPage) {
			pg.Entries[0].Pos++
			pg.Entries[0].Sign(bob.st.Team, pg.Entries[0].Author, ed25519.NewKeyFromSeed(evil.sign))
		})
		tm.chainRefused(t, bob, "has a gap", wire.FaultGap)
	})
	t.Run("sequence numbers", func(t *testing.T) {
		// Seq is not read: a rewritten one changes nothing.
		tm.onChain(t, bob, func(pg *wire.ChainPage) {
			for i := range pg.Records {
				pg.Records[i].Seq = 1 << 40
			}
		})
		tm.sync(t, bob)
		tm.p.honest()
		if got := mGet(t, bob.v, "app/gamma"); got != "gamma-1" {
			t.Fatalf("gamma = %q", got)
		}
		tm.chainConverge(t, admin, bob)
	})
}

// A record dropped from the middle of a page: the entry that names it
// comes, the record does not (a new member would never receive that
// secret). Defence: every record an entry names must come, in its page
// or with a later entry (wire.ChainRecords: "a withheld record"); the
// page is held, not applied, and the cursor stays before it, so the next
// pull asks for it again. Saving the cursor at the page's end makes the
// honest sync after it miss the secret for good.
func TestMaliciousChainRecordDroppedMidPage(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	for _, n := range []string{"app/c1", "app/c2", "app/c3"} {
		mSet(t, admin.v, n, n+"-value")
	}
	tm.sync(t, admin)
	carol := tm.invite(t, "carol", wire.RoleWriter)
	tm.sync(t, admin)
	for _, d := range []*mDev{bob, carol} {
		t.Run(d.name, func(t *testing.T) {
			dropped := secretID(t, admin, "app/c2")
			tm.onChain(t, d, func(pg *wire.ChainPage) {
				pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return r.ID == dropped })
			})
			_, err := d.Sync(mctx)
			tm.p.honest()
			var ce *wire.ChainError
			if !errors.As(err, &ce) || ce.Fault != wire.FaultWithheld {
				t.Fatalf("%s's sync: %v, want a withheld record", d.name, err)
			}
			chainCursorReal(t, tm, d)
			tm.sync(t, d)
			if got := mGet(t, d.v, "app/c2"); got != "app/c2-value" {
				t.Fatalf("after the honest sync %s has app/c2 = %q", d.name, got)
			}
		})
	}
	tm.chainConverge(t, admin, bob, carol)
}

// Reordered entries: two entries of a page swapped (their records too).
// Defence: each entry's position must be the previous one's + 1
// (VerifyChain: a reorder); nothing of the page is applied.
func TestMaliciousChainReorderedEntries(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "alpha-2")
	mSet(t, admin.v, "app/beta", "beta-2")
	tm.sync(t, admin)
	tm.onChain(t, bob, func(pg *wire.ChainPage) {
		if len(pg.Entries) >= 2 {
			pg.Entries[0], pg.Entries[1] = pg.Entries[1], pg.Entries[0]
			slices.Reverse(pg.Records)
		}
	})
	tm.chainRefused(t, bob, "has a reorder at position", wire.FaultReorder)
	tm.chainConverge(t, admin, bob)
}

// A replaced entry: an entry a team member signed, but on another
// history (its predecessor is not the entry before it here), in the
// place of the real one; or the real one with its content changed.
// Defence: each entry's prev must be the hash of the entry this device
// verified before it (a replaced entry), and its signature covers its
// content (an unsigned entry).
func TestMaliciousChainReplacedEntry(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "alpha-2")
	tm.sync(t, admin)
	t.Run("signed on another history", func(t *testing.T) {
		tm.onChain(t, bob, func(pg *wire.ChainPage) {
			e := &pg.Entries[0]
			e.Prev = bytes.Repeat([]byte{7}, 32)
			e.Sign(bob.st.Team, admin.id(), admin.st.signer()) // the admin signed it, elsewhere
		})
		tm.chainRefused(t, bob, "has a replaced entry at position", wire.FaultReplaced)
	})
	t.Run("its content changed", func(t *testing.T) {
		tm.onChain(t, bob, func(pg *wire.ChainPage) { pg.Entries[0].Time = pg.Entries[0].Time.Add(time.Second) })
		tm.chainRefused(t, bob, "has an unsigned entry", wire.FaultSignature)
	})
	t.Run("its record replaced by an older one", func(t *testing.T) {
		old := tm.p.record(t, secretID(t, admin, "app/alpha"), 1, 1)
		tm.onChain(t, bob, func(pg *wire.ChainPage) {
			for i := range pg.Records {
				if pg.Records[i].ID == old.ID {
					pg.Records[i] = old
				}
			}
		})
		tm.chainRefused(t, bob, "is not what the entry names", wire.FaultMismatch)
	})
	tm.chainConverge(t, admin, bob)
}

// Push answers (the chain's version of TestMaliciousPushAnswers): ok for
// a push that never arrived, a refusal (behind) rewritten into ok, an
// older ok answer replayed. Defence: a push is done when the device's own
// entries come back at the positions it signed (pullChain, confirmed);
// until then the change stays unpushed, and a teammate's entry on the
// same record shows as a conflict. Marking pushed on an ok answer ends
// the first case with the change marked pushed and the team without it.
func TestMaliciousChainPushAnswers(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	unpushed := func(d *mDev) int {
		t.Helper()
		s, err := status(d.v)
		if err != nil {
			t.Fatal(err)
		}
		return s.Unpushed
	}
	okAnswer := func(x *mExchange) bool {
		if x.Device != bob.id() {
			return false
		}
		var req wire.ChainPush
		json.Unmarshal(x.Body, &req)
		last := req.Entries[len(req.Entries)-1]
		return answer(x, 200, wire.ChainPushResponse{Status: wire.PushOK, Head: last.Next(bob.st.Team)})
	}

	t.Run("ok for a push that never arrived", func(t *testing.T) {
		mSet(t, bob.v, "app/alpha", "bob-1")
		tm.p.onBefore("POST /v2/push", okAnswer)
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pushed != 0 || rep.Unconfirmed != 1 || unpushed(bob) != 1 {
			t.Fatalf("a push that never reached the team: %+v, %d unpushed", rep, unpushed(bob))
		}
		chainCursorReal(t, tm, bob)
		tm.chainConverge(t, admin, bob)
		if mGet(t, admin.v, "app/alpha") != "bob-1" {
			t.Fatal("bob's change never reached the admin")
		}
	})

	t.Run("behind rewritten into ok", func(t *testing.T) {
		mSet(t, admin.v, "app/alpha", "admin-2")
		tm.sync(t, admin)
		mSet(t, bob.v, "app/alpha", "bob-2")
		// bob's first pull sees nothing new (withheld), so his push is
		// behind; the answer says ok.
		markPushes(tm.p, bob, tm.p.mark())
		tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
			if x.Device == bob.id() && !pushedYet(tm.p, bob) {
				return answer(x, 200, wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}, Head: bob.st.Chain, Started: true})
			}
			return false
		})
		tm.p.onAfter("POST /v2/push", func(x *mExchange) {
			if x.Device == bob.id() {
				rewrite(t, x, func(r *wire.ChainPushResponse) { r.Status = wire.PushOK })
			}
		})
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(rep.Conflicts, "app/alpha") || rep.Pushed != 0 {
			t.Fatalf("behind rewritten into ok: %+v", rep)
		}
		chainCursorReal(t, tm, bob)
		if err := bob.Resolve(mctx, "app/alpha", KeepMine); err != nil {
			t.Fatal(err)
		}
		tm.chainConverge(t, admin, bob)
		if mGet(t, admin.v, "app/alpha") != "bob-2" {
			t.Fatal("bob's resolution never reached the admin")
		}
	})

	t.Run("an older ok answer replayed", func(t *testing.T) {
		mSet(t, bob.v, "app/alpha", "bob-3")
		mark := tm.p.mark()
		tm.sync(t, bob)
		old := tm.p.sent(mark, "POST /v2/push", bob.id())[0].Resp
		mSet(t, bob.v, "app/beta", "bob-beta-3")
		tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
			if x.Device != bob.id() {
				return false
			}
			x.Status, x.Resp = 200, old
			return true
		})
		rep, err := bob.Sync(mctx)
		tm.p.honest()
		if err != nil {
			t.Fatal(err)
		}
		if rep.Pushed != 0 || unpushed(bob) != 1 {
			t.Fatalf("an old answer replayed: %+v, %d unpushed", rep, unpushed(bob))
		}
		tm.chainConverge(t, admin, bob)
		if mGet(t, admin.v, "app/beta") != "bob-beta-3" {
			t.Fatal("bob's change never reached the admin")
		}
	})
}

// A fork: the server takes bob's pushes into a branch of its own and
// shows it only to him, while the admin's pushes go on the real chain.
// Each device sees its own writes come back; both think they are in sync.
// Defence: every entry commits to its predecessor, so the two devices hold
// different hashes at the same position, which `team verify` shows in one
// hash; and neither accepts the other's branch afterwards (a replaced
// entry). A fork cannot be merged again: the devices stay refused until
// the server is honest with both from the fork on (an admin re-creates
// the team from an up-to-date device; docs/sync.md, Backups). A device
// kept on a branch of its own also warns once it has written but seen no
// entry by another device for longer than its fresh window.
func TestMaliciousChainFork(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	tm.sync(t, bob)
	forkAt := bob.st.Chain
	var branch wire.ChainPage // bob's branch after forkAt
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		if x.Device != bob.id() {
			return false
		}
		var req wire.ChainPush
		json.Unmarshal(x.Body, &req)
		head := forkAt
		if n := len(branch.Entries); n > 0 {
			head = branch.Entries[n-1].Next(bob.st.Team)
		}
		if !req.Prev.Equal(head) {
			return answer(x, 200, wire.ChainPushResponse{Status: wire.ChainBehind, Head: head})
		}
		branch.Entries = append(branch.Entries, req.Entries...)
		branch.Records = append(branch.Records, req.Records...)
		return answer(x, 200, wire.ChainPushResponse{Status: wire.PushOK, Head: req.Entries[len(req.Entries)-1].Next(bob.st.Team)})
	})
	serveBranch := func(x *mExchange) bool {
		var after int64
		for _, kv := range strings.Split(x.Query, "&") {
			if v, ok := strings.CutPrefix(kv, "after="); ok {
				json.Unmarshal([]byte(v), &after)
			}
		}
		if after < forkAt.Pos {
			return false
		}
		pg := wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}, Head: forkAt, Started: true}
		for i, e := range branch.Entries {
			pg.Head = e.Next(bob.st.Team)
			if e.Pos > after {
				pg.Entries = append(pg.Entries, e)
				pg.Records = append(pg.Records, branch.Records[i])
			}
		}
		return answer(x, 200, pg)
	}
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool { return x.Device == bob.id() && serveBranch(x) })

	mSet(t, bob.v, "app/alpha", "bob-fork")
	rep := tm.sync(t, bob)
	if rep.Pushed != 1 {
		t.Fatalf("bob on his branch: %+v", rep)
	}
	mSet(t, admin.v, "app/beta", "admin-real")
	tm.sync(t, admin)
	fa, err := admin.Verify(mctx)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := bob.Verify(mctx)
	if err != nil {
		t.Fatal(err)
	}
	if fa.ChainPos != fb.ChainPos || fa.Hash == fb.Hash {
		t.Fatalf("forked at the same position %d/%d, verify hashes %s and %s: want them to differ", fa.ChainPos, fb.ChainPos, fa.Hash, fb.Hash)
	}
	if fa.Seq != fb.Seq || fa.Head != fb.Head {
		t.Fatalf("the membership logs differ too: the hash must tell the chains apart alone")
	}
	// Each writes once more on its own branch; bob's, nine days on, warns:
	// he wrote, and saw nothing from the team for longer than his fresh
	// window (only entries by other devices count as news).
	mSet(t, bob.v, "app/alpha", "bob-fork-2")
	later := time.Now().Add(9 * 24 * time.Hour)
	var rep9 *Report
	if err := bob.team(func(tt *Team) (err error) {
		tt.SetClock(func() time.Time { return later })
		rep9, err = tt.Sync(mctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !rep9.Fresh.Wrote || rep9.Fresh.Warning() == "" {
		t.Fatalf("bob wrote on a fork for 9 days without a warning: %+v", rep9.Fresh)
	}
	mSet(t, admin.v, "app/beta", "admin-real-2")
	tm.sync(t, admin)

	// Neither accepts the other's branch: bob shown the real chain, the
	// admin shown bob's.
	tm.p.honest()
	tm.chainRefusedOnBranch(t, bob, "has a replaced entry", wire.FaultReplaced)
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool { return x.Device == admin.id() && serveBranch(x) })
	tm.chainRefused(t, admin, "has a replaced entry", wire.FaultReplaced)
	if mGet(t, admin.v, "app/alpha") == "bob-fork" || mGet(t, bob.v, "app/beta") == "admin-real" {
		t.Fatal("a device took the other's branch")
	}
}

// The cursor moves only on what was verified. For every kind of lie
// above, and a lie in each field of the page that decides the cursor
// (head, more, an entry's position, hash or link, a record), the saved
// cursor after the sync is a position and hash of the real chain, and it
// never moves past the last entry that passed every check. Setting the
// cursor from the page's head (or from an unverified entry) fails this.
func TestMaliciousChainCursorOnlyVerified(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	for i, lie := range []func(pg *wire.ChainPage){
		func(pg *wire.ChainPage) { pg.Head.Pos += 5; pg.More = true },
		func(pg *wire.ChainPage) { pg.Head.Pos += 5 },
		func(pg *wire.ChainPage) { pg.Head.Hash = bytes.Repeat([]byte{1}, 32) },
		func(pg *wire.ChainPage) { pg.Entries[len(pg.Entries)-1].Pos += 2 },
		func(pg *wire.ChainPage) { pg.Entries[len(pg.Entries)-1].Prev = bytes.Repeat([]byte{2}, 32) },
		func(pg *wire.ChainPage) { pg.Entries[len(pg.Entries)-1].Sig[0] ^= 1 },
		func(pg *wire.ChainPage) { pg.Records = pg.Records[:0] },
		func(pg *wire.ChainPage) { pg.Entries = pg.Entries[:len(pg.Entries)-1] },
	} {
		mSet(t, admin.v, "app/alpha", "v"+string(rune('a'+i)))
		mSet(t, admin.v, "app/beta", "v"+string(rune('a'+i)))
		tm.sync(t, admin)
		real := admin.st.Chain // the admin verified the real chain to here
		before := bob.st.Chain
		tm.onChain(t, bob, lie)
		_, err := bob.Sync(mctx)
		tm.p.honest()
		if err == nil {
			t.Fatalf("lie %d: taken", i)
		}
		// Saved or not, the cursor is an entry of the real chain, never
		// past its head; entries before the lie may have been verified.
		if c := chainCursorReal(t, tm, bob); c.Pos > real.Pos || c.Pos < before.Pos {
			t.Fatalf("lie %d: bob's cursor moved to %d (was %d, the real head %d, sync error %v)", i, c.Pos, before.Pos, real.Pos, err)
		}
		if c := bob.st.Chain; c.Pos > real.Pos {
			t.Fatalf("lie %d: bob's cursor in memory moved to %d, past the real head %d", i, c.Pos, real.Pos)
		}
		tm.sync(t, bob)
		if c := chainCursorReal(t, tm, bob); !c.Equal(real) {
			t.Fatalf("lie %d: after an honest sync bob is at %d, the chain at %d", i, c.Pos, real.Pos)
		}
	}
}

// A record kept as a conflict carries its own signature, which is read
// again when it is shown or resolved: on the chain its signature is not
// checked on the way in (its entry's covers it), so a record about to be
// kept as a conflict is checked in full, and a bad signature is refused
// before anything is written (syncer.theirs).
func TestMaliciousChainConflictRecordSignature(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "admin-2")
	tm.sync(t, admin)
	mSet(t, bob.v, "app/alpha", "bob-2")
	alpha := secretID(t, admin, "app/alpha")
	tm.onChain(t, bob, func(pg *wire.ChainPage) {
		for i := range pg.Records {
			if pg.Records[i].ID == alpha {
				pg.Records[i].Sig[0] ^= 1
			}
		}
	})
	tm.chainRefused(t, bob, "its signature does not check out", "")
	rep := tm.sync(t, bob)
	if !slices.Contains(rep.Conflicts, "app/alpha") {
		t.Fatalf("the honest sync: %+v", rep)
	}
	th, err := func() (th *Theirs, err error) {
		err = bob.team(func(tt *Team) error { th, err = tt.Theirs("app/alpha"); return err })
		return th, err
	}()
	if err != nil || string(th.Value) != "admin-2" {
		t.Fatalf("theirs: %v %v", th, err)
	}
}

// A stalled view (issue 14, class 3): the server shows bob the real
// membership log (a member removed: a new key epoch, whose admin seals
// every secret again) but freezes the chain it shows him at his cursor,
// an honest-looking empty page. The log moving counts as news, so the
// quiet and fresh-window rules say nothing. Defence: a device that
// verified a new epoch and, for longer than its fresh window, was shown no
// chain entry written in it warns (Freshness.Stalled), on sync and in
// `hush status --json` ("warning"); the honest server's re-sealed entries
// end the warning. Without the Stalled rule the first check fails.
func TestMaliciousChainStalledAfterRemoval(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleReader)
	tm.sync(t, bob)
	now := time.Now()
	bobSync := func(at time.Time) *Report {
		t.Helper()
		var rep *Report
		if err := bob.team(func(tt *Team) (err error) {
			tt.SetClock(func() time.Time { return at })
			rep, err = tt.Sync(mctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return rep
	}
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
		if x.Device != bob.id() {
			return false
		}
		return answer(x, 200, wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}, Head: bob.st.Chain, Started: true})
	})
	if _, err := admin.Remove(mctx, carol.name); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, admin) // every secret sealed again under epoch 2
	if rep := bobSync(now); rep.Fresh != (Freshness{}) {
		t.Fatalf("the day of the removal: %+v", rep.Fresh)
	}
	rep := bobSync(now.Add(8 * 24 * time.Hour))
	if !rep.Fresh.Stalled || rep.Fresh.Warning() == "" {
		t.Fatalf("8 days after a new epoch, nothing written in it shown: %+v", rep.Fresh)
	}
	// `hush status --json` carries it.
	bob.st.EpochAt = time.Now().Add(-8 * 24 * time.Hour)
	if err := bob.st.save(bob.v); err != nil {
		t.Fatal(err)
	}
	s, err := ReadStatus(bob.v)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(s); !strings.Contains(string(b), `"warning":"warning: the team's key changed 8 days ago`) {
		t.Fatalf("status JSON without the warning: %s", b)
	}
	tm.p.honest()
	if rep := bobSync(now.Add(9 * 24 * time.Hour)); rep.Fresh != (Freshness{}) || rep.Pulled == 0 {
		t.Fatalf("honest again: %+v", rep)
	}
}

// Half of a change: a credential pair rotated together, the server sends
// the entries of both and the record of one. Defence: a page is applied
// only once every record its entries name has come, so the refused page
// leaves both old values (not one new and one old, a state the team never
// had); also when the server says more follow and then fails (attack 14b).
func TestMaliciousChainHalfAChange(t *testing.T) {
	for _, failNext := range []bool{false, true} {
		t.Run(fmt.Sprintf("more-then-fail=%v", failNext), func(t *testing.T) {
			tm := newMTeam(t)
			admin, bob := tm.admin, tm.bob
			mSet(t, admin.v, "db/USER", "user-1")
			mSet(t, admin.v, "db/PASS", "pass-1")
			tm.sync(t, admin)
			tm.sync(t, bob)
			mSet(t, admin.v, "db/USER", "user-2")
			mSet(t, admin.v, "db/PASS", "pass-2")
			tm.sync(t, admin)
			dropped := secretID(t, admin, "db/USER")
			pages := 0
			tm.onChain(t, bob, func(pg *wire.ChainPage) {
				pages++
				pg.Records = slices.DeleteFunc(pg.Records, func(r wire.Record) bool { return r.ID == dropped })
				if failNext {
					if pages > 1 {
						// The next page is not an answer at all.
						pg.Entries, pg.Records, pg.More, pg.Started = nil, nil, false, false
						return
					}
					pg.More = true
				}
			})
			_, err := bob.Sync(mctx)
			tm.p.honest()
			if err == nil {
				t.Fatal("bob's sync took a page with a record withheld")
			}
			if u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS"); u != "user-1" || p != "pass-1" {
				t.Fatalf("after the refused sync bob holds %s / %s, want user-1 / pass-1 (nothing applied)", u, p)
			}
			chainCursorReal(t, tm, bob)
			tm.sync(t, bob)
			if u, p := mGet(t, bob.v, "db/USER"), mGet(t, bob.v, "db/PASS"); u != "user-2" || p != "pass-2" {
				t.Fatalf("after the honest sync bob holds %s / %s", u, p)
			}
			tm.chainConverge(t, admin, bob)
		})
	}
}

// The server being checked must not decide whether the check can be made:
// a server that refuses or lies when `team verify` fetches the log still
// gets the hash this device verified at its last sync printed, with the
// refusal (attack 14b).
func TestVerifyPrintsWhenTheServerLies(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "alpha-2")
	tm.sync(t, admin)
	tm.sync(t, bob)
	want, err := bob.Verify(mctx)
	if err != nil || want.Refused != nil {
		t.Fatalf("honest verify: %v, %v", err, want.Refused)
	}
	tm.p.onBefore("GET /v1/log", func(x *mExchange) bool {
		if x.Device != bob.id() {
			return false
		}
		x.Status, x.Resp = http.StatusServiceUnavailable, []byte(`{"error":"unavailable"}`)
		return true
	})
	got, err := bob.Verify(mctx)
	tm.p.honest()
	if err != nil {
		t.Fatalf("verify against a refusing server: %v, want the last verified hash and the refusal", err)
	}
	if got.Refused == nil || got.Hash != want.Hash || got.ChainPos != want.ChainPos {
		t.Fatalf("verify against a refusing server: hash %s at %d (refused: %v), want %s at %d with the refusal", got.Hash, got.ChainPos, got.Refused, want.Hash, want.ChainPos)
	}
}
