package client

import (
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A writer of app/staging who does not hold app/prod removes app/prod/DB
// by sealing its removal into app/staging: a removal carries no name, only
// the record's id (every chain entry shows it) and its scope. The server
// refuses it (she may not write app/prod, the scope the record leaves);
// a server that takes it anyway is what this tests. A device that holds both scopes
// opens it with app/staging's key, and would remove its app/prod/DB.
//
// Defence: syncer.checkRemovals: a removal's scope must be the deepest
// scope above the name it removes as this device knows it. Without it the
// admin's app/prod/DB is gone.
func TestMaliciousRemovalServedInAnotherScope(t *testing.T) {
	tm := removalInStaging(t)
	before := mSecrets(t, tm.admin.v)
	_, err := tm.admin.Sync(mctx)
	mWantErr(t, err, "it removes app/prod/DB here, but came as a removal in another scope than that name's", nil)
	mSame(t, "the admin's secrets", mSecrets(t, tm.admin.v), before)
	if mGet(t, tm.admin.v, "app/prod/DB") != "prod-db" {
		t.Fatal("the admin lost app/prod/DB")
	}
	// Bob holds app/prod, not app/staging: the server sends him no record
	// of it, and the entry takes app/prod/DB out of his scopes by a
	// device that could not write app/prod. He checks it as a token of
	// app/prod checks the same move (attack20 H5): refused, and he keeps
	// app/prod/DB (he signed nothing on top of it before either, since his
	// copy kept it; a token, which has none, did).
	_, err = tm.bob.Sync(mctx)
	mWantErr(t, err, "out of a folder scope its author could not write", nil)
	if mGet(t, tm.bob.v, "app/prod/DB") != "prod-db" {
		t.Fatal("bob lost app/prod/DB")
	}
}

// The same removal, met by a change of app/prod/DB on the admin's device:
// a conflict, and `hush resolve --keep theirs` refuses to apply it.
//
// Defence: State.checkKept. Without it the resolve removes the
// admin's app/prod/DB.
func TestMaliciousRemovalKeptInAnotherScope(t *testing.T) {
	tm := removalInStaging(t)
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db-2")
	rep := tm.sync(t, tm.admin)
	if len(rep.Conflicts) != 1 || rep.Conflicts[0] != "app/prod/DB" {
		t.Fatalf("the admin's sync: conflicts %v, want app/prod/DB", rep.Conflicts)
	}
	err := tm.admin.Resolve(mctx, "app/prod/DB", KeepTheirs)
	mWantErr(t, err, "it removes app/prod/DB here, but came as a removal in another scope than that name's", nil)
	if mGet(t, tm.admin.v, "app/prod/DB") != "prod-db-2" {
		t.Fatal("the admin lost app/prod/DB")
	}
}

// removalInStaging: carol, a writer of app/staging who does not hold
// app/prod, has pushed a removal of app/prod/DB's record sealed into
// app/staging.
func removalInStaging(t *testing.T) *mTeam {
	tm, carol := scopedTeam(t)
	team := tm.admin.st.Team
	staging := wire.ScopeID(tm.admin.st.NamesKey, team, "app/staging")
	prodDB, err := tm.admin.v.Get("app/prod/DB")
	if err != nil {
		t.Fatal(err)
	}
	id, _ := hex.DecodeString(prodDB.ID)
	ts, err := tm.admin.v.Replica().TrackedByID([][]byte{id})
	if err != nil || len(ts) != 1 || ts[0].Mark == nil {
		t.Fatalf("the admin's app/prod/DB is not synced: %+v, %v", ts, err)
	}
	base := ts[0].Mark.Base
	// Carol's client is made to hold that id under a name of app/staging,
	// in step with the server, and removes it.
	if _, err := carol.v.Replica().ApplyRemote([]vault.Remote{{ID: id, Name: "app/staging/FAKE", Value: []byte("x"), Meta: prodDB.Meta,
		Mark: vault.SyncMark{Base: base, Seen: base}}}); err != nil {
		t.Fatal(err)
	}
	if err := carol.v.Remove("app/staging/FAKE"); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Sync(mctx); err != nil {
		t.Logf("carol's sync: %v", err)
	}
	// What reached the server: a removal of app/prod/DB's id in app/staging,
	// which it refused (403: she may not write app/prod); a server that
	// takes it anyway is what the devices' checks are for.
	var push *wire.ChainPush
	for _, x := range tm.p.sent(0, "POST /v2/push", carol.id()) {
		var req wire.ChainPush
		if json.Unmarshal(x.Body, &req) == nil {
			for _, r := range req.Records {
				if r.ID == prodDB.ID && r.Scope == staging {
					push = &req
				}
			}
		}
	}
	if push == nil {
		t.Fatal("carol pushed no removal of app/prod/DB's id into app/staging: the attack did not run")
	}
	storeTakes(t, tm, push)
	return tm
}

// storeTakes puts a push into the server's store as a server without its
// checks would (the store checks only links and versions).
func storeTakes(t *testing.T, tm *mTeam, req *wire.ChainPush) {
	t.Helper()
	team := tm.admin.st.Team
	a := &store.ChainAppend{Prev: req.Prev, Records: req.Records}
	for i := range req.Entries {
		se, err := store.Stored(team, &req.Entries[i])
		if err != nil {
			t.Fatal(err)
		}
		a.Entries = append(a.Entries, se)
	}
	if res, err := tm.p.store.ChainPush(mctx, team, a); err != nil || res.Status != wire.PushOK {
		t.Fatalf("the store did not take the push: %+v, %v", res, err)
	}
}
