package store_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

func newDevice(name string) wire.Device {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	return wire.Device{ID: wire.NewID(), Name: name, Member: "member-" + name, SignKey: pub, Box: "age1" + wire.NewID()}
}

// newRecord is version v of record id by author, with a fresh payload.
func newRecord(id string, v int64, author string) wire.Record {
	sealed, sig := make([]byte, 48), make([]byte, 64)
	rand.Read(sealed)
	rand.Read(sig)
	return wire.Record{ID: id, Version: v, Epoch: 1, Sealed: sealed, Author: author, Sig: sig}
}

// tailChain pushes to one chained team of a store as clients do: each
// push's entries marked and linked (wire.LinkPush), signed on the head
// it knows.
type tailChain struct {
	team    string
	authors []wire.Device
	key     ed25519.PrivateKey
	head    wire.ChainCursor
	heads   wire.ScopeHeads
}

func newTailChain(t *testing.T, s store.Store) *tailChain {
	t.Helper()
	admin := newDevice("admin")
	c := &tailChain{team: wire.NewID(), authors: []wire.Device{admin, newDevice("b"), newDevice("c")}, heads: wire.ScopeHeads{}}
	_, c.key, _ = ed25519.GenerateKey(rand.Reader)
	if err := s.CreateChainedTeam(t.Context(), c.team, "t", admin, []byte(`{}`), time.Now()); err != nil {
		t.Fatal(err)
	}
	return c
}

// build is a push of recs on c's head (moving nothing).
func (c *tailChain) build(recs []wire.Record) (*store.ChainAppend, wire.ChainCursor, wire.ScopeHeads) {
	n := len(recs)
	entries := make([]wire.ChainEntry, n)
	for i := range recs {
		entries[i] = wire.NextEntry(wire.ChainCursor{Pos: c.head.Pos + int64(i)}, &recs[i], time.Unix(1700000000, 0))
		entries[i].InPush(c.head, n)
	}
	wire.LinkPush(entries)
	heads, at := c.heads.Clone(), c.head
	a := &store.ChainAppend{Prev: c.head, Records: recs}
	for i := range entries {
		e := &entries[i]
		e.Prev = at.PrevHash()
		heads.LinkNext(e)
		e.Sign(c.team, recs[i].Author, c.key)
		st, err := store.Stored(c.team, e)
		if err != nil {
			panic(err)
		}
		a.Entries = append(a.Entries, st)
		heads.Follow(e, st.Hash)
		at = wire.ChainCursor{Pos: e.Pos, Hash: st.Hash}
	}
	return a, at, heads
}

// push pushes recs and wants status; c follows a push taken.
func (c *tailChain) push(t *testing.T, s store.Store, want string, recs ...wire.Record) {
	t.Helper()
	a, at, heads := c.build(recs)
	res, err := s.ChainPush(t.Context(), c.team, a)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != want || res.Refused != nil {
		t.Fatalf("push: status %q (refused %v), want %q", res.Status, res.Refused, want)
	}
	if want == wire.PushOK {
		c.head, c.heads = at, heads
	}
}

// rec is version v of id (a new id if empty) by author i, in scope sc, at
// log position 1.
func (c *tailChain) rec(id string, v int64, i int, sc string) wire.Record {
	if id == "" {
		id = wire.NewID()
	}
	r := newRecord(id, v, c.authors[i].ID)
	r.LogSeq, r.Scope = 1, sc
	return r
}

