package client

import (
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// A scope a device comes to hold after it has pulled entries of it
// (attack22 G1): a grant of an existing scope, a scope given back after
// an ungrant, the root granted back. Its next sync reads the chain again
// from the start and applies that scope's records with every check; a
// server that withholds them there, or shows a shorter chain, is refused.
// Without the re-read, the records never came: the member saw an empty
// folder, or her old copies as current.

// regrantOut ungrants carol from folder, lets her sync that, and has the
// admin change what she is out of: DB to "staging-db-2" and a new NEW.
func regrantOut(t *testing.T, tm *mTeam, carol *mDev, folder string) {
	t.Helper()
	if _, err := tm.admin.Ungrant("carol", folder); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	mSet(t, tm.admin.v, folder+"/DB", "staging-db-2")
	mSet(t, tm.admin.v, folder+"/NEW", "new-while-out")
	tm.sync(t, tm.admin)
	tm.sync(t, carol) // the entries, not their records
}

// A member granted an existing scope gets the secrets already in it at
// her next sync, once: the sync after reads only what is new.
func TestGrantExistingScopeBringsItsSecrets(t *testing.T) {
	tm, carol := scopedTeam(t) // carol: root and app/staging, not app/prod
	if err := tm.admin.Grant("carol", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	rep := tm.sync(t, carol)
	if got := mGet(t, carol.v, "app/prod/DB"); got != "prod-db" {
		t.Fatalf("carol's app/prod/DB after the grant: %q, want prod-db", got)
	}
	if !slices.Equal(rep.ReadAgain, []string{"app/prod"}) || rep.Pulled != 1 {
		t.Fatalf("carol's sync: read again %v, pulled %d; want [app/prod], 1", rep.ReadAgain, rep.Pulled)
	}
	mSet(t, tm.admin.v, "app/prod/NEXT", "next")
	tm.sync(t, tm.admin)
	rep = tm.sync(t, carol)
	if len(rep.ReadAgain) > 0 || rep.Pulled != 1 || mGet(t, carol.v, "app/prod/NEXT") != "next" {
		t.Fatalf("carol's next sync: read again %v, pulled %d; want a plain pull of 1", rep.ReadAgain, rep.Pulled)
	}
}

// A scope given back after an ungrant: the member gets the current value
// of what changed while she was out, not her old copy, and what was added
// meanwhile.
func TestRegrantedScopeServesCurrentValues(t *testing.T) {
	tm, carol := scopedTeam(t)
	regrantOut(t, tm, carol, "app/staging")
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if got := mGet(t, carol.v, "app/staging/DB"); got != "staging-db-2" {
		t.Fatalf("carol's app/staging/DB given back: %q, want staging-db-2 (her copy from before the ungrant was served as current)", got)
	}
	if got := mGet(t, carol.v, "app/staging/NEW"); got != "new-while-out" {
		t.Fatalf("carol's app/staging/NEW: %q", got)
	}
	// She writes on the current version: no conflict anywhere.
	mSet(t, carol.v, "app/staging/DB", "by-carol")
	if rep := tm.sync(t, carol); rep.Pushed != 1 || len(rep.Conflicts) > 0 {
		t.Fatalf("carol's push: %+v", rep)
	}
	tm.sync(t, tm.admin)
	if got := mGet(t, tm.admin.v, "app/staging/DB"); got != "by-carol" {
		t.Fatalf("the admin's app/staging/DB: %q", got)
	}
}

// A change carol made to a secret of the scope while she was out of it
// meets the current version as a conflict: neither overwrites the other.
func TestRegrantedScopeLocalChangeConflicts(t *testing.T) {
	tm, carol := scopedTeam(t)
	regrantOut(t, tm, carol, "app/staging")
	mSet(t, carol.v, "app/staging/DB", "carol-while-out")
	tm.sync(t, carol) // stays here: she does not hold the scope
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	rep := tm.sync(t, carol)
	if !slices.Contains(rep.Conflicts, "app/staging/DB") {
		t.Fatalf("carol's sync: conflicts %v, want app/staging/DB", rep.Conflicts)
	}
	if got := mGet(t, carol.v, "app/staging/DB"); got != "carol-while-out" {
		t.Fatalf("carol's own change became %q", got)
	}
	var th *Theirs
	if err := carol.team(func(tt *Team) (err error) { th, err = tt.Theirs("app/staging/DB"); return err }); err != nil {
		t.Fatal(err)
	}
	if string(th.Value) != "staging-db-2" {
		t.Fatalf("the team's version kept beside carol's: %q", th.Value)
	}
	tm.sync(t, tm.admin)
	if got := mGet(t, tm.admin.v, "app/staging/DB"); got != "staging-db-2" {
		t.Fatalf("the admin's app/staging/DB: %q", got)
	}
}

// The root given back to a member who held only a folder scope.
func TestRootGrantedBackServesCurrentValues(t *testing.T) {
	tm, carol := scopedTeam(t)
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	mSet(t, tm.admin.v, "app/alpha", "alpha-2")
	mSet(t, tm.admin.v, "app/gamma", "gamma-1")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if err := tm.admin.Grant("carol", "/", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	rep := tm.sync(t, carol)
	for name, want := range map[string]string{"app/alpha": "alpha-2", "app/gamma": "gamma-1", "app/beta": "beta-1"} {
		if got := mGet(t, carol.v, name); got != want {
			t.Fatalf("carol's %s: %q, want %q", name, got, want)
		}
	}
	if !slices.Equal(rep.ReadAgain, []string{"/"}) {
		t.Fatalf("carol's sync read again %v, want [/]", rep.ReadAgain)
	}
}

// A server that withholds the scope's records on the read from the start,
// or ends that read before the cursor the device verified, is refused;
// nothing of it is applied, and the honest read after brings them.
func TestMaliciousRegrantReadWithheld(t *testing.T) {
	tm, carol := scopedTeam(t)
	// The last entry carol verified is of a scope she does not hold
	// (app/qa, carved for bob): she checked its place in the chain, not
	// its signature.
	if err := tm.admin.Grant("bob", "app/qa", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("carol", "app/qa"); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/qa/X", "qa")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if err := tm.admin.Grant("carol", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	team := tm.admin.st.Team
	prod := wire.ScopeID(tm.admin.st.NamesKey, team, "app/prod")
	qa := wire.ScopeID(tm.admin.st.NamesKey, team, "app/qa")
	floor := carol.st.Chain.Pos
	lies := []struct {
		name, want string
		lie        func(p *wire.ChainPage)
	}{
		{"withheld", "never sent", func(p *wire.ChainPage) {
			p.Records = slices.DeleteFunc(p.Records, func(r wire.Record) bool { return r.Scope == prod })
		}},
		{"empty", "this device has verified", func(p *wire.ChainPage) {
			p.Entries, p.Records, p.More, p.Head = nil, nil, false, wire.ChainCursor{}
		}},
		// Another history up to carol's cursor, through entries whose
		// signatures she does not check (the server's own making).
		{"replaced", "does not pass through the entry this device verified", func(p *wire.ChainPage) {
			for i := range p.Entries {
				if e := &p.Entries[i]; e.Pos == floor {
					if e.Scope != qa {
						t.Errorf("carol's last entry is not app/qa's")
					}
					e.SealedHash[0] ^= 1
				}
			}
			p.More, p.Head = false, p.Entries[len(p.Entries)-1].Next(team)
		}},
	}
	for _, l := range lies {
		t.Run(l.name, func(t *testing.T) {
			at := carol.st.Chain
			tm.p.onAfter("GET /v2/chain", func(x *mExchange) {
				if x.Device == carol.id() && strings.Contains(x.Query, "after=0&") {
					rewrite(t, x, l.lie)
				}
			})
			before := mSecrets(t, carol.v)
			_, err := carol.Sync(mctx)
			tm.p.honest()
			mWantErr(t, err, l.want, nil)
			mSame(t, "carol's secrets", mSecrets(t, carol.v), before)
			if !carol.st.Chain.Equal(at) {
				t.Fatalf("carol's cursor moved from %d to %d", at.Pos, carol.st.Chain.Pos)
			}
		})
	}
	rep := tm.sync(t, carol)
	if mGet(t, carol.v, "app/prod/DB") != "prod-db" || !slices.Equal(rep.ReadAgain, []string{"app/prod"}) {
		t.Fatalf("the honest read after: read again %v", rep.ReadAgain)
	}
}

// A secret carol made, while she did not hold app/prod, under a name the
// scope already has: granted it, the team's secret meets hers as a
// conflict, and every device's sync goes on.
func TestGrantExistingScopeSameNameConflicts(t *testing.T) {
	tm, carol := scopedTeam(t)
	mSet(t, carol.v, "app/prod/DB", "carols-own")
	tm.sync(t, carol) // stays here: she does not hold app/prod
	if err := tm.admin.Grant("carol", "app/prod", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	rep := tm.sync(t, carol)
	if !slices.Contains(rep.Conflicts, "app/prod/DB") {
		t.Fatalf("carol's sync: conflicts %v, want app/prod/DB", rep.Conflicts)
	}
	var th *Theirs
	if err := carol.team(func(tt *Team) (err error) { th, err = tt.Theirs("app/prod/DB"); return err }); err != nil {
		t.Fatal(err)
	}
	if string(th.Value) != "prod-db" || mGet(t, carol.v, "app/prod/DB") != "carols-own" {
		t.Fatalf("carol's app/prod/DB: %q beside the team's %q", mGet(t, carol.v, "app/prod/DB"), th.Value)
	}
	for _, d := range []*mDev{tm.admin, tm.bob, carol} {
		tm.sync(t, d)
	}
	if got := mGet(t, tm.admin.v, "app/prod/DB"); got != "prod-db" {
		t.Fatalf("the admin's app/prod/DB: %q", got)
	}
}

// A state saved before the client kept HeldRead (nil) reads the chain
// from its start once: a member granted a scope before, whose records
// never came, gets them then.
func TestStateWithoutHeldReadReadsOnce(t *testing.T) {
	tm, carol := scopedTeam(t)
	if err := tm.admin.Grant("carol", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	// As a hush before the fix left her: the grant's sync done, no record.
	prod := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/prod")
	carol.st.HeldRead = append(carol.st.Members.HeldScopes(carol.id()), prod)
	if rep := tm.sync(t, carol); len(rep.ReadAgain) > 0 || rep.Pulled != 0 {
		t.Fatalf("carol's sync with app/prod read: %+v", rep)
	}
	carol.st.HeldRead = nil
	rep := tm.sync(t, carol)
	if got := mGet(t, carol.v, "app/prod/DB"); got != "prod-db" {
		t.Fatalf("carol's app/prod/DB: %q", got)
	}
	if !slices.Equal(rep.ReadAgain, []string{"/", "app/prod", "app/staging"}) || rep.Pulled != 1 {
		t.Fatalf("carol's sync: read again %v, pulled %d", rep.ReadAgain, rep.Pulled)
	}
	if rep := tm.sync(t, carol); len(rep.ReadAgain) > 0 {
		t.Fatalf("read again at the next sync too: %v", rep.ReadAgain)
	}
}

// A scope carved out of one a device holds (so it holds the new one too)
// had no entry before the carve's re-seal, which the device pulls as any
// change: no read from the start. (This one passes without the read from
// the start too: it holds the docs' word that a carve costs nothing.)
func TestCarvedScopeNeedsNoReadAgain(t *testing.T) {
	tm, carol := scopedTeam(t)
	mSet(t, tm.admin.v, "app/staging/db/PASSWORD", "nested")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if err := tm.admin.Grant("bob", "app/staging/db", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/staging/db/PASSWORD", "nested-2")
	tm.sync(t, tm.admin)
	rep := tm.sync(t, carol)
	if len(rep.ReadAgain) > 0 || mGet(t, carol.v, "app/staging/db/PASSWORD") != "nested-2" {
		t.Fatalf("carol's sync after the carve: read again %v, PASSWORD %q", rep.ReadAgain, mGet(t, carol.v, "app/staging/db/PASSWORD"))
	}
	// Bob, who did not hold app/staging, is granted the new scope: its
	// secret comes with the re-seal too.
	rep = tm.sync(t, tm.bob)
	if len(rep.ReadAgain) > 0 || mGet(t, tm.bob.v, "app/staging/db/PASSWORD") != "nested-2" {
		t.Fatalf("bob, granted the new scope: read again %v", rep.ReadAgain)
	}
}
