package storetest

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// The change chain: a push extends it only at its head, all or nothing.

func newChainedTeam(t *testing.T, s store.Store) team {
	t.Helper()
	tm := team{id: wire.NewID(), admin: newDevice("admin")}
	if err := s.CreateChainedTeam(t.Context(), tm.id, "team "+tm.id[:6], tm.admin, nil, t0); err != nil {
		t.Fatalf("CreateChainedTeam: %v", err)
	}
	return tm
}

// chainOf builds the entries that extend prev with recs (unsigned: the
// store does not check signatures, the server does).
func chainOf(team string, prev wire.ChainCursor, recs []wire.Record) (*store.ChainAppend, wire.ChainCursor) {
	return chainOfPush(team, prev, recs, false)
}

// chainOfPush is chainOf, with push marks on every entry when marked.
func chainOfPush(team string, prev wire.ChainCursor, recs []wire.Record, marked bool) (*store.ChainAppend, wire.ChainCursor) {
	a := &store.ChainAppend{Prev: prev, Records: recs}
	at := prev
	for i := range recs {
		e := wire.NextEntry(at, &recs[i], t0)
		if marked {
			e.InPush(prev, len(recs))
		}
		e.Author, e.Sig = recs[i].Author, make([]byte, 64)
		b, _ := json.Marshal(&e)
		h := e.Hash(team)
		a.Entries = append(a.Entries, store.ChainStored{Pos: e.Pos, JSON: b, Hash: h})
		at = wire.ChainCursor{Pos: e.Pos, Hash: h}
	}
	return a, at
}

func chainPush(t *testing.T, s store.Store, team string, a *store.ChainAppend, want string) *store.ChainResult {
	t.Helper()
	res, err := s.ChainPush(t.Context(), team, a)
	if err != nil {
		t.Fatalf("ChainPush: %v", err)
	}
	if res.Status != want {
		t.Fatalf("ChainPush: status %q, want %q (head %d)", res.Status, want, res.Head.Pos)
	}
	return res
}

func testChainPush(t *testing.T, s store.Store) {
	tm := newChainedTeam(t, s)
	a1, b1 := wire.NewID(), wire.NewID()
	recs := []wire.Record{newRecord(a1, 1, tm.admin.ID), newRecord(b1, 1, tm.admin.ID)}
	app, head := chainOf(tm.id, wire.ChainCursor{}, recs)
	res := chainPush(t, s, tm.id, app, wire.PushOK)
	if !res.Head.Equal(head) || res.Seq != 2 {
		t.Fatalf("head %+v seq %d, want %+v seq 2", res.Head, res.Seq, head)
	}
	// The same head again: behind, nothing taken.
	again, _ := chainOf(tm.id, wire.ChainCursor{}, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
	chainPush(t, s, tm.id, again, wire.ChainBehind)
	// The right head, a wrong hash: behind.
	wrong, _ := chainOf(tm.id, wire.ChainCursor{Pos: 2, Hash: make([]byte, 32)}, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
	chainPush(t, s, tm.id, wrong, wire.ChainBehind)
	// A version that does not follow: conflict, nothing taken (not even
	// the record that would have applied).
	c, _ := chainOf(tm.id, head, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID), newRecord(a1, 3, tm.admin.ID)})
	if res := chainPush(t, s, tm.id, c, wire.PushConflict); len(res.Conflicts) != 1 || res.Conflicts[0] != a1 {
		t.Fatalf("conflicts %v, want [%s]", res.Conflicts, a1)
	}
	// An old epoch: stale.
	old := newRecord(a1, 2, tm.admin.ID)
	old.Epoch = 7
	st, _ := chainOf(tm.id, head, []wire.Record{old})
	chainPush(t, s, tm.id, st, wire.PushStale)
	if got := all(t, s, tm.id); len(got.Records) != 2 || got.Head != 2 {
		t.Fatalf("after refused pushes: %d records, head %d", len(got.Records), got.Head)
	}
	// A v1 push into a chained team is refused whole.
	_, _, err := s.Push(t.Context(), tm.id, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
	wantErr(t, "v1 Push into a chained team", err, store.ErrChained)

	// The next version, on the head: taken; the page shows the entries and,
	// for each record, only its newest version.
	next, head2 := chainOf(tm.id, head, []wire.Record{newRecord(a1, 2, tm.admin.ID)})
	chainPush(t, s, tm.id, next, wire.PushOK)
	p, err := s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Started || p.More || len(p.Entries) != 3 || !p.Head.Equal(head2) || len(p.Records) != 2 {
		t.Fatalf("page: started %v more %v, %d entries, %d records, head %d", p.Started, p.More, len(p.Entries), len(p.Records), p.Head.Pos)
	}
	var cr wire.ChainRecords
	if err := cr.Page(p.Entries, p.Records); err != nil {
		t.Fatal(err)
	}
	if err := cr.Done(); err != nil {
		t.Fatal(err)
	}
	// Paging: one entry at a time, a record comes with its newest entry.
	got := map[string]int64{}
	for after := int64(0); ; {
		p, err := s.Chain(t.Context(), tm.id, after, 1)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) == 0 {
			break
		}
		for _, r := range p.Records {
			got[r.ID] = r.Version
			if r.ID == a1 && p.Entries[0].Pos != 3 {
				t.Fatalf("record %s came with entry %d, want with its newest (3)", r.ID, p.Entries[0].Pos)
			}
		}
		after = p.Entries[len(p.Entries)-1].Pos
		if p.More != (after < 3) {
			t.Fatalf("after %d: more %v", after, p.More)
		}
	}
	if got[a1] != 2 || got[b1] != 1 {
		t.Fatalf("paged records %v", got)
	}
	// The device that pushed asks without the records it wrote from a
	// position on: their entries come, they do not.
	if p, err := s.ChainOmitting(t.Context(), tm.id, 0, 1000, tm.admin.ID, 3); err != nil || len(p.Entries) != 3 || len(p.Records) != 1 || p.Records[0].ID != b1 {
		t.Fatalf("omitting the admin's records from 3: %+v %v", p, err)
	}
	if p, err := s.ChainOmitting(t.Context(), tm.id, 0, 1000, tm.admin.ID, 1); err != nil || len(p.Entries) != 3 || len(p.Records) != 0 {
		t.Fatalf("omitting the admin's records from 1: %+v %v", p, err)
	}
	if p, err := s.Chain(t.Context(), tm.id, 3, 1000); err != nil || len(p.Entries) != 0 || p.More {
		t.Fatalf("after the head: %+v %v", p, err)
	}
	if _, err := s.Chain(t.Context(), wire.NewID(), 0, 10); err != store.ErrNotFound {
		t.Fatalf("Chain of an unknown team: %v", err)
	}
}

