package client

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// A sync writes the vault in several transactions, with the server's
// answers between them: the pulled records, what its push sent (kept
// the moment the server answers), the state. Its audit entry goes in
// after the last of them, as a change of its own that the vault's anchor
// names, so a copy of the vault taken between two of them (here, while
// the server holds the push's answer), put back under the log, went back
// in time (outside attack attack24 F4: the entry rode the first
// transaction, and the copy passed every check). `hush sync`'s own entry
// is that one, written once.
func TestSyncEntryCountsEveryChange(t *testing.T) {
	tm := newMTeam(t)
	mSet(t, tm.admin.v, "app/alpha", "alpha-2")
	tm.sync(t, tm.admin)
	mSet(t, tm.bob.v, "app/gamma", "from-bob") // bob's sync pushes it
	path := tm.bob.v.Path()
	mid := path + ".mid"
	copied := false
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		if x.Device == tm.bob.st.Device.ID && !copied {
			// Nothing writes bob's vault while he waits for the answer.
			copyVault(t, path, mid)
			copied = true
		}
		return false
	})
	was, err := tm.bob.v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	var rep *Report
	err = tm.bob.team(func(tt *Team) (err error) {
		tm.bob.v.IntendRead("sync", nil) // as `hush sync` does (session.Audited)
		rep, err = tt.Sync(context.Background())
		return err
	})
	tm.p.honest()
	if err != nil || rep.Pushed != 1 || !copied {
		t.Fatalf("bob's sync: %+v, %v (copied: %v)", rep, err, copied)
	}
	if err := tm.bob.v.Record("sync", nil, nil); err != nil {
		t.Fatal(err)
	}
	es, err := tm.bob.v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	syncs := 0
	for _, e := range es[len(was):] {
		if e.Action == "sync" {
			syncs++
		}
	}
	if last := es[len(es)-1]; syncs != 1 || len(es) != len(was)+1 || last.Action != "sync" {
		t.Fatalf("bob's log after one sync: %d new entries, %d of the sync, the last one %+v", len(es)-len(was), syncs, last)
	}
	if got := mGet(t, tm.bob.v, "app/alpha"); got != "alpha-2" {
		t.Fatalf("bob's sync did not apply the admin's change: %q", got)
	}
	tm.bob.v.Close()
	copyVault(t, mid, path)
	v, err := vault.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock([]byte("correct horse battery")); err != nil {
		t.Fatal(err)
	}
	v.IntendRead("get", []string{"app/alpha"}) // as `hush get` does
	if s, err := v.Get("app/alpha"); err == nil || !strings.Contains(err.Error(), "went back in time") {
		t.Fatalf("the vault from the middle of bob's sync was accepted under its log (app/alpha: %v, %v)", s != nil, err)
	}
}

// copyVault copies a vault file and its -wal (when there is one), as a
// process of the user can while nothing writes it.
func copyVault(t *testing.T, from, to string) {
	t.Helper()
	for _, sfx := range []string{"", "-wal"} {
		b, err := os.ReadFile(from + sfx)
		if os.IsNotExist(err) && sfx != "" {
			os.Remove(to + sfx)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to+sfx, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.Remove(to + "-shm")
}
