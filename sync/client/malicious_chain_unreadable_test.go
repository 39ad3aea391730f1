package client

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// One writer pushes a validly signed entry whose ciphertext is garbage
// (attack 14c, finding 1): the server cannot check the AEAD, so it takes
// it. Before, every device's sync then failed on it for good ("its
// ciphertext failed authentication"), and `hush team remove` of that
// writer failed too, since it syncs first. Defence: a record whose entry
// and signature check out (its author, a writer at that log position,
// signed that ciphertext's hash) but that does not open is the author's
// doing: it is skipped and reported (Report.Unreadable, naming the
// author and the secret), the cursor moves past it, and the device keeps
// its last readable version; the team stays usable, the writer can be
// removed, and the admin's re-seal replaces it. A ciphertext the server
// changed is still refused: it is not what the entry names
// (TestMaliciousChainReplacedEntry, TestMaliciousChainBitFlips).
func TestMaliciousChainUnreadableRecord(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)
	tm.sync(t, mallory)
	alpha := secretID(t, admin, "app/alpha")
	var version int64
	pg, err := tm.p.store.Chain(mctx, admin.st.Team, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range pg.Entries {
		if e.ID == alpha {
			version = max(version, e.Version)
		}
	}
	// Mallory's push: signed, at the head, at her log position, and 256
	// random bytes where the sealed payload should be.
	st := mallory.st
	r := wire.Record{ID: alpha, Version: version + 1, Epoch: st.Epoch, Sealed: make([]byte, 256), Author: st.Device.ID, LogSeq: st.Members.Seq}
	rand.Read(r.Sealed)
	r.Sig = ed25519.Sign(st.signer(), wire.RecordSigned(st.Team, &r))
	e := wire.NextEntry(st.Chain, &r, time.Now())
	e.InPush(st.Chain, 1)
	e.ScopeLast = e.Pos
	st.ScopeHeads.LinkNext(&e)
	e.Sign(st.Team, st.Device.ID, st.signer())
	if err := mallory.team(func(tt *Team) error {
		c, err := tt.verifyLog(mctx)
		if err != nil {
			return err
		}
		var res wire.ChainPushResponse
		if err := c.do(mctx, "POST", "/v2/push", wire.ChainPush{Prev: st.Chain, Entries: []wire.ChainEntry{e}, Records: []wire.Record{r}}, &res); err != nil {
			return err
		}
		if res.Status != wire.PushOK {
			t.Fatalf("the server did not take the poisoned push: %+v", res)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Every device's sync works, skips it, says who wrote it.
	for _, d := range []*mDev{bob, admin} {
		rep, err := d.Sync(mctx)
		if err != nil {
			t.Fatalf("%s's sync after mallory's unreadable entry: %v", d.name, err)
		}
		if len(rep.Unreadable) != 1 {
			t.Fatalf("%s's sync: %+v, want one unreadable record", d.name, rep)
		}
		u := rep.Unreadable[0]
		if u.ID != alpha || u.Name != "app/alpha" || u.Member != "mallory" || u.Device != "mallory-laptop" || u.Version != version+1 {
			t.Fatalf("%s's report of the unreadable record: %+v", d.name, u)
		}
		if got := mGet(t, d.v, "app/alpha"); got != "alpha-1" {
			t.Fatalf("%s holds alpha %q, want its last readable version", d.name, got)
		}
		if c := chainCursorReal(t, tm, d); c.Pos != e.Pos || !bytes.Equal(c.Hash, e.Hash(st.Team)) {
			t.Fatalf("%s's cursor stays at %d, before the unreadable entry %d", d.name, c.Pos, e.Pos)
		}
	}
	// The next sync says nothing more of it: the cursor moved past.
	if rep := tm.sync(t, bob); len(rep.Unreadable) != 0 {
		t.Fatalf("bob's next sync: %+v", rep)
	}
	// Bob's next change of the secret goes on top of it.
	mSet(t, bob.v, "app/alpha", "bob-after-poison")
	if rep := tm.sync(t, bob); rep.Pushed != 1 || len(rep.Conflicts) != 0 {
		t.Fatalf("bob's change over the unreadable version: %+v", rep)
	}
	// The writer can be removed (`hush team remove` syncs first); the
	// admin's re-seal and honest syncs converge.
	tm.sync(t, admin)
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatalf("removing the writer of the unreadable entry: %v", err)
	}
	tm.chainConverge(t, admin, bob)
	if got := mGet(t, admin.v, "app/alpha"); got != "bob-after-poison" {
		t.Fatalf("the admin holds alpha %q", got)
	}
	if rep := tm.sync(t, admin); len(rep.Unreadable) != 0 {
		t.Fatalf("still unreadable after the removal: %+v", rep)
	}
}
