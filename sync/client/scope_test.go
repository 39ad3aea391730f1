package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

func (d *mDev) Grant(name, folder, role string) error {
	_, err := d.granted(name, folder, role)
	return err
}

func (d *mDev) granted(name, folder, role string) (g *Granted, err error) {
	err = d.team(func(t *Team) error { g, err = t.Grant(mctx, name, folder, role); return err })
	return g, err
}

// Ungrant returns how many secrets it marked to be rotated.
func (d *mDev) Ungrant(name, folder string) (int, error) {
	u, err := d.ungranted(name, folder)
	if u == nil {
		return 0, err
	}
	return u.Marked, err
}

func (d *mDev) ungranted(name, folder string) (u *Ungranted, err error) {
	err = d.team(func(t *Team) error { u, err = t.Ungrant(mctx, name, folder); return err })
	return u, err
}

// holders is scope folder → "member:role,…" as a device's Scopes shows.
func holders(t testing.TB, d *mDev) map[string]string {
	t.Helper()
	ss, err := d.st.Scopes()
	if err != nil {
		t.Fatalf("%s's scopes: %v", d.name, err)
	}
	out := map[string]string{}
	for _, s := range ss {
		var hs []string
		for _, h := range s.Holders {
			hs = append(hs, h.Member+":"+h.Role)
		}
		out[s.Folder] = strings.Join(hs, ",")
	}
	return out
}

func wantHolders(t testing.TB, d *mDev, want map[string]string) {
	t.Helper()
	got := holders(t, d)
	if len(got) != len(want) {
		t.Fatalf("%s sees scopes %v, want %v", d.name, got, want)
	}
	for f, h := range want {
		if got[f] != h {
			t.Fatalf("%s sees scopes %v, want %v", d.name, got, want)
		}
	}
}

