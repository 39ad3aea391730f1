package client

import (
	"fmt"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A sync writes the team state once per page it pulls (its cursor, so an
// interrupted first sync resumes) and once at the end: no more. Pages are
// counted on the wire (the proxy's GET /v2/chain, or /v1/changes), writes where the
// state is written.
func TestSyncWritesStateOncePerPagePlusOne(t *testing.T) {
	tm := newMTeam(t)
	n := 2*wire.MaxPullRecords + 7
	reqs := make([]vault.SetRequest, n)
	for i := range reqs {
		reqs[i] = vault.SetRequest{Name: fmt.Sprintf("bulk/K%05d", i), Value: []byte(fmt.Sprintf("value-%d", i))}
	}
	if _, err := tm.admin.v.SetMany(reqs, time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*mDev{tm.admin, tm.bob} {
		mark := tm.p.mark()
		var writes int
		var rep *Report
		err := d.team(func(tt *Team) (err error) {
			rep, err = tt.Sync(mctx)
			writes = tt.writes
			return err
		})
		if err != nil {
			t.Fatalf("%s's sync: %v", d.name, err)
		}
		pages := len(tm.p.sent(mark, "GET /v1/changes", d.id())) + len(tm.p.sent(mark, "GET /v2/chain", d.id()))
		if writes > pages+1 {
			t.Errorf("%s's sync wrote the team state %d times for %d page(s)", d.name, writes, pages)
		}
		t.Logf("%s: pulled %d, pushed %d, %d page(s), %d write(s)", d.name, rep.Pulled, rep.Pushed, pages, writes)
		if d == tm.bob && (rep.Pulled != n || pages < 3) {
			t.Fatalf("bob pulled %d of %d in %d page(s)", rep.Pulled, n, pages)
		}
	}
}