func testChainBase(t *testing.T, s store.Store) {
	tm := newTeam(t, s) // a team that synced with v1
	recs := []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID), newRecord(wire.NewID(), 1, tm.admin.ID)}
	push(t, s, tm.id, recs...)
	p, err := s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil || p.Started || len(p.Entries) != 0 {
		t.Fatalf("v1 team: %+v %v", p, err)
	}
	// Records before the base: unstarted.
	early, _ := chainOf(tm.id, wire.ChainCursor{}, []wire.Record{newRecord(recs[0].ID, 2, tm.admin.ID)})
	chainPush(t, s, tm.id, early, wire.ChainUnstarted)

	base := func(items []wire.BaseItem) *store.ChainAppend {
		e := wire.ChainEntry{Pos: 1, Prev: make([]byte, 32), Kind: wire.ChainBase, SealedHash: wire.BaseHash(items), LogSeq: 1, Time: t0, Author: tm.admin.ID, Sig: make([]byte, 64)}
		b, _ := json.Marshal(&e)
		return &store.ChainAppend{Entries: []store.ChainStored{{Pos: 1, JSON: b, Hash: e.Hash(tm.id)}}, IsBase: true, Base: items}
	}
	var items []wire.BaseItem
	for i := range all(t, s, tm.id).Records {
		items = append(items, wire.BaseItemOf(&all(t, s, tm.id).Records[i]))
	}
	sortItems(items)
	// A snapshot that misses a record is not the server's: behind.
	chainPush(t, s, tm.id, base(items[:1]), wire.ChainBehind)
	res := chainPush(t, s, tm.id, base(items), wire.PushOK)
	if res.Head.Pos != 1 {
		t.Fatalf("head after the base: %d", res.Head.Pos)
	}
	// Only once.
	chainPush(t, s, tm.id, base(items), wire.ChainBehind)
	_, _, err = s.Push(t.Context(), tm.id, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
	wantErr(t, "v1 Push after the base", err, store.ErrChained)
	p, err = s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil || !p.Started || len(p.Entries) != 1 || len(p.Base) != 2 || len(p.Records) != 2 {
		t.Fatalf("after the base: %+v %v", p, err)
	}
	var cr wire.ChainRecords
	cr.Base(1, p.Base)
	if err := cr.Page(p.Entries, p.Records); err != nil {
		t.Fatal(err)
	}
	if err := cr.Done(); err != nil {
		t.Fatal(err)
	}
	// The chain goes on from the base.
	next, _ := chainOf(tm.id, res.Head, []wire.Record{newRecord(recs[0].ID, 2, tm.admin.ID)})
	chainPush(t, s, tm.id, next, wire.PushOK)
}

