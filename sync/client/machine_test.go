package client

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// inviteMachine adds a machine through the admin's client.
func (tm *mTeam) inviteMachine(t testing.TB, name, role string, life time.Duration) *Token {
	t.Helper()
	var tok *Token
	if err := tm.admin.team(func(tt *Team) (err error) { tok, err = tt.InviteMachine(mctx, name, role, life); return err }); err != nil {
		t.Fatal(err)
	}
	return tok
}

// machineRead syncs a token into a fresh memory vault, as `HUSH_TOKEN=...
// hush get` does, with the machine's clock at now (zero: time.Now).
func machineRead(t testing.TB, tok *Token, now time.Time) (*vault.Vault, *Report, error) {
	t.Helper()
	v, err := vault.CreateMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	parsed, err := ParseToken(tok.String())
	if err != nil {
		t.Fatal(err)
	}
	tt, err := OpenToken(v, parsed)
	if err != nil {
		t.Fatal(err)
	}
	if !now.IsZero() {
		tt.SetClock(func() time.Time { return now })
	}
	rep, err := tt.Sync(mctx)
	return v, rep, err
}

func TestMachineReadsWithToken(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci-deploy", wire.RoleReader, 90*24*time.Hour)
	if tok.PinSeq != tm.admin.st.Members.Seq || !strings.HasPrefix(tok.String(), TokenPrefix) {
		t.Fatalf("token pins %d, log at %d", tok.PinSeq, tm.admin.st.Members.Seq)
	}
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if mGet(t, v, "app/alpha") != "alpha-1" || mGet(t, v, "app/beta") != "beta-1" {
		t.Fatal("the machine does not read the team's secrets")
	}

	// The members list shows it as a machine with its expiry; a second
	// machine of the same name, an admin machine, a non-admin: refused.
	ms, err := tm.admin.Members(mctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range ms {
		if m.Member == "ci-deploy" {
			found = m.Machine && m.Expires.Equal(tok.Expires) && m.Role == wire.RoleReader
		}
	}
	if !found {
		t.Fatalf("members: %+v", ms)
	}
	for _, c := range []struct {
		by               *mDev
		name, role, want string
	}{
		{tm.admin, "ci-deploy", wire.RoleReader, "already a member"},
		{tm.admin, "ci-2", wire.RoleAdmin, "reader or a writer"},
		{tm.bob, "ci-3", wire.RoleReader, "only an admin"},
	} {
		err := c.by.team(func(tt *Team) error { _, err := tt.InviteMachine(mctx, c.name, c.role, time.Hour); return err })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}

	// Expired by the machine's own clock: refused, whatever the server
	// (here an honest one, whose clock says not yet) answers.
	_, _, err = machineRead(t, tok, tok.Expires.Add(time.Second))
	var me *MachineExpiredError
	if !errors.As(err, &me) || !errors.Is(err, wire.ErrMachineExpired) {
		t.Fatalf("expired machine: %v", err)
	}

	// Removed: the server refuses it at once, a new key epoch begins.
	if _, err := tm.admin.Remove(mctx, "ci-deploy"); err != nil {
		t.Fatal(err)
	}
	_, _, err = machineRead(t, tok, time.Time{})
	if !UnknownDevice(err) {
		t.Fatalf("removed machine: %v", err)
	}
}

// A writer machine's records are applied by teammates until its expiry
// (by their clock), then skipped: never applied, and the sync goes on.
func TestExpiredMachineRecordsSkipped(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci-writer", wire.RoleWriter, time.Hour)
	machineWrites(t, tok, "app/gamma", "from-ci")
	var rep *Report
	if err := tm.bob.team(func(tt *Team) (err error) {
		tt.SetClock(func() time.Time { return tok.Expires.Add(time.Minute) })
		rep, err = tt.Sync(mctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Said as what it is (attack22 E1: it read "sealed under an old team
	// key", which sent people to the wrong remedy).
	if rep.ByExpired != 1 || rep.Skipped != 0 || !slices.Equal(rep.ExpiredMachines, []string{"ci-writer"}) {
		t.Fatalf("bob's sync after the machine expired: %+v", rep)
	}
	if _, err := tm.bob.v.Get("app/gamma"); err == nil {
		t.Fatal("a record of an expired machine was applied")
	}
	rep = tm.sync(t, tm.admin)
	if _, err := tm.admin.v.Get("app/gamma"); err != nil {
		t.Fatalf("before the expiry the machine's record is applied: %v (%+v)", err, rep)
	}
}

// An admin's device vouches for what a writer machine wrote last before
// the machine's access ends (attack22 E1): its sync pushes the secret
// again, signed by itself, with the content it applied; a device or a
// token that reads after the expiry takes that version instead of
// skipping the machine's. Once: the next sync vouches for nothing.
func TestAdminVouchesForExpiringMachine(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci-writer", wire.RoleWriter, time.Hour)
	reader := tm.inviteMachine(t, "ci-deploy", wire.RoleReader, 90*24*time.Hour)
	machineWrites(t, tok, "app/gamma", "from-ci")
	if rep := tm.sync(t, tm.admin); rep.Vouched != 1 {
		t.Fatalf("the admin's sync vouched for %d secret(s), want 1: %+v", rep.Vouched, rep)
	}
	if rep := tm.sync(t, tm.admin); rep.Vouched != 0 {
		t.Fatalf("the admin's next sync vouched again: %+v", rep)
	}
	after := tok.Expires.Add(time.Minute)
	var rep *Report
	if err := tm.bob.team(func(tt *Team) (err error) {
		tt.SetClock(func() time.Time { return after })
		rep, err = tt.Sync(mctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if rep.ByExpired != 0 || mGet(t, tm.bob.v, "app/gamma") != "from-ci" {
		t.Fatalf("bob after the machine expired: %+v", rep)
	}
	rv, rrep, err := machineRead(t, reader, after)
	if err != nil || mGet(t, rv, "app/gamma") != "from-ci" || rrep.ByExpired != 0 {
		t.Fatalf("a token's read after the machine expired: %v, %+v", err, rrep)
	}
}

// machineWrites sets name to value with writer machine tok, and pushes it
// (a writer machine's vault is its memory vault).
func machineWrites(t *testing.T, tok *Token, name, value string) {
	t.Helper()
	v, _, err := machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	mSet(t, v, name, value)
	tt, err := OpenToken(mustMemory(t), tok)
	if err != nil {
		t.Fatal(err)
	}
	tt.v = v
	tt.st.Keys = nil // fetched again
	if _, err := tt.Sync(mctx); err != nil {
		t.Fatal(err)
	}
}

func mustMemory(t testing.TB) *vault.Vault {
	v, err := vault.CreateMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// A key an admin wrapped stays good after she is made a writer (no new
// epoch: she keeps the root): a machine token she made, which fetches
// its key afresh at every read, goes on reading (attack22 C2: it was
// refused as "not signed by an admin of the team" until a rotation). A
// new epoch's key wrapped by someone who was never an admin is still
// refused (TestMaliciousVaultInjection).
func TestMachineOfDemotedAdminReads(t *testing.T) {
	tm := newMTeam(t)
	carol := tm.add(t, "carol", wire.RoleAdmin)
	tm.sync(t, carol)
	var tok *Token
	if err := carol.team(func(tt *Team) (err error) {
		tok, err = tt.InviteMachine(mctx, "ci-carol", wire.RoleReader, time.Hour)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if v, _, err := machineRead(t, tok, time.Time{}); err != nil || mGet(t, v, "app/alpha") != "alpha-1" {
		t.Fatalf("before: %v", err)
	}
	if err := tm.admin.SetRole(mctx, "carol", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if v, _, err := machineRead(t, tok, time.Time{}); err != nil || mGet(t, v, "app/alpha") != "alpha-1" {
		t.Fatalf("the token carol made, after she was made a writer: %v", err)
	}
}

// A removal made before a new key epoch is sealed again under the new key
// with the live secrets (attack23 T1): a token, which reads every record
// afresh, finds every record readable, not a tombstone under the old key
// it would warn about at every read for good.
func TestRemovalSealedAgainAfterNewEpoch(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci", wire.RoleReader, time.Hour)
	if err := tm.admin.v.Remove("app/alpha"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	if _, err := tm.admin.Rotate(mctx); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	v, rep, err := machineRead(t, tok, time.Time{})
	if err != nil || rep.Skipped != 0 {
		t.Fatalf("the token's read after the new epoch: %v, %+v", err, rep)
	}
	if _, ok := mSecrets(t, v)["app/alpha"]; ok {
		t.Fatal("the removed secret is served")
	}
	tm.sync(t, tm.bob)
	if _, err := tm.bob.v.Get("app/alpha"); err == nil {
		t.Fatal("bob has the removed secret")
	}
}