// samePages compares, for every cursor from 0 to past the head, page
// size and asker, the page ChainRaw serves with the one SQL reads, byte
// for byte as the server sends them. From the second read on, the tail
// must serve it at the cursors fromTail names, and wherever the first read
// reached the head.
func (c *tailChain) samePages(t *testing.T, s store.Store, fromTail func(after int64) bool) {
	t.Helper()
	var afters []int64
	for after := int64(0); after <= c.head.Pos+1; after++ {
		if after < 8 || after > c.head.Pos-60 || fromTail(after) != fromTail(after-1) || fromTail(after) != fromTail(after+1) {
			afters = append(afters, after)
		}
	}
	for _, after := range afters {
		for _, limit := range []int{1, 2, 3, 1000} {
			for _, omit := range []struct {
				author string
				from   int64
			}{{"", 0}, {c.authors[0].ID, 1}, {c.authors[1].ID, c.head.Pos - 3}} {
				// The first read may keep its page as the tail, the second
				// must come from it where fromTail says.
				if _, err := s.ChainRaw(t.Context(), c.team, after, limit, omit.author, omit.from); err != nil {
					t.Fatal(err)
				}
				got, err := s.ChainRaw(t.Context(), c.team, after, limit, omit.author, omit.from)
				if err != nil {
					t.Fatal(err)
				}
				want, err := store.ChainRawSQL(t.Context(), s, c.team, after, limit, omit.author, omit.from)
				if err != nil {
					t.Fatal(err)
				}
				gb, err := got.AppendJSON(nil)
				if err != nil {
					t.Fatal(err)
				}
				wb, err := want.AppendJSON(nil)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gb, wb) {
					t.Fatalf("after %d, limit %d, omitting %s from %d: served\n%s\nSQL\n%s", after, limit, omit.author, omit.from, gb, wb)
				}
				// From the tail where it holds the page, and where the first
				// read reached the head (and became the tail).
				must := after <= c.head.Pos && (fromTail(after) || (omit.author == "" && limit == 1000 && c.head.Pos-after <= 1000))
				if must && !store.FromTail(got) {
					t.Fatalf("after %d, limit %d (head %d): read from SQL, not from the tail", after, limit, c.head.Pos)
				}
			}
		}
	}
}