// A grant and an ungrant through the real server: the scope's key reaches
// exactly its holders' devices, checked against the signed log; an
// ungrant starts a new epoch of that scope only and marks its secrets
// (and no other) to be rotated.
func TestGrantUngrantScope(t *testing.T) {
	tm := newMTeam(t) // admin, bob (writer)
	carol := tm.add(t, "carol", wire.RoleReader)
	mSet(t, tm.admin.v, "app/staging/DB", "staging-db")
	tm.sync(t, tm.admin)
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	id := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging")
	for _, d := range []*mDev{bob(tm), carol} {
		tm.sync(t, d)
		if k := d.st.ScopeKeys[id]; k.Epoch != 1 || !bytes.Equal(k.Key, tm.admin.st.ScopeKeys[id].Key) {
			t.Fatalf("%s has key %+v of app/staging", d.name, k)
		}
		if !bytes.Equal(d.st.NamesKey, tm.admin.st.NamesKey) {
			t.Fatalf("%s has another names key", d.name)
		}
		// bob held the root, out of which app/staging was carved: he
		// holds it too, as the writer he is.
		wantHolders(t, d, map[string]string{"/": "admin:admin,bob:writer,carol:reader", "app/staging": "admin:admin,bob:writer,carol:writer"})
	}

	// Bad input: one clear refusal each, nothing sent.
	for _, c := range []struct {
		do   func() error
		want string
	}{
		{func() error { return tm.admin.Grant("carol", "/app//x", wire.RoleReader) }, "is not a valid folder name"},
		{func() error { return tm.admin.Grant("carol", "app/x", wire.RoleAdmin) }, "--role reader or writer"},
		{func() error { return tm.admin.Grant("admin", "app/x", wire.RoleReader) }, "admin is an admin: admins hold every scope"},
		{func() error { return tm.admin.Grant("nobody", "app/x", wire.RoleReader) }, `no member or device named "nobody"`},
		{func() error { return tm.admin.Grant("carol", "app/staging", wire.RoleWriter) }, "already holds scope"},
		{func() error { return carol.Grant("bob", "app/x", wire.RoleReader) }, "only an admin"},
		{func() error { _, err := tm.admin.Ungrant("admin", "app/staging"); return err }, "admins hold every scope (change their role first"},
		{func() error { _, err := tm.admin.Ungrant("carol", "app/prod"); return err }, "carol does not hold app/prod"},
	} {
		if err := c.do(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}

	mSet(t, tm.admin.v, "app/other", "other")
	tm.sync(t, tm.admin)
	n, err := tm.admin.Ungrant("bob", "app/staging")
	if err != nil || n != 1 {
		t.Fatalf("ungrant: %d marked, %v; want app/staging/DB alone", n, err)
	}
	if s, _ := tm.admin.v.Get("app/staging/DB"); s.Exposed == nil {
		t.Fatal("the scope's secret is not marked to be rotated")
	}
	if s, _ := tm.admin.v.Get("app/other"); s.Exposed != nil {
		t.Fatal("a secret outside the scope is marked to be rotated")
	}
	if tm.admin.st.Epoch != 1 || tm.admin.st.ScopeKeys[id].Epoch != 2 {
		t.Fatalf("after an ungrant: root epoch %d, scope epoch %d; want 1 and 2", tm.admin.st.Epoch, tm.admin.st.ScopeKeys[id].Epoch)
	}
	// Only the scope's secrets go up again, under its new key.
	if rep := tm.sync(t, tm.admin); rep.Pushed != 1 {
		t.Fatalf("after an ungrant of app/staging the admin pushed %d secrets, want its one", rep.Pushed)
	}
	tm.sync(t, carol)
	tm.sync(t, bob(tm))
	if carol.st.ScopeKeys[id].Epoch != 2 || !bytes.Equal(carol.st.ScopeKeys[id].Key, tm.admin.st.ScopeKeys[id].Key) {
		t.Fatal("carol did not get the scope's new key")
	}
	if _, ok := bob(tm).st.ScopeKeys[id]; ok {
		t.Fatal("bob keeps the key of a scope he lost")
	}
	if _, err := tm.admin.Ungrant("bob", "/"); err == nil || !strings.Contains(err.Error(), "holds only the root") {
		t.Fatalf("ungrant of the root from a member who holds nothing else: %v", err)
	}
	wantHolders(t, carol, map[string]string{"/": "admin:admin,bob:writer,carol:reader", "app/staging": "admin:admin,carol:writer"})

	// A removal starts a new epoch of every scope the member held.
	if _, err := tm.admin.Remove(mctx, "carol"); err != nil {
		t.Fatal(err)
	}
	if tm.admin.st.ScopeKeys[id].Epoch != 3 || tm.admin.st.Members.Scopes[id].Epoch != 3 {
		t.Fatalf("after carol's removal, app/staging is at epoch %d", tm.admin.st.Members.Scopes[id].Epoch)
	}
}

func bob(tm *mTeam) *mDev { return tm.bob }

// A team made before scopes has no names key: its first grant gives it
// one, with a new root epoch whose key grants carry it to every device.
func TestFirstGrantMigrates(t *testing.T) {
	tm := newMTeam(t)
	tm.admin.st.NamesKey, tm.bob.st.NamesKey = nil, nil
	if err := tm.admin.Grant("bob", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	if tm.admin.st.NamesKey == nil || tm.admin.st.Epoch != 2 {
		t.Fatalf("the first grant: names key %v, root epoch %d; want a key and epoch 2", tm.admin.st.NamesKey != nil, tm.admin.st.Epoch)
	}
	tm.sync(t, tm.bob)
	if !bytes.Equal(tm.bob.st.NamesKey, tm.admin.st.NamesKey) || tm.bob.st.Epoch != 2 {
		t.Fatal("bob did not get the names key with the new root key")
	}
	wantHolders(t, tm.bob, map[string]string{"/": "admin:admin,bob:writer", "app/prod": "admin:admin,bob:reader"})
	// The team's secrets went up again under the new root key and bob
	// still reads them.
	if mGet(t, tm.bob.v, "app/alpha") != "alpha-1" {
		t.Fatal("bob no longer reads the team's secrets")
	}
}

// The server sends a device only keys of scopes the verified log gives
// its member; a key the server slips in for a scope the device was not
// granted is refused by the client.
func TestScopeKeyNotGrantedRefused(t *testing.T) {
	tm := newMTeam(t)
	carol := tm.add(t, "carol", wire.RoleReader)
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("bob", "app/staging"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, carol)
	id := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging")
	// bob never held epoch 2: the server has no key of it for him, and
	// sends him none.
	tm.sync(t, tm.bob)
	if _, ok := tm.bob.st.ScopeKeys[id]; ok {
		t.Fatal("bob got a key of a scope he does not hold")
	}
	// A lying server hands bob carol's key of the scope, rewritten for
	// him and signed by the admin (as if the admin had wrapped it).
	k := carol.st.ScopeKeys[id]
	wk := wrapTo(t, tm.admin.st.Team, &tm.bob.st.Device, k.Epoch, k.Key, tm.admin.id(), tm.admin.st.SignSeed)
	wk.Scope = id
	wk.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(tm.admin.st.SignSeed), wire.WrappedKeySigned(tm.admin.st.Team, &wk))
	tm.p.onAfter("GET /v1/keys", func(x *mExchange) {
		if x.Device == tm.bob.id() {
			rewrite(t, x, func(ks *wire.Keys) { ks.Keys = append(ks.Keys, wk) })
		}
	})
	err := tm.bob.team(func(tt *Team) error {
		c, err := tt.verifyLog(mctx)
		if err != nil {
			return err
		}
		return tt.st.fetchScopeKeys(mctx, c)
	})
	if err == nil || !strings.Contains(err.Error(), "which the team's log does not grant it: refused") {
		t.Fatalf("a key of a scope bob was not granted: %v", err)
	}
	if _, ok := tm.bob.st.ScopeKeys[id]; ok {
		t.Fatal("bob kept the key")
	}
}

// A machine made with --scope app/prod holds only app/prod: its token
// says so, the server sends it only that scope's records and key, and
// its memory vault holds only those secrets.
func TestScopedMachineReadsItsScopeOnly(t *testing.T) {
	tm := newMTeam(t)
	mSet(t, tm.admin.v, "app/prod/DB", "prod-db")
	mSet(t, tm.admin.v, "app/prod/API", "prod-api")
	mSet(t, tm.admin.v, "app/staging/DB", "CANARY-staging-value")
	mSet(t, tm.admin.v, "CANARY-root-name", "CANARY-root-value")
	tm.sync(t, tm.admin)
	var tok *Token
	if err := tm.admin.team(func(tt *Team) (err error) {
		tok, err = tt.InviteMachineScoped(mctx, "ci-deploy", wire.RoleReader, time.Hour, []string{"app/prod"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseToken(tok.String())
	if err != nil || len(parsed.Scopes) != 1 || parsed.Scopes[0] != "app/prod" {
		t.Fatalf("the token's scopes: %v, %v", parsed, err)
	}
	tm.sync(t, tm.admin) // the secrets under app/prod go up again, sealed into it
	mark := tm.p.mark()
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	got := mSecrets(t, v)
	if len(got) != 2 || !strings.HasPrefix(got["app/prod/DB"], "prod-db") || !strings.HasPrefix(got["app/prod/API"], "prod-api") {
		t.Fatalf("the machine holds %v, want app/prod's two secrets alone", got)
	}
	// The server sent it no record of another scope.
	id := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/prod")
	n := 0
	pulls := tm.p.sent(mark, "GET /v2/chain", parsed.Device)
	if len(pulls) != 1 {
		t.Fatalf("the machine asked for the chain %d times, want once (one round trip for its records)", len(pulls))
	}
	for _, x := range pulls {
		var pg wire.ChainPage
		if err := json.Unmarshal(x.Resp, &pg); err != nil {
			t.Fatal(err)
		}
		// Nor an entry of another scope: it reads its scope's own chain.
		for _, e := range pg.Entries {
			if e.Scope != id {
				t.Fatalf("the server sent the machine entry %d of scope %q", e.Pos, e.Scope)
			}
		}
		for _, r := range pg.Records {
			if r.Scope != id {
				t.Fatalf("the server sent the machine record %s of scope %q", r.ID, r.Scope)
			}
			n++
		}
	}
	if n != 2 {
		t.Fatalf("the machine got %d records, want 2", n)
	}
	// Bob, who holds the root, still reads everything.
	tm.sync(t, tm.bob)
	if mGet(t, tm.bob.v, "app/prod/DB") != "prod-db" || mGet(t, tm.bob.v, "app/staging/DB") != "CANARY-staging-value" {
		t.Fatal("bob no longer reads the team")
	}
}

func TestInScopes(t *testing.T) {
	scopes := []string{"app/prod", "ci"}
	for _, c := range []struct {
		name   string
		folder bool
		ok     bool
	}{
		{"app/prod/DB", false, true},
		{"app/prod/x/y", false, true},
		{"ci/TOKEN", false, true},
		{"app/prod", false, true},
		{"app/prod2/DB", false, false},
		{"app/staging/DB", false, false},
		{"TOP", false, false},
		{"app", false, false},
		{"app", true, true},  // ls app: shows only app/prod
		{"app/", true, true}, // with the trailing slash
		{"", true, true},     // ls: the whole token
		{"app/staging", true, false},
		{"application", true, false},
	} {
		err := InScopes(scopes, c.name, c.folder)
		if (err == nil) != c.ok {
			t.Errorf("InScopes(%q, folder %v) = %v, want ok %v", c.name, c.folder, err, c.ok)
		}
		if err != nil && (!errors.Is(err, ErrOutOfScope) || err.Error() != "not in this token's scopes: app/prod, ci only") {
			t.Errorf("InScopes(%q): %q", c.name, err)
		}
	}
	if InScopes(nil, "anything", false) != nil {
		t.Error("a token without scopes refused a name")
	}
}

// A member who lost the root keeps writing the scopes she may write; a
// local change outside them stays on her device, said in the report, and
// does not stop the rest.
func TestLocalChangeOutsideScopesStays(t *testing.T) {
	tm, carol := scopedTeam(t)
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if len(carol.st.Keys) != 0 {
		t.Fatal("carol keeps the root's key after losing the root")
	}
	mSet(t, carol.v, "TOP-LOCAL", "stays")
	mSet(t, carol.v, "app/staging/NEW", "goes")
	rep := tm.sync(t, carol)
	if rep.OutOfScope != 1 || rep.Pushed != 1 {
		t.Fatalf("carol's sync: %d out of scope, %d pushed; want 1 and 1", rep.OutOfScope, rep.Pushed)
	}
	tm.sync(t, tm.admin)
	if mGet(t, tm.admin.v, "app/staging/NEW") != "goes" {
		t.Fatal("the change in carol's scope did not reach the admin")
	}
	if _, err := tm.admin.v.Get("TOP-LOCAL"); err == nil {
		t.Fatal("a change outside carol's scopes reached the team")
	}
}

// A contractor invited with --scope app/staging holds app/staging alone
// from the start: her device never gets the team key nor a record of
// another scope. A device approved later gets the key of every scope it
// holds: a new admin, all of them.
func TestInviteWithScopes(t *testing.T) {
	tm, _ := scopedTeam(t)
	inv, err := func() (inv *Invite, err error) {
		err = tm.admin.team(func(tt *Team) error {
			inv, err = tt.InviteScoped(mctx, wire.RoleWriter, "", time.Hour, []string{"app/staging"})
			return err
		})
		return inv, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	con := &mDev{name: "con", v: mVault(t)}
	if con.st, err = Join(mctx, con.v, inv, JoinOptions{Device: "con-laptop", Member: "con"}); err != nil {
		t.Fatal(err)
	}
	rep := tm.sync(t, tm.admin)
	if len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" {
		t.Fatalf("approving con: %+v", rep.Approvals)
	}
	tm.sync(t, con)
	if len(con.st.Keys) != 0 {
		t.Fatal("the contractor got the team key")
	}
	got := mSecrets(t, con.v)
	if len(got) != 1 || !strings.HasPrefix(got["app/staging/DB"], "staging-db") {
		t.Fatalf("the contractor holds %v, want app/staging/DB alone", got)
	}
	// A second admin, approved now, gets every scope's key.
	admin2 := tm.add(t, "admin2", wire.RoleAdmin)
	if len(admin2.st.ScopeKeys) != len(tm.admin.st.Members.Scopes) || len(admin2.st.Keys) != 1 {
		t.Fatalf("a new admin holds %d scope keys of %d", len(admin2.st.ScopeKeys), len(tm.admin.st.Members.Scopes))
	}
	if mGet(t, admin2.v, "app/prod/DB") != "prod-db" || mGet(t, admin2.v, "app/staging/DB") != "staging-db" {
		t.Fatal("the new admin does not read every scope")
	}
	// Bad input.
	err = tm.admin.team(func(tt *Team) error {
		_, err := tt.InviteScoped(mctx, wire.RoleAdmin, "", time.Hour, []string{"app/x"})
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "only a new member who is not an admin starts with scopes") {
		t.Fatalf("an admin invited with scopes: %v", err)
	}
}

// A member whose team role is reader, granted app/staging as a writer,
// pushes into app/staging through the real server: her role on a scope is
// the grant's, on the root her team role. Her change of a root secret
// stays on her device, and the sync says so; a client that sends it
// anyway is refused by the server.
func TestReaderWithWriterGrantPushesItsScope(t *testing.T) {
	tm := newMTeam(t)
	carol := tm.add(t, "carol", wire.RoleReader)
	mSet(t, tm.admin.v, "app/staging/DB", "staging-db")
	mSet(t, tm.admin.v, "TOP", "top")
	tm.sync(t, tm.admin)
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	mSet(t, carol.v, "app/staging/NEW", "carols")
	mSet(t, carol.v, "TOP", "carols-top")
	rep := tm.sync(t, carol)
	if rep.Pushed != 1 || rep.OutOfScope != 1 || rep.ReadOnly != 0 {
		t.Fatalf("carol's sync: %d pushed, %d kept back, %d read-only; want 1, 1, 0", rep.Pushed, rep.OutOfScope, rep.ReadOnly)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, bob(tm))
	for _, d := range []*mDev{tm.admin, bob(tm)} {
		if got := mGet(t, d.v, "app/staging/NEW"); got != "carols" {
			t.Fatalf("%s holds app/staging/NEW = %q, want carol's value", d.name, got)
		}
		if got := mGet(t, d.v, "TOP"); got != "top" {
			t.Fatalf("%s holds TOP = %q: a reader's root change reached the team", d.name, got)
		}
	}
	if got := mGet(t, carol.v, "TOP"); got != "carols-top" {
		t.Fatalf("carol's own change of TOP is gone: %q", got)
	}
	// The server refuses a root record from her, whatever her client
	// thinks (here: that the log made her a writer).
	carol.st.Role = wire.RoleWriter
	for _, sp := range carol.st.Members.Devices {
		if sp.Member == "carol" {
			for i := range sp.Roles {
				sp.Roles[i].Role = wire.RoleWriter
			}
		}
	}
	_, err := carol.Sync(mctx)
	mWantErr(t, err, "may not write record", nil)
	tm.sync(t, tm.admin)
	if got := mGet(t, tm.admin.v, "TOP"); got != "top" {
		t.Fatalf("the server took a reader's root record: TOP = %q", got)
	}
	// A reader with no writer grant is refused before anything else.
	dave := tm.add(t, "dave", wire.RoleReader)
	mSet(t, dave.v, "DAVE", "x")
	dave.st.Role = wire.RoleWriter
	for _, sp := range dave.st.Members.Devices {
		if sp.Member == "dave" {
			for i := range sp.Roles {
				sp.Roles[i].Role = wire.RoleWriter
			}
		}
	}
	_, err = dave.Sync(mctx)
	mWantErr(t, err, "a reader cannot change secrets", nil)
}

// An admin moves a secret out of carol's scope; carol, who keeps her
// stale copy, then removes it and makes another change in her scope. Her
// sync must not wedge on the server's conflict for a record it will never
// send her (attack17 F3): the change to the moved secret stays on her
// device, and is counted, and her other change reaches the team.
func TestMovedOutOfScopeDoesNotWedge(t *testing.T) {
	tm, carol := scopedTeam(t)
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/staging/TO_MOVE", "v1")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if mGet(t, carol.v, "app/staging/TO_MOVE") != "v1" {
		t.Fatal("carol did not get app/staging/TO_MOVE")
	}
	if _, err := tm.admin.v.Move("app/staging/TO_MOVE", "app/prod/TO_MOVE"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if err := carol.v.Remove("app/staging/TO_MOVE"); err != nil {
		t.Fatal(err)
	}
	mSet(t, carol.v, "app/staging/LEGIT", "goes")
	for i := range 2 { // and again: not once, for good
		rep, err := carol.Sync(context.Background())
		if err != nil {
			t.Fatalf("carol's sync %d: %v", i, err)
		}
		if rep.MovedAway != 1 {
			t.Fatalf("carol's sync %d: %d change(s) to records moved away, want 1", i, rep.MovedAway)
		}
	}
	// Her status says it stays, not that it waits to be pushed.
	if err := carol.team(func(tt *Team) error {
		n, err := tt.State().KeptHere(carol.v)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d change(s) kept here, want 1", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if mGet(t, tm.admin.v, "app/staging/LEGIT") != "goes" {
		t.Fatal("carol's change in her scope did not reach the admin")
	}
	if mGet(t, tm.admin.v, "app/prod/TO_MOVE") != "v1" {
		t.Fatal("the moved secret changed")
	}
}

// An ungrant of a folder takes everything below it (attack18 F3): carol,
// who held app/staging when the admin carved app/staging/db out of it for
// bob, held app/staging/db too; ungranted app/staging, she loses both,
// each with a new epoch and its secrets marked, and reads nothing new in
// either. The grant that made app/staging/db said who else held it.
func TestUngrantTakesScopesBelow(t *testing.T) {
	tm := newMTeam(t) // admin, bob (writer)
	carol := tm.add(t, "carol", wire.RoleReader)
	mSet(t, tm.admin.v, "app/staging/DB", "staging-db")
	mSet(t, tm.admin.v, "app/staging/db/PASSWORD", "nested-v1")
	mSet(t, tm.admin.v, "app/other", "other")
	tm.sync(t, tm.admin)
	if err := tm.admin.Grant("carol", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	g, err := tm.admin.granted("bob", "app/staging/db", wire.RoleWriter)
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for _, h := range g.Others {
		others = append(others, h.Member+":"+h.Role)
	}
	if !g.New || g.Parent != "app/staging" || strings.Join(others, ",") != "admin:admin,carol:writer" {
		t.Fatalf("the grant that made app/staging/db says %+v (others %v); want new, carved out of app/staging, also held by admin and carol", g, others)
	}
	if g, err := tm.admin.granted("bob", "app/staging/db", wire.RoleReader); err != nil || g.New || len(g.Others) > 0 || !g.Demoted {
		t.Fatalf("a grant of an existing scope says %+v, %v; want nothing new, bob demoted on it", g, err)
	}
	db := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging/db")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	// (Epoch 2: bob, made a reader of it, could write it; attack22 B1.)
	if mGet(t, carol.v, "app/staging/db/PASSWORD") != "nested-v1" || carol.st.ScopeKeys[db].Epoch != 2 {
		t.Fatal("carol, a holder of app/staging, does not hold app/staging/db carved out of it")
	}

	u, err := tm.admin.ungranted("carol", "app/staging")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(u.Folders, ",") != "app/staging,app/staging/db" || u.Marked != 2 || u.Due != 2 || u.Above != "" {
		t.Fatalf("ungrant of app/staging: %+v; want app/staging and app/staging/db taken, their 2 secrets marked", u)
	}
	for _, n := range []string{"app/staging/DB", "app/staging/db/PASSWORD"} {
		if s, _ := tm.admin.v.Get(n); s.Exposed == nil || s.Exposed.Reason == "" {
			t.Fatalf("%s is not marked to be rotated", n)
		}
	}
	if s, _ := tm.admin.v.Get("app/other"); s.Exposed != nil {
		t.Fatal("a secret outside the folder is marked to be rotated")
	}
	if e := tm.admin.st.Members.Scopes[db].Epoch; e != 3 || tm.admin.st.ScopeKeys[db].Epoch != 3 {
		t.Fatalf("app/staging/db is at epoch %d after the ungrant, want 3", e)
	}
	mSet(t, tm.admin.v, "app/staging/db/PASSWORD", "nested-v2-after-ungrant")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if mGet(t, carol.v, "app/staging/db/PASSWORD") != "nested-v1" {
		t.Fatal("carol reads a value written in app/staging/db after she was ungranted app/staging")
	}
	if _, ok := carol.st.ScopeKeys[db]; ok {
		t.Fatal("carol keeps the key of app/staging/db")
	}
	wantHolders(t, carol, map[string]string{"/": "admin:admin,bob:writer,carol:reader", "app/staging": "admin:admin,bob:writer", "app/staging/db": "admin:admin,bob:reader"})
	if _, err := tm.admin.Ungrant("carol", "app/staging"); err == nil || !strings.Contains(err.Error(), "carol does not hold app/staging") {
		t.Fatalf("a second ungrant: %v", err)
	}

	// A folder that is not a scope: the scopes below it go; its own names
	// are the root's, which bob still holds, and the answer says so.
	u, err = tm.admin.ungranted("bob", "app")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(u.Folders, ",") != "app/staging,app/staging/db" || u.Above != "/" || u.Marked != 1 || u.Due != 2 {
		t.Fatalf("ungrant of app from bob: %+v; want both scopes below it, the root above, 1 marked now of 2", u)
	}

	// The root is taken alone: the scopes below it stay, and are named.
	if err := tm.admin.Grant("carol", "app/prod", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	u, err = tm.admin.ungranted("carol", "/")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(u.Folders, ",") != "/" || strings.Join(u.Kept, ",") != "app/prod" {
		t.Fatalf("ungrant of / from carol: %+v; want the root alone, app/prod kept", u)
	}

	// A secret's own name is no folder (attack18 F5).
	if err := tm.admin.Grant("carol", "app/other", wire.RoleReader); err == nil || !strings.Contains(err.Error(), "app/other is a secret, not a folder: the folder it is in is app") {
		t.Fatalf("grant of a secret's name: %v", err)
	}
	if err := tm.admin.Grant("carol", "app/staging/db/PASSWORD", wire.RoleReader); err == nil || !strings.Contains(err.Error(), "is a secret, not a folder") {
		t.Fatalf("grant of a secret's name: %v", err)
	}

	// The second of two ungrants fails: the first stands, and the error
	// says to run the command again, which takes the rest.
	if err := tm.admin.Grant("carol", "svc", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if err := tm.admin.Grant("bob", "svc/db", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	posts := 0
	tm.p.onBefore("POST /v1/log", func(x *mExchange) bool {
		if posts++; posts < 2 {
			return false
		}
		x.Status, x.Resp = http.StatusInternalServerError, []byte(`{"error":"the store is down"}`)
		return true
	})
	u, err = tm.admin.ungranted("carol", "svc")
	tm.p.honest()
	if err == nil || !strings.Contains(err.Error(), "taking svc/db failed (run `hush team ungrant carol svc` again)") || strings.Join(u.Folders, ",") != "svc" {
		t.Fatalf("an ungrant whose second entry fails: %+v, %v", u, err)
	}
	if u, err = tm.admin.ungranted("carol", "svc"); err != nil || strings.Join(u.Folders, ",") != "svc/db" {
		t.Fatalf("the ungrant again: %+v, %v; want svc/db, the rest", u, err)
	}

	// A removal when everything bob could read was marked already says
	// how many are due, not only "0 marked" (attack18 F5).
	rm, err := tm.admin.Remove(mctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if rm.Exposed != 0 || rm.Due != 5 {
		t.Fatalf("removal of bob: %d marked now, %d due; want 0 and all 5", rm.Exposed, rm.Due)
	}
}

// A member made an admin holds every scope, and gets their keys: each
// scope she did not hold gets a new epoch wrapped to her devices too, its
// secrets sealed again (outside attack attack20 H6: she was listed as
// holding them and read nothing of them).
func TestPromotedAdminGetsEveryScope(t *testing.T) {
	tm, _ := scopedTeam(t) // bob holds the root and app/prod, not app/staging
	if _, err := tm.bob.v.Get("app/staging/DB"); err == nil {
		t.Fatal("bob holds app/staging/DB before his promotion")
	}
	if err := tm.admin.SetRole(mctx, "bob", wire.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin) // app/staging's secrets go up under its new key
	tm.sync(t, tm.bob)
	if got := mGet(t, tm.bob.v, "app/staging/DB"); got != "staging-db" {
		t.Fatalf("bob, now an admin, reads app/staging/DB as %q", got)
	}
	// And he can grant it on (an admin's commands need the scope's key).
	if err := tm.bob.Grant("carol", "app/prod", wire.RoleReader); err != nil {
		t.Fatalf("bob's grant: %v", err)
	}
	// One who held folder scopes alone gets the root too (attack21 N2).
	carol := tm.add(t, "dora", wire.RoleWriter)
	if err := tm.admin.Grant("dora", "app/staging", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.admin.Ungrant("dora", "/"); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "ROOT-NEW", "root-new") // written at the root after dora lost it
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if _, err := carol.v.Get("ROOT-NEW"); err == nil {
		t.Fatal("dora reads the root before her promotion")
	}
	if err := tm.admin.SetRole(mctx, "dora", wire.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	if got := mGet(t, carol.v, "ROOT-NEW"); got != "root-new" {
		t.Fatalf("dora, now an admin, reads the root's ROOT-NEW as %q", got)
	}
	if got := mGet(t, carol.v, "app/prod/DB"); got != "prod-db" {
		t.Fatalf("dora, now an admin, reads app/prod/DB as %q", got)
	}
}

// An admin made a writer again keeps only the folder scopes granted to
// him: each other one he held as an admin gets a new epoch without him,
// and its secrets are marked to be rotated (attack21 N3).
func TestDemotedAdminLosesScopes(t *testing.T) {
	tm, _ := scopedTeam(t) // bob: the root and app/prod, not app/staging
	if err := tm.admin.SetRole(mctx, "bob", wire.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, tm.bob)
	if mGet(t, tm.bob.v, "app/staging/DB") != "staging-db" {
		t.Fatal("bob, an admin, does not read app/staging")
	}
	staging := wire.ScopeID(tm.admin.st.NamesKey, tm.admin.st.Team, "app/staging")
	before, _ := tm.admin.st.Members.ScopeEpoch(staging)
	if err := tm.admin.SetRole(mctx, "bob", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if after, _ := tm.admin.st.Members.ScopeEpoch(staging); after != before+1 {
		t.Fatalf("app/staging's epoch went from %d to %d, want a new one", before, after)
	}
	sec, err := tm.admin.v.Get("app/staging/DB")
	if err != nil || sec.Meta.Exposed == nil {
		t.Fatalf("app/staging/DB is not marked to be rotated: %+v, %v", sec.Meta.Exposed, err)
	}
	mSet(t, tm.admin.v, "app/staging/NEW", "after-bob")
	tm.sync(t, tm.admin)
	tm.sync(t, tm.bob)
	if _, err := tm.bob.v.Get("app/staging/NEW"); err == nil {
		t.Fatal("bob, no longer an admin, reads what is written in app/staging after")
	}
	if mGet(t, tm.bob.v, "app/prod/DB") != "prod-db" {
		t.Fatal("bob lost app/prod, granted to him")
	}
}
