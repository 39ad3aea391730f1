package client

import (
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// Records written under the old key before a removal, that reach the
// chain before the admin's re-seal (attack 14c, finding 3): an honest
// race (bob pushes, the admin removes mallory without having pulled it),
// or a server that holds the admin's re-seal back while it takes a
// member's push under the old key. Before, every device skipped bob's
// records as old-epoch while bob kept them, and the admin's re-seal was
// refused at every push ("behind") for good: the team never converged.
// Defence: the admin that began the new epoch keeps the key of the one
// before (PrevKey) and takes in records written under it before the new
// epoch began, by members who could write then: it applies them, seals
// them again under the new key at its push, and marks them to rotate
// (the removed member held the key they were written under). A device
// that must seal its copy again and cannot take in a newer old-epoch
// record goes on top of it rather than loop.
func TestMaliciousChainResealTakesIn(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleWriter)
	tm.add(t, "mallory", wire.RoleWriter)
	mSet(t, admin.v, "db/USER", "user-1")
	mSet(t, admin.v, "db/PASS", "pass-1")
	tm.sync(t, admin)
	tm.sync(t, bob)
	tm.sync(t, carol)

	mSet(t, bob.v, "db/USER", "bob-user-2")
	mSet(t, bob.v, "db/PASS", "bob-pass-2")
	if rep := tm.sync(t, bob); rep.Pushed != 2 {
		t.Fatalf("bob's push: %+v", rep)
	}
	// The admin removes mallory before it has pulled bob's change.
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	rep, err := admin.Sync(mctx)
	if err != nil {
		t.Fatalf("the admin's re-seal after the removal: %v", err)
	}
	if len(rep.TakenIn) != 2 {
		t.Fatalf("the admin's sync took in %d old-epoch records, want 2: %+v", len(rep.TakenIn), rep)
	}
	for _, f := range rep.TakenIn {
		if f.Member != "bob" || f.Removed {
			t.Errorf("taken in %+v, want bob's, who is still in the team", f)
		}
	}
	for _, name := range []string{"db/USER", "db/PASS"} {
		s, err := admin.v.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if s.Exposed == nil {
			t.Errorf("%s, written under the key mallory holds, is not marked to rotate", name)
		}
	}
	tm.chainConverge(t, admin, bob, carol)
	for _, d := range []*mDev{admin, bob, carol} {
		if u, p := mGet(t, d.v, "db/USER"), mGet(t, d.v, "db/PASS"); u != "bob-user-2" || p != "bob-pass-2" {
			t.Fatalf("%s holds %s / %s, want bob's change", d.name, u, p)
		}
	}
}

// The admin changed the secret itself after the new epoch began: bob's
// old-epoch change is kept as a conflict (readable with the previous
// key), not taken over it; resolved as theirs, it goes up sealed under the
// new key and every device converges on it.
func TestMaliciousChainResealConflict(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleWriter)
	tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)
	tm.sync(t, carol)
	mSet(t, bob.v, "app/alpha", "bob-alpha-2")
	tm.sync(t, bob)
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	mSet(t, admin.v, "app/alpha", "admin-alpha-after")
	rep, err := admin.Sync(mctx)
	if err != nil {
		t.Fatalf("the admin's sync: %v", err)
	}
	if len(rep.Conflicts) != 1 || rep.Conflicts[0] != "app/alpha" {
		t.Fatalf("the admin's edit after the epoch began and bob's old-epoch change: %+v", rep)
	}
	var th *Theirs
	if err := admin.team(func(tt *Team) (err error) { th, err = tt.Theirs("app/alpha"); return err }); err != nil || string(th.Value) != "bob-alpha-2" {
		t.Fatalf("theirs: %+v %v", th, err)
	}
	if err := admin.Resolve(mctx, "app/alpha", KeepTheirs); err != nil {
		t.Fatal(err)
	}
	tm.chainConverge(t, admin, bob, carol)
	if got := mGet(t, carol.v, "app/alpha"); got != "bob-alpha-2" {
		t.Fatalf("carol holds %s", got)
	}
}

// An admin without the previous key (its state from before PrevKey was
// kept) cannot take bob's old-epoch change in: its re-seal goes on top of
// it and says so (Report.Superseded), rather than be answered "behind" at
// every push. Without that, the admin's sync fails for good.
func TestMaliciousChainResealWithoutPrevKey(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)
	mSet(t, bob.v, "app/alpha", "bob-alpha-2")
	tm.sync(t, bob)
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	admin.st.PrevKey = nil
	rep, err := admin.Sync(mctx)
	if err != nil {
		t.Fatalf("the admin's re-seal without the previous key: %v", err)
	}
	if len(rep.Superseded) != 1 || rep.Superseded[0] != "app/alpha" {
		t.Fatalf("the admin's sync: %+v", rep)
	}
	tm.chainConverge(t, admin, bob)
	if got := mGet(t, bob.v, "app/alpha"); got != "alpha-1" {
		t.Fatalf("bob holds %s, want the admin's re-sealed copy", got)
	}
}

// A removed member's own write that reached the chain before the re-seal
// (attack 14d, finding A): taken in like a teammate's, and named as the
// removed member's, so the admin knows the value is theirs, not only seen
// by them.
func TestMaliciousChainResealNamesRemovedAuthor(t *testing.T) {
	tm := newMTeam(t)
	admin := tm.admin
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, admin)
	tm.sync(t, mallory)
	mSet(t, mallory.v, "app/WEBHOOK", "https://mallory.example/hook")
	if rep := tm.sync(t, mallory); rep.Pushed != 1 {
		t.Fatalf("mallory's push: %+v", rep)
	}
	if _, err := admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	rep, err := admin.Sync(mctx)
	if err != nil {
		t.Fatalf("the admin's re-seal after the removal: %v", err)
	}
	if len(rep.TakenIn) != 1 || rep.TakenIn[0].Member != "mallory" || !rep.TakenIn[0].Removed || rep.TakenIn[0].Name != "app/WEBHOOK" {
		t.Fatalf("taken in from %+v, want app/WEBHOOK by mallory, removed", rep.TakenIn)
	}
}

// The same race with an epoch a promotion began (a member who held folder
// scopes only made an admin: a new root key, attack21 N2): bob's change
// is taken in, but not marked to rotate — nobody who left holds the key
// it was written under (attack22: it said so, and marked it).
func TestChainTakenInAfterPromotionNotMarked(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleWriter)
	mSet(t, admin.v, "db/USER", "user-1")
	mSet(t, admin.v, "app/X", "x-1")
	tm.sync(t, admin)
	if err := admin.Grant("carol", "app", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Ungrant("carol", "/"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, admin)
	tm.sync(t, bob)
	tm.sync(t, carol)
	mSet(t, bob.v, "db/USER", "bob-user-2")
	if rep := tm.sync(t, bob); rep.Pushed != 1 {
		t.Fatalf("bob's push: %+v", rep)
	}
	if err := admin.SetRole(mctx, "carol", wire.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	rep, err := admin.Sync(mctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.TakenIn) != 1 || rep.TakenInExposed {
		t.Fatalf("the admin's sync after the promotion: %+v", rep)
	}
	s, err := admin.v.Get("db/USER")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Value) != "bob-user-2" || s.Exposed != nil {
		t.Fatalf("db/USER after the promotion: %q, marked %v", s.Value, s.Exposed)
	}
}
