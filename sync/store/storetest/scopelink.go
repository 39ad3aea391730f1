package storetest

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Scope links (docs/sync.md, "Scope links"): every entry links to the
// previous entry of its scope and names the last of its scope in its
// push; the store takes a linked push only if each link is the chain's,
// and serves a device only its scopes' entries, never ending a page
// inside one scope's part of a push.

// linker writes a chain as one device's client does: it follows every
// entry it wrote (linked or not), so its scope heads are what the next
// linked entry of each scope must name. Entries are signed for real, so
// pages can be checked with the client's verifier (wire.ScopedPull).
type linker struct {
	team   string
	author string
	key    ed25519.PrivateKey
	head   wire.ChainCursor
	heads  wire.ScopeHeads
}

func newLinker(team, author string) *linker {
	_, key, _ := ed25519.GenerateKey(nil)
	return &linker{team: team, author: author, key: key, heads: wire.ScopeHeads{}}
}

func (l *linker) signers(author string, _ int64, _ string) ed25519.PublicKey {
	if author != l.author {
		return nil
	}
	return l.key.Public().(ed25519.PublicKey)
}

// rec is a new record (or version v of id, if id is set) in scope sc, at
// log position 1.
func (l *linker) rec(sc, id string, v int64) wire.Record {
	if id == "" {
		id = wire.NewID()
	}
	r := newRecord(id, v, l.author)
	r.Scope, r.LogSeq = sc, 1
	return r
}

// build signs recs as one push on l's head: linked or not, each entry
// changed by lie (if set) after it is linked and before it is signed.
// It moves nothing: take moves l on once the store took the push.
func (l *linker) build(recs []wire.Record, linked bool, lie func(i int, e *wire.ChainEntry)) (*store.ChainAppend, []wire.ChainEntry) {
	n := len(recs)
	entries := make([]wire.ChainEntry, n)
	for i := range recs {
		entries[i] = wire.NextEntry(wire.ChainCursor{Pos: l.head.Pos + int64(i)}, &recs[i], t0)
		entries[i].InPush(l.head, n)
	}
	if linked {
		wire.LinkPush(entries)
	}
	heads, at := l.heads.Clone(), l.head
	a := &store.ChainAppend{Prev: l.head, Records: recs}
	for i := range entries {
		e := &entries[i]
		e.Prev = at.PrevHash()
		if linked {
			heads.LinkNext(e)
		}
		if lie != nil {
			lie(i, e)
		}
		e.Sign(l.team, l.author, l.key)
		st, err := store.Stored(l.team, e)
		if err != nil {
			panic(err)
		}
		a.Entries = append(a.Entries, st)
		heads.Follow(e, st.Hash)
		at = wire.ChainCursor{Pos: e.Pos, Hash: st.Hash}
	}
	return a, entries
}

// take moves l past entries the store took.
func (l *linker) take(entries []wire.ChainEntry) {
	for i := range entries {
		h := entries[i].Hash(l.team)
		l.heads.Follow(&entries[i], h)
		l.head = wire.ChainCursor{Pos: entries[i].Pos, Hash: h}
	}
}

// push builds and pushes recs, and fails the test unless the store takes
// them.
func (l *linker) push(t *testing.T, s store.Store, linked bool, recs ...wire.Record) []wire.ChainEntry {
	t.Helper()
	a, entries := l.build(recs, linked, nil)
	res, err := s.ChainPush(t.Context(), l.team, a)
	if err != nil {
		t.Fatalf("ChainPush: %v", err)
	}
	if res.Status != wire.PushOK || res.Refused != nil {
		t.Fatalf("ChainPush: status %q, refused %v", res.Status, res.Refused)
	}
	l.take(entries)
	return entries
}

