package client

import (
	"errors"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// A purge by a member who holds app/staging and not the root: its removal
// goes in app/staging (it went for the root, which her device cannot
// seal, and her sync failed as "waiting for an approval"), reaches the
// admin, and the purged name kept for it in the sealed team state is
// gone once the team took it. A purge of a name she may not write stays
// on her device: nothing is sent, and nothing waits.
func TestPurgeGoesInItsScope(t *testing.T) {
	tm, carol := scopedTeam(t)
	if _, err := tm.admin.Ungrant("carol", "/"); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/staging/GONE", "gone")
	tm.sync(t, tm.admin)
	tm.sync(t, carol)
	var local []string
	err := carol.team(func(tt *Team) (err error) { local, err = tt.Purge([]string{"app/staging/GONE"}); return err })
	if err != nil || len(local) != 0 {
		t.Fatalf("purge: %v, %v", local, err)
	}
	if !slices.Contains(mapValues(carol.st.Purged), "app/staging/GONE") {
		t.Fatalf("the purged name is not kept for its removal: %v", carol.st.Purged)
	}
	if _, err := carol.Sync(mctx); err != nil {
		t.Fatalf("carol's sync after a purge: %v", err)
	}
	if len(carol.st.Purged) != 0 {
		t.Fatalf("the purged name stays in the team state after the team took its removal: %v", carol.st.Purged)
	}
	tm.sync(t, tm.admin)
	if _, err := tm.admin.v.Get("app/staging/GONE"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("the admin still has the purged secret: %v", err)
	}

	// Ungranted app/staging, her copy of app/staging/DB is an old one:
	// purged here only, nothing sent, nothing left waiting.
	if _, err := tm.admin.Ungrant("carol", "app/staging"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, carol)
	err = carol.team(func(tt *Team) (err error) { local, err = tt.Purge([]string{"app/staging/DB"}); return err })
	if err != nil || !slices.Equal(local, []string{"app/staging/DB"}) {
		t.Fatalf("purge of an old copy: %v, %v; want it local", local, err)
	}
	rep, err := carol.Sync(mctx)
	if err != nil || rep.OutOfScope != 0 || rep.Pushed != 0 {
		t.Fatalf("carol's sync after a local purge: %+v, %v", rep, err)
	}
	if n, err := carol.st.KeptHere(carol.v); err != nil || n != 0 {
		t.Fatalf("changes kept here: %d, %v", n, err)
	}
	tm.sync(t, tm.admin)
	if mGet(t, tm.admin.v, "app/staging/DB") != "staging-db" {
		t.Fatal("a local purge reached the team")
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
