package client

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A conflict kept is checked again in full when it is used, and one older
// than what the device has seen is refused (outside attack attack25 #4): a vault not yet upgraded to record format
// 6 (unlocked only by a remembered key since) holds its sync bookkeeping
// unauthenticated, and a local writer could put there a genuine older
// record of the secret, whose value was revoked since (from the server's
// database, or an older copy of the vault). `hush get --theirs` showed it
// as the teammate's version and `resolve --keep theirs` took it. Here the
// older record is written through the vault's own API, as such an edit
// leaves it: both refuse it as local tampering, and nothing changes.
func TestConflictOlderThanSeenRefused(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	mSet(t, admin.v, "app/alpha", "admin-leaked")
	tm.sync(t, admin)
	mSet(t, bob.v, "app/alpha", "bob-2")
	if rep := tm.sync(t, bob); !slices.Contains(rep.Conflicts, "app/alpha") {
		t.Fatalf("bob's sync: %+v", rep)
	}
	alpha := secretID(t, admin, "app/alpha")
	id, _ := hex.DecodeString(alpha)
	mark := func() vault.SyncMark {
		t.Helper()
		ts, err := bob.v.Replica().TrackedByID([][]byte{id})
		if err != nil || len(ts) != 1 || ts[0].Mark == nil || ts[0].Mark.Theirs == nil {
			t.Fatalf("bob's conflict: %+v, %v", ts, err)
		}
		return *ts[0].Mark
	}
	old := mark().Theirs
	// The leaked value is rotated; bob's conflict now holds the new one.
	mSet(t, admin.v, "app/alpha", "admin-rotated")
	tm.sync(t, admin)
	tm.sync(t, bob)
	m := mark()
	if string(m.Theirs) == string(old) {
		t.Fatal("the newer version did not replace the conflict")
	}
	var th *Theirs
	if err := bob.team(func(tt *Team) (err error) { th, err = tt.Theirs("app/alpha"); return err }); err != nil || string(th.Value) != "admin-rotated" {
		t.Fatalf("the honest conflict: %v, %v", th, err)
	}

	// The kept record is checked in full again when shown or resolved, its
	// signature too (on the chain it was vouched for by its entry when it
	// came): one with a byte of its signature changed is refused.
	var rec wire.Record
	if err := json.Unmarshal(m.Theirs, &rec); err != nil {
		t.Fatal(err)
	}
	rec.Sig[0] ^= 1
	bad := m
	bad.Theirs, _ = json.Marshal(rec)
	if err := bob.v.Replica().PutMarks(map[string]vault.SyncMark{alpha: bad}); err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"get --theirs": bob.team(func(tt *Team) (err error) { _, err = tt.Theirs("app/alpha"); return err }),
		"resolve":      bob.Resolve(mctx, "app/alpha", KeepTheirs),
	} {
		if err == nil || !strings.Contains(err.Error(), "its signature does not check out") {
			t.Errorf("%s of a kept record with a bad signature: %v", what, err)
		}
	}

	m.Theirs = old
	if err := bob.v.Replica().PutMarks(map[string]vault.SyncMark{alpha: m}); err != nil {
		t.Fatal(err)
	}
	wantPlanted := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, vault.ErrTampered) || !strings.Contains(err.Error(), "app/alpha") || !strings.Contains(err.Error(), "restore the vault from a backup") {
			t.Errorf("%s of an older record kept as the conflict: %v", what, err)
		}
	}
	err := bob.team(func(tt *Team) (err error) { th, err = tt.Theirs("app/alpha"); return err })
	wantPlanted("get --theirs", err)
	wantPlanted("resolve --keep theirs", bob.Resolve(mctx, "app/alpha", KeepTheirs))
	if got := mGet(t, bob.v, "app/alpha"); got != "bob-2" {
		t.Fatalf("bob's value after the refused resolve: %q", got)
	}
}