// newLinkedTeam is a chained team whose log has one entry (records are
// written at log position 1, as a client's are).
func newLinkedTeam(t *testing.T, s store.Store) team {
	t.Helper()
	tm := team{id: wire.NewID(), admin: newDevice("admin")}
	if err := s.CreateChainedTeam(t.Context(), tm.id, "team "+tm.id[:6], tm.admin, []byte(`{}`), t0); err != nil {
		t.Fatalf("CreateChainedTeam: %v", err)
	}
	return tm
}

// testChainScopeLinks: a linked push is taken only when each entry links
// to the stored head of its scope (moving through the push's own
// entries), by position and hash, and names the last entry of its scope
// in the push; the first linked push of a team links to the entries
// written before links. Anything else is refused whole, and once a
// linked entry is in, so is an unlinked push.
func testChainScopeLinks(t *testing.T, s store.Store) {
	tm := newLinkedTeam(t, s)
	l := newLinker(tm.id, tm.admin.ID)
	A, B := wire.NewID(), wire.NewID()
	// Before links: entries 1-3 (root, A, B), one marked push.
	old := l.push(t, s, false, l.rec("", "", 1), l.rec(A, "", 1), l.rec(B, "", 1))
	// The first linked push: A, root, A. Entry 4 links to 2 (A's last,
	// unlinked), 5 to 1, 6 to 4 (inside the push).
	r1 := old[0].ID
	got := l.push(t, s, true, l.rec(A, "", 1), l.rec("", r1, 2), l.rec(A, "", 1))
	for i, want := range []struct{ prev, last int64 }{{2, 6}, {1, 5}, {4, 6}} {
		if e := got[i]; e.ScopePrev == nil || e.ScopePrev.Pos != want.prev || e.ScopeLast != want.last {
			t.Fatalf("entry %d links %+v, last %d; want %d, %d", e.Pos, e.ScopePrev, e.ScopeLast, want.prev, want.last)
		}
	}
	p, err := s.Chain(t.Context(), tm.id, 0, 1000)
	if err != nil || len(p.Entries) != 6 {
		t.Fatalf("chain: %+v %v", p, err)
	}
	if e := p.Entries[5]; e.ScopePrev == nil || e.ScopePrev.Pos != 4 || !bytes.Equal(e.ScopePrev.Hash, p.Entries[3].Hash(tm.id)) || e.ScopeLast != 6 {
		t.Fatalf("stored entry 6 lost its link: %+v", e)
	}

	// Each wrong link is refused, naming the entry, and nothing is stored.
	before := all(t, s, tm.id)
	C := wire.NewID()
	for _, c := range []struct {
		name string
		recs []wire.Record
		lie  func(i int, e *wire.ChainEntry)
		pos  int64
		text string
	}{
		{"a link to an older entry of its scope", []wire.Record{l.rec(A, "", 1)}, func(i int, e *wire.ChainEntry) {
			e.ScopePrev = &wire.ChainCursor{Pos: 4, Hash: p.Entries[3].Hash(tm.id)}
		}, 7, "follows entry 4 of its scope, but the last entry of its scope before it is 6"},
		{"a link to no entry of a scope that has some", []wire.Record{l.rec(B, "", 1)}, func(i int, e *wire.ChainEntry) {
			e.ScopePrev = &wire.ChainCursor{}
		}, 7, "follows entry 0 of its scope, but the last entry of its scope before it is 3"},
		{"a link to an entry of a new scope", []wire.Record{l.rec(C, "", 1)}, func(i int, e *wire.ChainEntry) {
			e.ScopePrev = &wire.ChainCursor{Pos: 6, Hash: p.Entries[5].Hash(tm.id)}
		}, 7, "it is the first entry of its scope"},
		{"the right position, another hash", []wire.Record{l.rec(B, "", 1), l.rec(A, "", 1)}, func(i int, e *wire.ChainEntry) {
			if i == 1 {
				e.ScopePrev.Hash = random(32)
			}
		}, 8, "names entry 6 of its scope with a hash that is not that entry's"},
		{"a link that skips the push's own entry", []wire.Record{l.rec(A, "", 1), l.rec(A, "", 1)}, func(i int, e *wire.ChainEntry) {
			if i == 1 {
				e.ScopePrev = &wire.ChainCursor{Pos: 6, Hash: p.Entries[5].Hash(tm.id)}
			}
		}, 8, "the last entry of its scope before it is 7"},
		{"a scope's part that ends early", []wire.Record{l.rec(A, "", 1), l.rec(B, "", 1), l.rec(A, "", 1)}, func(i int, e *wire.ChainEntry) {
			if i == 0 {
				e.ScopeLast = 7
			}
		}, 7, "names entry 7 as the last of its scope in its push, but that is entry 9"},
		{"a push linked in part", []wire.Record{l.rec(A, "", 1), l.rec(B, "", 1)}, func(i int, e *wire.ChainEntry) {
			if i == 1 {
				e.ScopePrev, e.ScopeLast = nil, 0
			}
		}, 8, "a push links all its entries or none"},
	} {
		a, _ := l.build(c.recs, true, c.lie)
		res, err := s.ChainPush(t.Context(), tm.id, a)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var le *store.LinkError
		if !errors.As(res.Refused, &le) || le.Pos != c.pos || !strings.Contains(le.Msg, c.text) || res.Status != "" {
			t.Fatalf("%s: status %q, refused %v; want entry %d refused: %q", c.name, res.Status, res.Refused, c.pos, c.text)
		}
		if now := all(t, s, tm.id); now.Head != before.Head || len(now.Records) != len(before.Records) {
			t.Fatalf("%s: the refused push changed the records (head %d, was %d)", c.name, now.Head, before.Head)
		}
		if p, err := s.Chain(t.Context(), tm.id, 0, 1000); err != nil || p.Head.Pos != 6 || len(p.Entries) != 6 {
			t.Fatalf("%s: the refused push changed the chain: head %d, %d entries, %v", c.name, p.Head.Pos, len(p.Entries), err)
		}
	}
	// An unlinked push (a client from before links) into a chain with
	// linked entries: refused whole, for an upgrade.
	a, _ := l.build([]wire.Record{l.rec(A, "", 1)}, false, nil)
	res, err := s.ChainPush(t.Context(), tm.id, a)
	if err != nil || !errors.Is(res.Refused, store.ErrUnlinkedPush) {
		t.Fatalf("unlinked push after linked ones: %+v %v", res, err)
	}
	// A stale or behind linked push is still just that.
	stale := l.rec(A, "", 1)
	stale.LogSeq = 7
	a, _ = l.build([]wire.Record{stale}, true, nil)
	chainPush(t, s, tm.id, a, wire.PushStale)
	behind := *l
	behind.head = wire.ChainCursor{Pos: 5, Hash: p.Entries[4].Hash(tm.id)}
	a, _ = behind.build([]wire.Record{l.rec(A, "", 1)}, true, nil)
	chainPush(t, s, tm.id, a, wire.ChainBehind)
	// The right links are still taken, the new scope's from 0.
	l.push(t, s, true, l.rec(C, "", 1), l.rec(B, "", 1), l.rec(C, "", 1))
	if p, err := s.Chain(t.Context(), tm.id, 6, 1000); err != nil || len(p.Entries) != 3 || p.Entries[0].ScopePrev.Pos != 0 || p.Entries[1].ScopePrev.Pos != 3 {
		t.Fatalf("after the refusals: %+v %v", p, err)
	}
}