func sortItems(items []wire.BaseItem) {
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if items[j].ID < items[i].ID {
				items[i], items[j] = items[j], items[i]
			}
		}
	}
}

// raceChain: devices sign on the same head at once; exactly one gets in
// each round, the others are behind, and the chain has no gap or fork.
func raceChain(t *testing.T, s store.Store) {
	tm := newChainedTeam(t, s)
	head := wire.ChainCursor{}
	deadline := time.Now().Add(raceTimeout)
	for round := 0; round < 5 && time.Now().Before(deadline); round++ {
		var wg sync.WaitGroup
		results := make([]*store.ChainResult, 4)
		heads := make([]wire.ChainCursor, 4)
		for i := range results {
			a, h := chainOf(tm.id, head, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
			heads[i] = h
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := s.ChainPush(t.Context(), tm.id, a)
				if err != nil {
					t.Errorf("ChainPush: %v", err)
					return
				}
				results[i] = res
			}()
		}
		wg.Wait()
		won := 0
		for i, r := range results {
			if r == nil {
				t.FailNow()
			}
			if r.Status == wire.PushOK {
				won++
				head = heads[i]
			} else if r.Status != wire.ChainBehind {
				t.Fatalf("status %q", r.Status)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d pushes on one head got in", round, won)
		}
	}
	p, err := s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	prev := make([]byte, sha256.Size)
	for i, e := range p.Entries {
		if e.Pos != int64(i+1) || string(e.Prev) != string(prev) {
			t.Fatalf("entry %d at %d does not follow the one before", i, e.Pos)
		}
		prev = e.Hash(tm.id)
	}
}

// testChainWholePushes: a page never ends inside a push (docs/sync.md,
// "Whole pushes"): it runs on past its limit to the last entry of the
// push it is in, with that push's records; entries without push marks
// (written before them) are pushes of one, and a page may end after any.
func testChainWholePushes(t *testing.T, s store.Store) {
	tm := newChainedTeam(t, s)
	recs := func(n int) []wire.Record {
		rs := make([]wire.Record, n)
		for i := range rs {
			rs[i] = newRecord(wire.NewID(), 1, tm.admin.ID)
		}
		return rs
	}
	head := wire.ChainCursor{}
	for _, p := range []struct {
		n      int
		marked bool
	}{{3, true}, {2, true}, {2, false}, {1, true}} {
		a, next := chainOfPush(tm.id, head, recs(p.n), p.marked)
		chainPush(t, s, tm.id, a, wire.PushOK)
		head = next
	}
	// Entries 1-3 and 4-5 are pushes; 6, 7 and 8 pushes of one.
	for _, c := range []struct {
		after    int64
		limit    int
		last     int64
		wantMore bool
	}{
		{0, 1, 3, true}, {0, 2, 3, true}, {0, 3, 3, true}, {0, 4, 5, true},
		{1, 1, 3, true}, // a page from inside a push runs to its end too
		{3, 1, 5, true}, {5, 1, 6, true}, {6, 1, 7, true}, {7, 1, 8, false}, {0, 1000, 8, false},
	} {
		p, err := s.Chain(t.Context(), tm.id, c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(p.Entries); n == 0 || p.Entries[n-1].Pos != c.last || p.More != c.wantMore || int64(n) != c.last-c.after {
			t.Fatalf("after %d, limit %d: %d entries, more %v; want entries to %d, more %v", c.after, c.limit, len(p.Entries), p.More, c.last, c.wantMore)
		}
		if int64(len(p.Records)) != c.last-c.after {
			t.Fatalf("after %d, limit %d: %d records for %d entries", c.after, c.limit, len(p.Records), c.last-c.after)
		}
		var m wire.PushMarks
		if err := m.Check(p.Entries); err != nil && c.after != 1 {
			t.Fatalf("after %d, limit %d: %v", c.after, c.limit, err)
		}
		if _, open := m.Open(); open != 0 {
			t.Fatalf("after %d, limit %d: the page ends inside the push to %d", c.after, c.limit, open)
		}
	}
}

// testChainRaw: a page read with each entry as stored (ChainRaw) holds,
// byte for byte, the JSON each entry was stored with; decoded, it is the
// page ChainOmitting gives; and AppendJSON writes exactly what
// json.Marshal gives of the decoded page (what the server sent before it
// sent entries as stored) — for a chain with a base snapshot, marked and
// linked pushes of several scopes, at every position, page size and
// omitted author.
func testChainRaw(t *testing.T, s store.Store) {
	stored := map[string]map[int64][]byte{} // team, position: the entry's JSON as pushed
	keep := func(team string, a *store.ChainAppend) {
		if stored[team] == nil {
			stored[team] = map[int64][]byte{}
		}
		for _, e := range a.Entries {
			stored[team][e.Pos] = e.JSON
		}
	}
	// A team that synced with v1, then its base, then marked pushes.
	v1 := newTeam(t, s)
	push(t, s, v1.id, newRecord(wire.NewID(), 1, v1.admin.ID), newRecord(wire.NewID(), 1, v1.admin.ID))
	var items []wire.BaseItem
	for _, r := range all(t, s, v1.id).Records {
		items = append(items, wire.BaseItemOf(&r))
	}
	sortItems(items)
	be := wire.ChainEntry{Pos: 1, Prev: make([]byte, 32), Kind: wire.ChainBase, SealedHash: wire.BaseHash(items), LogSeq: 1, Time: t0, Author: v1.admin.ID, Sig: make([]byte, 64)}
	st, err := store.Stored(v1.id, &be)
	if err != nil {
		t.Fatal(err)
	}
	base := &store.ChainAppend{Entries: []store.ChainStored{st}, IsBase: true, Base: items}
	keep(v1.id, base)
	head := chainPush(t, s, v1.id, base, wire.PushOK).Head
	other := newDevice("other")
	for _, recs := range [][]wire.Record{
		{newRecord(items[0].ID, 2, v1.admin.ID), newRecord(wire.NewID(), 1, other.ID)},
		{newRecord(wire.NewID(), 1, other.ID)},
		{newRecord(items[1].ID, 2, other.ID), newRecord(wire.NewID(), 1, v1.admin.ID), newRecord(wire.NewID(), 1, v1.admin.ID)},
	} {
		a, next := chainOfPush(v1.id, head, recs, len(recs) > 1)
		keep(v1.id, a)
		chainPush(t, s, v1.id, a, wire.PushOK)
		head = next
	}
	// A linked chain of scopes.
	tm, l, _ := scopedChain(t, s)
	p, err := s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p.Entries {
		st, err := store.Stored(tm.id, &p.Entries[i])
		if err != nil {
			t.Fatal(err)
		}
		if stored[tm.id] == nil {
			stored[tm.id] = map[int64][]byte{}
		}
		stored[tm.id][p.Entries[i].Pos] = st.JSON
	}
	for team, heads := range map[string]int64{v1.id: head.Pos, tm.id: l.head.Pos} {
		for after := int64(0); after <= heads; after++ {
			for _, limit := range []int{1, 2, 1000} {
				for _, omit := range []struct {
					author string
					from   int64
				}{{"", 0}, {v1.admin.ID, 3}, {l.author, 2}} {
					raw, err := s.ChainRaw(t.Context(), team, after, limit, omit.author, omit.from)
					if err != nil {
						t.Fatal(err)
					}
					dec, err := raw.Decoded()
					if err != nil {
						t.Fatal(err)
					}
					want, err := s.ChainOmitting(t.Context(), team, after, limit, omit.author, omit.from)
					if err != nil {
						t.Fatal(err)
					}
					wantJSON, _ := json.Marshal(want)
					decJSON, _ := json.Marshal(dec)
					if string(wantJSON) != string(decJSON) {
						t.Fatalf("after %d, limit %d: decoded raw page\n%s\nChainOmitting\n%s", after, limit, decJSON, wantJSON)
					}
					for i, e := range raw.Entries {
						if string(e) != string(stored[team][dec.Entries[i].Pos]) {
							t.Fatalf("after %d: entry %d is not as stored:\n%s\n%s", after, dec.Entries[i].Pos, e, stored[team][dec.Entries[i].Pos])
						}
					}
					got, err := raw.AppendJSON(nil)
					if err != nil {
						t.Fatal(err)
					}
					if string(got) != string(decJSON) {
						t.Fatalf("after %d, limit %d: AppendJSON\n%s\njson.Marshal of the decoded page\n%s", after, limit, got, decJSON)
					}
				}
			}
		}
	}
	// Pages with nothing in them, and of a team with no chain yet.
	v2 := newTeam(t, s)
	for _, c := range []struct {
		team  string
		after int64
	}{{v1.id, head.Pos}, {v1.id, head.Pos + 5}, {v2.id, 0}} {
		raw, err := s.ChainRaw(t.Context(), c.team, c.after, 10, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		dec, _ := raw.Decoded()
		want, _ := json.Marshal(dec)
		if got, _ := raw.AppendJSON(nil); string(got) != string(want) || len(dec.Entries) != 0 {
			t.Fatalf("an empty page: %s, want %s", got, want)
		}
	}
}
