package client

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/vault"
)

// A push of several batches whose confirming pull is lost: every batch's
// entries were kept (each batch under a setting of its own, savePushed),
// so the next sync confirms all of them, also the one a teammate changed
// meanwhile, with no conflict; then the kept entries are forgotten.
func TestPushedKeptBatchByBatch(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	const n = 1100 // three batches of at most 500
	reqs := make([]vault.SetRequest, n)
	for i := range reqs {
		reqs[i] = vault.SetRequest{Name: fmt.Sprintf("app/K%04d", i), Value: []byte(fmt.Sprint("bob-", i))}
	}
	if _, err := bob.v.SetMany(reqs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	pushes := 0
	tm.p.onBefore("POST /v2/push", func(x *mExchange) bool {
		if x.Device == bob.id() {
			pushes++
		}
		return false
	})
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
		if x.Device != bob.id() || !strings.Contains(x.Query, "mine=") {
			return false
		}
		x.Status, x.Resp = http.StatusBadGateway, []byte(`{"error":"lost"}`)
		return true
	})
	if _, err := bob.Sync(mctx); err == nil {
		t.Fatal("bob's sync with its confirming pull lost: no error")
	}
	tm.p.honest()
	if pushes != 3 {
		t.Fatalf("bob's push took %d batches, want 3", pushes)
	}
	kept, err := bob.v.Replica().SyncStates(pushedKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 3 {
		t.Fatalf("bob keeps %d settings of what it pushed, want one per batch", len(kept))
	}
	tm.sync(t, admin)
	if v := mGet(t, admin.v, "app/K1099"); v != "bob-1099" {
		t.Fatalf("admin holds %s: bob's push did not land", v)
	}
	mSet(t, admin.v, "app/K0007", "admin-7")
	tm.sync(t, admin)

	rep := tm.sync(t, bob)
	if len(rep.Conflicts) != 0 || rep.Unconfirmed != 0 || rep.Pushed != n {
		t.Fatalf("bob's sync after the lost answer: pushed %d, unconfirmed %d, conflicts %v", rep.Pushed, rep.Unconfirmed, rep.Conflicts)
	}
	if v := mGet(t, bob.v, "app/K0007"); v != "admin-7" {
		t.Fatalf("bob holds %s, want the admin's change", v)
	}
	kept, err = bob.v.Replica().SyncStates(pushedKey)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || len(kept[pushedKey]) > 4 {
		t.Fatalf("after the confirming sync bob still keeps %d settings of what it pushed", len(kept))
	}
	tm.chainConverge(t, admin, bob)
}
