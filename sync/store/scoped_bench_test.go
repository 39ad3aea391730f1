package store_test

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// BenchmarkChainScoped: a machine that holds one folder scope (50
// entries of a 10,000-entry chain) reads its scope's page; beside it, a
// whole-chain page of 1,000 entries (what a device without scoped pages
// reads ten of). docs/sync.md, "Scope links".
func BenchmarkChainScoped(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		s, err := store.Open(b.Context(), b.TempDir()+"/hush.db")
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchScoped(b, s, func() {})
	})
	b.Run("postgres", func(b *testing.B) {
		if pgErr != nil {
			b.Fatal(pgErr)
		}
		if pg == nil {
			b.Skip(pgSkip)
		}
		u, err := pg.NewDatabase(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		s, err := store.Open(b.Context(), u)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		benchScoped(b, s, func() {
			// What autovacuum does within a minute of 10,000 inserts:
			// without statistics the planner reads a record page's ids
			// through records_chain (every record of the team) rather
			// than the primary key.
			db, err := sql.Open("pgx", u)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			if _, err := db.ExecContext(b.Context(), `ANALYZE`); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// scopedChain10k writes 10,000 linked entries in pushes of 100: 50 of
// scope target, one in each of 50 pushes, the rest in the root and 20
// other scopes.
func scopedChain10k(b *testing.B, s store.Store) (team, target string, all []string) {
	ctx := b.Context()
	team, target = wire.NewID(), wire.NewID()
	admin := wire.Device{ID: wire.NewID(), Name: "a", Member: "a", SignKey: make([]byte, 32), Box: "age1xxxxxxxxxx"}
	if err := s.CreateChainedTeam(ctx, team, "t", admin, []byte(`{}`), time.Now()); err != nil {
		b.Fatal(err)
	}
	others := []string{""}
	for range 20 {
		others = append(others, wire.NewID())
	}
	rng := rand.New(rand.NewPCG(1, 2))
	head, heads := wire.ChainCursor{}, wire.ScopeHeads{}
	for push := range 100 {
		recs := make([]wire.Record, 100)
		mine := -1
		if push%2 == 0 {
			mine = rng.IntN(100)
		}
		for i := range recs {
			sc := others[rng.IntN(len(others))]
			if i == mine {
				sc = target
			}
			sealed := make([]byte, 200)
			recs[i] = wire.Record{ID: wire.NewID(), Version: 1, Epoch: 1, LogSeq: 1, Scope: sc, Sealed: sealed, Author: admin.ID, Sig: make([]byte, 64)}
		}
		entries := make([]wire.ChainEntry, len(recs))
		for i := range recs {
			entries[i] = wire.NextEntry(wire.ChainCursor{Pos: head.Pos + int64(i)}, &recs[i], time.Now())
			entries[i].InPush(head, len(recs))
		}
		wire.LinkPush(entries)
		a := &store.ChainAppend{Prev: head, Records: recs}
		at := head
		for i := range entries {
			e := &entries[i]
			e.Prev = at.PrevHash()
			heads.LinkNext(e)
			e.Author, e.Sig = admin.ID, make([]byte, 64)
			st, err := store.Stored(team, e)
			if err != nil {
				b.Fatal(err)
			}
			a.Entries = append(a.Entries, st)
			heads.Follow(e, st.Hash)
			at = wire.ChainCursor{Pos: e.Pos, Hash: st.Hash}
		}
		res, err := s.ChainPush(ctx, team, a)
		if err != nil || res.Status != wire.PushOK || res.Refused != nil {
			b.Fatalf("push %d: %+v %v", push, res, err)
		}
		head = at
	}
	return team, target, append(others, target)
}

func benchScoped(b *testing.B, s store.Store, analyze func()) {
	team, target, all := scopedChain10k(b, s)
	analyze()
	b.Run("scope-50-of-10000", func(b *testing.B) {
		for b.Loop() {
			p, err := s.ChainScoped(b.Context(), team, 0, wire.MaxPullEntries, []string{target}, "", 0, 0)
			if err != nil || len(p.Entries) != 50 || len(p.Records) != 50 || p.More {
				b.Fatalf("%d entries, %d records, more %v, %v", len(p.Entries), len(p.Records), p.More, err)
			}
		}
	})
	b.Run("every-scope-page-1000", func(b *testing.B) {
		// A device that holds all 22 scopes (an admin) asking scoped=1:
		// one query in position order, not 22 ranges.
		for b.Loop() {
			p, err := s.ChainScoped(b.Context(), team, 0, wire.MaxPullEntries, all, "", 0, 0)
			if err != nil || len(p.Entries) != 1000 || !p.More {
				b.Fatalf("%d entries, more %v, %v", len(p.Entries), p.More, err)
			}
		}
	})
	b.Run("whole-page-1000", func(b *testing.B) {
		for b.Loop() {
			p, err := s.ChainOmitting(b.Context(), team, 0, wire.MaxPullEntries, "", 0)
			if err != nil || len(p.Entries) != 1000 {
				b.Fatalf("%d entries, %v", len(p.Entries), err)
			}
		}
	})
}