// scopedChain writes a chain for testChainScopedPage:
//
//	1-3   root, root, root (one push)
//	4-9   A B A B A C      (one push)
//	10    A                (rewrites entry 4's record)
//	11-12 B B
//	13    root
func scopedChain(t *testing.T, s store.Store) (team, *linker, map[string]string) {
	tm := newLinkedTeam(t, s)
	l := newLinker(tm.id, tm.admin.ID)
	A, B, C := wire.NewID(), wire.NewID(), wire.NewID()
	l.push(t, s, true, l.rec("", "", 1), l.rec("", "", 1), l.rec("", "", 1))
	p := l.push(t, s, true, l.rec(A, "", 1), l.rec(B, "", 1), l.rec(A, "", 1), l.rec(B, "", 1), l.rec(A, "", 1), l.rec(C, "", 1))
	l.push(t, s, true, l.rec(A, p[0].ID, 2))
	l.push(t, s, true, l.rec(B, "", 1), l.rec(B, "", 1))
	l.push(t, s, true, l.rec("", "", 1))
	return tm, l, map[string]string{"A": A, "B": B, "C": C, "root": ""}
}

// testChainScopedPage: a scoped page holds only the entries of the
// scopes asked for, in order, up to the limit and on to the end of a
// push in which one of them is not whole yet; More if one of theirs
// follows; their records at the newest version only; and the client's
// own verifier takes page after page of it.
func testChainScopedPage(t *testing.T, s store.Store) {
	tm, l, ids := scopedChain(t, s)
	scopes := func(names string) []string {
		var out []string
		for _, n := range strings.Fields(names) {
			out = append(out, ids[n])
		}
		return out
	}
	positions := func(p *wire.ChainPage) []int64 {
		var out []int64
		for _, e := range p.Entries {
			out = append(out, e.Pos)
		}
		return out
	}
	for _, c := range []struct {
		scopes string
		after  int64
		limit  int
		want   []int64
		more   bool
	}{
		{"A", 0, 1, []int64{4, 6, 8}, true}, // A's part of the push 4-9 is whole
		{"A", 0, 3, []int64{4, 6, 8}, true},
		{"A", 0, 4, []int64{4, 6, 8, 10}, false},
		{"A", 5, 1, []int64{6, 8}, true}, // from inside a part: on to its end
		{"A", 8, 1, []int64{10}, false},
		{"A", 10, 1, nil, false},
		{"A B", 0, 1, []int64{4, 5, 6, 7, 8}, true}, // both parts whole
		{"A B", 0, 5, []int64{4, 5, 6, 7, 8}, true},
		{"A B", 8, 2, []int64{10, 11, 12}, false}, // 11-12: B's part
		{"C", 0, 1000, []int64{9}, false},
		{"root", 0, 1, []int64{1, 2, 3}, true},
		{"root", 3, 1, []int64{13}, false},
		{"root A B C", 0, 4, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9}, true},
		{"", 0, 1000, nil, false}, // no scopes: nothing
	} {
		p, err := s.ChainScoped(t.Context(), tm.id, c.after, c.limit, scopes(c.scopes), "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := positions(p); !slices.Equal(got, c.want) || p.More != c.more || !p.Started || !p.Head.Equal(l.head) {
			t.Fatalf("scopes %q after %d limit %d: entries %v more %v (head %d); want %v more %v", c.scopes, c.after, c.limit, got, p.More, p.Head.Pos, c.want, c.more)
		}
		// Records: only of those scopes, and of each entry in the page
		// whose record is not written again later.
		held := scopes(c.scopes)
		for _, r := range p.Records {
			if !slices.Contains(held, r.Scope) {
				t.Fatalf("scopes %q: a record of another scope came", c.scopes)
			}
		}
		want := 0
		for _, e := range p.Entries {
			if e.Pos != 4 { // 4's record is written again at 10
				want++
			}
		}
		if len(p.Records) != want {
			t.Fatalf("scopes %q after %d limit %d: %d records for %d entries", c.scopes, c.after, c.limit, len(p.Records), want)
		}
	}
	// A device that holds many scopes (an admin holds every one) is
	// served by one query instead of a range per scope: the same pages.
	many := func(names string) []string {
		out := scopes(names)
		for range 20 {
			out = append(out, wire.NewID())
		}
		return out
	}
	for _, c := range []struct {
		scopes string
		after  int64
		limit  int
	}{{"A", 0, 1}, {"A B", 0, 1}, {"A B", 8, 2}, {"root A B C", 0, 4}, {"root A B C", 0, 1000}, {"C", 9, 1}} {
		want, err := s.ChainScoped(t.Context(), tm.id, c.after, c.limit, scopes(c.scopes), "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.ChainScoped(t.Context(), tm.id, c.after, c.limit, many(c.scopes), "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(positions(got), positions(want)) || got.More != want.More || len(got.Records) != len(want.Records) {
			t.Fatalf("scopes %q and 20 more, after %d limit %d: entries %v more %v, %d records; want %v more %v, %d records",
				c.scopes, c.after, c.limit, positions(got), got.More, len(got.Records), positions(want), want.More, len(want.Records))
		}
	}
	// The device that pushed asks without its own records: entries only.
	if p, err := s.ChainScoped(t.Context(), tm.id, 0, 1000, scopes("A"), l.author, 1, 0); err != nil || len(p.Entries) != 4 || len(p.Records) != 0 {
		t.Fatalf("scoped, omitting the author's records: %+v %v", p, err)
	}
	// The client's verifier takes every scope set, paged at every limit.
	for _, set := range []string{"A", "B", "C", "A B", "root", "root A B C"} {
		for _, limit := range []int{1, 2, 3, 1000} {
			held := scopes(set)
			holds := func(sc string) bool { return slices.Contains(held, sc) }
			var sp wire.ScopedPull
			var cr wire.ChainRecords
			n := 0
			for after := int64(0); ; {
				p, err := s.ChainScoped(t.Context(), tm.id, after, limit, held, "", 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				if err := sp.Page(tm.id, p.Entries, holds, l.signers); err != nil {
					t.Fatalf("scopes %q limit %d after %d: %v", set, limit, after, err)
				}
				if sp.Open() != 0 {
					t.Fatalf("scopes %q limit %d after %d: the page ends inside a push part", set, limit, after)
				}
				if err := cr.Page(p.Entries, p.Records); err != nil {
					t.Fatalf("scopes %q limit %d after %d: records: %v", set, limit, after, err)
				}
				n += len(p.Entries)
				if !p.More {
					break
				}
				after = sp.After
			}
			if err := sp.Done(); err != nil {
				t.Fatal(err)
			}
			if err := cr.Done(); err != nil {
				t.Fatalf("scopes %q limit %d: %v", set, limit, err)
			}
			if want := map[string]int{"A": 4, "B": 4, "C": 1, "A B": 8, "root": 4, "root A B C": 13}[set]; n != want {
				t.Fatalf("scopes %q limit %d: %d entries, want %d", set, limit, n, want)
			}
		}
	}
	if _, err := s.ChainScoped(t.Context(), wire.NewID(), 0, 10, scopes("A"), "", 0, 0); err != store.ErrNotFound {
		t.Fatalf("ChainScoped of an unknown team: %v", err)
	}
}

// testChainScopedMoves: a scoped page proves that a record left the
// device's scopes with the entry that took it out (the next after its
// last entry of them): for the records the page names, always; with
// movedSince, also for those the device read before (at or before
// movedSince) and moved out after it — once, and never one that came back.
func testChainScopedMoves(t *testing.T, s store.Store) {
	tm := newLinkedTeam(t, s)
	l := newLinker(tm.id, tm.admin.ID)
	A, B, C := wire.NewID(), wire.NewID(), wire.NewID()
	X, Y, Z, W := wire.NewID(), wire.NewID(), wire.NewID(), wire.NewID()
	l.push(t, s, true, l.rec(A, X, 1), l.rec(A, Y, 1)) // 1, 2
	l.push(t, s, true, l.rec(A, Z, 1))                 // 3: the device has read up to here
	l.push(t, s, true, l.rec(B, X, 2))                 // 4: X moves out
	l.push(t, s, true, l.rec(A, Y, 2))                 // 5
	l.push(t, s, true, l.rec(B, W, 1))                 // 6: never A's
	l.push(t, s, true, l.rec(B, Z, 2))                 // 7: Z moves out...
	l.push(t, s, true, l.rec(A, Z, 3))                 // 8: ...and back
	moved := func(after, since int64) []int64 {
		t.Helper()
		p, err := s.ChainScoped(t.Context(), tm.id, after, 1000, []string{A}, "", 0, since)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, e := range p.Moved {
			got = append(got, e.Pos)
		}
		return got
	}
	for _, c := range []struct {
		after, since int64
		want         []int64
	}{
		{0, 0, []int64{4}}, // X, named by the page (1): its move
		{3, 0, nil},        // X not named, and not asked
		{3, 3, []int64{4}}, // asked: X's move, not Z's (back, in the page), nor W's
		{4, 4, nil},        // X moved out at 4: the device read past it
		{8, 8, nil},        // nothing after 8
	} {
		if got := moved(c.after, c.since); !slices.Equal(got, c.want) {
			t.Errorf("after %d, moved since %d: moves at %v, want %v", c.after, c.since, got, c.want)
		}
	}
	// X on into C: its move out of A is still the one at 4, so a device
	// past 4 is told nothing; one at 3 still gets 4, not 9.
	l.push(t, s, true, l.rec(C, X, 3)) // 9
	if got := moved(8, 8); got != nil {
		t.Errorf("after X's second move, moved since 8: %v, want none", got)
	}
	if got := moved(3, 3); !slices.Equal(got, []int64{4}) {
		t.Errorf("after X's second move, moved since 3: %v, want [4]", got)
	}
	// The page holds no entry of A after 9: the moves come all the same.
	l.push(t, s, true, l.rec(B, Y, 3)) // 10: Y moves out
	if got := moved(9, 9); !slices.Equal(got, []int64{10}) {
		t.Errorf("an empty page, moved since 9: %v, want [10]", got)
	}
}

// testMigrateScopeLinks: a database written before scope links (schema
// 4: a base entry and unlinked entries of three scopes) migrates to one
// whose entries have the right scope ids, the base's the root's; the
// first linked push links each scope to its last entry from before, and
// from then on an unlinked push is refused.
func testMigrateScopeLinks(t *testing.T, dsn string) {
	ctx := t.Context()
	s := open(t, dsn)
	tm := team{id: wire.NewID(), admin: newDevice("admin")}
	if err := s.CreateTeam(ctx, tm.id, "team", tm.admin, []byte(`{}`), t0); err != nil {
		t.Fatal(err)
	}
	l := newLinker(tm.id, tm.admin.ID)
	push(t, s, tm.id, l.rec("", "", 1)) // a v1 push
	var items []wire.BaseItem
	for _, r := range all(t, s, tm.id).Records {
		items = append(items, wire.BaseItemOf(&r))
	}
	base := wire.ChainEntry{Pos: 1, Prev: make([]byte, 32), Kind: wire.ChainBase, SealedHash: wire.BaseHash(items), LogSeq: 1, Time: t0}
	base.Sign(tm.id, l.author, l.key)
	st, err := store.Stored(tm.id, &base)
	if err != nil {
		t.Fatal(err)
	}
	chainPush(t, s, tm.id, &store.ChainAppend{Entries: []store.ChainStored{st}, IsBase: true, Base: items}, wire.PushOK)
	l.take([]wire.ChainEntry{base})
	A, B := wire.NewID(), wire.NewID()
	l.push(t, s, false, l.rec(A, "", 1), l.rec(B, "", 1)) // 2, 3
	l.push(t, s, false, l.rec(A, "", 1))                  // 4
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to schema 4, as a server before links left it.
	db := raw(t, dsn)
	for _, q := range []string{
		`DROP INDEX chain_scope`, `ALTER TABLE chain DROP COLUMN scope`,
		`DROP INDEX chain_record`, `ALTER TABLE chain DROP COLUMN record`,
		`ALTER TABLE teams DROP COLUMN linked`, `DELETE FROM schema_version WHERE version = 5`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s = open(t, dsn)
	defer s.Close()
	db = raw(t, dsn)
	if v := schemaVersions(t, db); len(v) != 5 {
		t.Fatalf("schema versions after the migration: %v", v)
	}
	rows, err := db.QueryContext(ctx, `SELECT pos, scope FROM chain ORDER BY pos`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var pos int64
		var sc string
		if err := rows.Scan(&pos, &sc); err != nil {
			t.Fatal(err)
		}
		got = append(got, sc)
	}
	rows.Close()
	if want := []string{"", A, B, A}; !slices.Equal(got, want) {
		t.Fatalf("scopes after the migration: %q, want %q", got, want)
	}
	// And each entry's record id, from its JSON (the base's is empty).
	rows, err = db.QueryContext(ctx, `SELECT pos, record, entry FROM chain ORDER BY pos`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var pos int64
		var rec string
		var entry []byte
		if err := rows.Scan(&pos, &rec, &entry); err != nil {
			t.Fatal(err)
		}
		var e wire.ChainEntry
		if err := json.Unmarshal(entry, &e); err != nil || rec != e.ID || pos > 1 && rec == "" {
			t.Fatalf("entry %d's record after the migration: %q, its JSON says %q (%v)", pos, rec, e.ID, err)
		}
	}
	rows.Close()
	// The first linked push: the root's entry links to the base, A's to 4,
	// B's to 3; a link to anything else is refused.
	a, _ := l.build([]wire.Record{l.rec(A, "", 1)}, true, func(_ int, e *wire.ChainEntry) { e.ScopePrev.Pos, e.ScopePrev.Hash = 2, nil })
	if res, err := s.ChainPush(ctx, tm.id, a); err != nil || res.Refused == nil {
		t.Fatalf("a link past the last old entry of its scope: %+v %v", res, err)
	}
	got2 := l.push(t, s, true, l.rec("", "", 1), l.rec(A, "", 1), l.rec(B, "", 1))
	for i, want := range []int64{1, 4, 3} {
		if got2[i].ScopePrev.Pos != want {
			t.Fatalf("entry %d links to %d, want %d", got2[i].Pos, got2[i].ScopePrev.Pos, want)
		}
	}
	if p, err := s.ChainScoped(ctx, tm.id, 0, 1000, []string{A}, "", 0, 0); err != nil || len(p.Entries) != 3 || p.Entries[2].Pos != 6 {
		t.Fatalf("A's entries after the migration: %+v %v", p, err)
	}
	// A device of the root or of A that reads only its scopes finds the
	// entries from before links, and is told to read the whole chain.
	for _, sc := range []string{"", A} {
		p, err := s.ChainScoped(ctx, tm.id, 0, 1000, []string{sc}, "", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if sc == "" && (len(p.Entries) != 2 || len(p.Base) != 1 || len(p.Records) != 2) {
			// The base (with its snapshot and the record it wrote) and
			// the root's linked entry.
			t.Fatalf("the root's entries after the migration: %d entries, base of %d, %d records", len(p.Entries), len(p.Base), len(p.Records))
		}
		var sp wire.ScopedPull
		if err := sp.Page(tm.id, p.Entries, func(s string) bool { return s == sc }, l.signers); !errors.Is(err, wire.ErrUnlinked) {
			t.Fatalf("scope %q from before links: %v, want %v", sc, err, wire.ErrUnlinked)
		}
	}
	a, _ = l.build([]wire.Record{l.rec(A, "", 1)}, false, nil)
	if res, err := s.ChainPush(ctx, tm.id, a); err != nil || !errors.Is(res.Refused, store.ErrUnlinkedPush) {
		t.Fatalf("an unlinked push after the migration's first linked one: %+v %v", res, err)
	}
}