// TestChainTail: a whole-chain page served from the tail in memory is
// byte for byte the page SQL reads in the same state — records written
// again, pushes of several entries (a page runs on to the end of its
// push), several authors and scopes, a device omitting its own records —
// after pushes the store refused (behind, conflict, stale: none of them
// in it), and once the tail's bound made it drop its first entries (a
// cursor before them is read from SQL). With two server processes on one
// PostgreSQL database, a push through the other leaves the first
// reading from SQL until its own next push.
func TestChainTail(t *testing.T) {
	for _, db := range []struct {
		name string
		dsn  func(t *testing.T) string
	}{{"sqlite", sqlitePath}, {"postgres", postgres}} {
		t.Run(db.name, func(t *testing.T) {
			dsn := db.dsn(t)
			s, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			c := newTailChain(t, s)
			all := func(int64) bool { return true }
			c.samePages(t, s, all) // nothing pushed yet: an empty tail, kept from the first read
			A, B, C := wire.NewID(), wire.NewID(), wire.NewID()
			x, y := wire.NewID(), wire.NewID()
			c.push(t, s, wire.PushOK, c.rec(x, 1, 0, ""), c.rec(y, 1, 1, A), c.rec("", 1, 2, B))
			c.push(t, s, wire.PushOK, c.rec(x, 2, 1, ""))
			c.push(t, s, wire.PushOK, c.rec(y, 2, 0, A), c.rec("", 1, 0, C), c.rec("", 1, 1, ""), c.rec(x, 3, 2, ""), c.rec("", 1, 2, B))
			// Refused pushes change nothing.
			behind := *c
			behind.head = wire.ChainCursor{Pos: 2, Hash: make([]byte, 32)}
			behind.push(t, s, wire.ChainBehind, c.rec("", 1, 0, ""))
			c.push(t, s, wire.PushConflict, c.rec(x, 7, 0, ""))
			stale := c.rec("", 1, 0, "")
			stale.LogSeq = 9
			c.push(t, s, wire.PushStale, stale)
			c.push(t, s, wire.PushOK, c.rec(y, 3, 1, B))
			c.samePages(t, s, all)

			// Past the tail's bound: its first entries go, and a cursor
			// before its start is read from SQL.
			for range 11 {
				recs := make([]wire.Record, 100)
				for i := range recs {
					recs[i] = c.rec("", 1, i%3, "")
				}
				c.push(t, s, wire.PushOK, recs...)
			}
			c.push(t, s, wire.PushOK, c.rec(x, 4, 0, ""), c.rec(y, 4, 2, A))
			start := c.head.Pos - 1024
			for _, after := range []int64{0, start - 1, start, start + 1, c.head.Pos - 50, c.head.Pos - 1, c.head.Pos} {
				got, err := s.ChainRaw(t.Context(), c.team, after, 1000, "", 0)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := store.ChainRawSQL(t.Context(), s, c.team, after, 1000, "", 0)
				gb, _ := got.AppendJSON(nil)
				wb, _ := want.AppendJSON(nil)
				if !bytes.Equal(gb, wb) || store.FromTail(got) != (after >= start) {
					t.Fatalf("after %d (tail from %d): from the tail %v; the same page as SQL: %v", after, start, store.FromTail(got), bytes.Equal(gb, wb))
				}
			}

			if db.name != "postgres" {
				return
			}
			// A second server process on the same database pushes: the
			// first's tail no longer ends at the head, and it reads from
			// SQL; its own next push starts its tail again there.
			s2, err := store.Open(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			c.push(t, s2, wire.PushOK, c.rec(x, 5, 1, ""))
			if p, err := s.ChainRaw(t.Context(), c.team, c.head.Pos-1, 10, "", 0); err != nil || store.FromTail(p) || len(p.Entries) != 1 {
				t.Fatalf("after another process's push: from the tail %v, %d entries, %v", p != nil && store.FromTail(p), len(p.Entries), err)
			}
			// That read reached the head: it is the first's tail now.
			c.samePages(t, s, func(after int64) bool { return after >= c.head.Pos-1 })
			// Another push through the second, then one through the first:
			// the first's tail starts again at the head that push was on,
			// and a page read from SQL from further back that reaches the
			// same head replaces it.
			c.push(t, s2, wire.PushOK, c.rec(x, 6, 1, ""))
			prev := c.head.Pos
			c.push(t, s, wire.PushOK, c.rec(y, 5, 2, ""))
			if p, err := s.ChainRaw(t.Context(), c.team, prev, 10, "", 0); err != nil || !store.FromTail(p) || len(p.Entries) != 1 {
				t.Fatalf("after its own push: from the tail %v, %v", p != nil && store.FromTail(p), err)
			}
			if p, err := s.ChainRaw(t.Context(), c.team, prev-1, 10, "", 0); err != nil || store.FromTail(p) || len(p.Entries) != 2 {
				t.Fatalf("from before its tail: from the tail %v, %v", p != nil && store.FromTail(p), err)
			}
			c.samePages(t, s, func(after int64) bool { return after >= prev-1 })
		})
	}
}

// TestChainTailBound: past the bound on all tails' bytes, the team whose
// tail grew least recently loses it (its pulls read from SQL again, with
// the same answers), and the others keep theirs.
func TestChainTailBound(t *testing.T) {
	s, err := store.Open(t.Context(), sqlitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var cs []*tailChain
	for range 3 {
		c := newTailChain(t, s)
		cs = append(cs, c)
	}
	// Ten entries each.
	for _, c := range cs {
		for range 10 {
			c.push(t, s, wire.PushOK, c.rec("", 1, 0, ""))
		}
	}
	fromTail := func(c *tailChain) bool {
		t.Helper()
		got, err := s.ChainRaw(t.Context(), c.team, 0, 1000, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := store.ChainRawSQL(t.Context(), s, c.team, 0, 1000, "", 0)
		gb, _ := got.AppendJSON(nil)
		wb, _ := want.AppendJSON(nil)
		if !bytes.Equal(gb, wb) {
			t.Fatalf("from the tail or not, the page is not SQL's")
		}
		return store.FromTail(got)
	}
	for i, c := range cs {
		if !fromTail(c) {
			t.Fatalf("team %d: not served from its tail", i)
		}
	}
	// Room for what they hold now and about half as much again: the
	// 30 entries pushed below (as many as they hold) go past it.
	held := store.TailBytes(s)
	store.SetTailBytes(t, held*8/5)
	// The second and third grow past the bound: the first, which grew
	// least recently, goes.
	for range 15 {
		cs[1].push(t, s, wire.PushOK, cs[1].rec("", 1, 0, ""))
		cs[2].push(t, s, wire.PushOK, cs[2].rec("", 1, 0, ""))
	}
	// (The first last: its read, from SQL, becomes its tail again.)
	if !fromTail(cs[2]) || !fromTail(cs[1]) {
		t.Fatal("a tail that grew since is gone")
	}
	if fromTail(cs[0]) {
		t.Fatal("the tail that grew least recently is still kept past the bound")
	}
}
