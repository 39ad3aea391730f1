package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/store/pgtest"
	"github.com/hush-secrets/hush/sync/wire"
)

// TestPostgresPushSurvivesCrash: every push the store answered OK is there
// after PostgreSQL stops at once (an immediate shutdown: no checkpoint,
// what is not in the WAL on disk is gone), with devices pushing at once
// (the group commit puts many pushes in one transaction) and still
// pushing when it stops. On a durable server, as a user's.
func TestPostgresPushSurvivesCrash(t *testing.T) {
	needPostgres(t) // skips or fails as the package's other PostgreSQL tests
	pg, _, err := pgtest.ForTestWith(pgtest.Options{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	ctx := context.Background()
	dsn, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	team := wire.NewID()
	admin := wire.Device{ID: wire.NewID(), Name: "admin", Member: "admin", SignKey: make([]byte, 32), Box: "age1" + wire.NewID()}
	if err := s.CreateTeam(ctx, team, "crash", admin, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		took = map[string]int64{} // record id → seq, answered OK
		wg   sync.WaitGroup
	)
	pctx, stopPushing := context.WithTimeout(ctx, time.Minute)
	defer stopPushing()
	for range 16 {
		wg.Go(func() {
			for pctx.Err() == nil {
				sealed := make([]byte, 48)
				rand.Read(sealed)
				r := wire.Record{ID: wire.NewID(), Version: 1, Epoch: 1, Sealed: sealed, Author: admin.ID, Sig: make([]byte, 64)}
				res, _, err := s.Push(pctx, team, []wire.Record{r})
				if err != nil {
					return // the server is gone
				}
				if res[0].Status == wire.PushOK {
					mu.Lock()
					took[r.ID] = res[0].Seq
					mu.Unlock()
				}
			}
		})
	}
	// Stop the server while pushes go on, once some hundreds are in.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(took)
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d pushes taken in a minute", n)
		}
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	stopPushing()
	wg.Wait()
	s.Close()
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stored := map[string]int64{}
	for since := int64(0); ; {
		c, err := s.Changes(ctx, team, since, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range c.Records {
			stored[r.ID] = r.Seq
			since = r.Seq
		}
		if !c.More {
			break
		}
	}
	lost := 0
	for id, seq := range took {
		if got, ok := stored[id]; !ok || got != seq {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d pushes answered OK are gone after PostgreSQL stopped at once (%d records stored)", lost, len(took), len(stored))
	}
	t.Logf("%d pushes answered OK, all stored after the stop (%d stored in all)", len(took), len(stored))
}

// TestPostgresChainPushSurvivesCrash: every chain push the store answered
// OK is in the chain, with its record, after PostgreSQL stops at once,
// with sixteen teams' devices pushing at once (a group of chain pushes of
// several teams is taken in one transaction, in a few statements for all:
// chaingroup.go) and still pushing when it stops.
func TestPostgresChainPushSurvivesCrash(t *testing.T) {
	needPostgres(t)
	pg, _, err := pgtest.ForTestWith(pgtest.Options{Durable: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Stop()
	ctx := context.Background()
	dsn, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	type acked struct {
		head wire.ChainCursor
		id   string
	}
	var (
		mu    sync.Mutex
		took  = map[string][]acked{} // team → the pushes answered OK, in order
		count int
		wg    sync.WaitGroup
	)
	pctx, stopPushing := context.WithTimeout(ctx, time.Minute)
	defer stopPushing()
	for range 16 {
		team := wire.NewID()
		admin := wire.Device{ID: wire.NewID(), Name: "admin", Member: "admin", SignKey: make([]byte, 32), Box: "age1" + wire.NewID()}
		if err := s.CreateChainedTeam(ctx, team, "crash", admin, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			var head wire.ChainCursor
			for pctx.Err() == nil {
				sealed := make([]byte, 48)
				rand.Read(sealed)
				r := wire.Record{ID: wire.NewID(), Version: 1, Epoch: 1, Sealed: sealed, Author: admin.ID, Sig: make([]byte, 64)}
				e := wire.NextEntry(head, &r, time.Now())
				e.Author, e.Sig = admin.ID, make([]byte, 64)
				st, err := store.Stored(team, &e)
				if err != nil {
					t.Error(err)
					return
				}
				res, err := s.ChainPush(pctx, team, &store.ChainAppend{Prev: head, Entries: []store.ChainStored{st}, Records: []wire.Record{r}})
				if err != nil {
					return // the server is gone
				}
				if res.Status != wire.PushOK || res.Refused != nil {
					t.Errorf("chain push: %+v", res)
					return
				}
				head = res.Head
				mu.Lock()
				took[team] = append(took[team], acked{head, r.ID})
				count++
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := count
		mu.Unlock()
		if n >= 300 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d chain pushes taken in a minute", n)
		}
	}
	if err := pg.Kill(); err != nil {
		t.Fatal(err)
	}
	stopPushing()
	wg.Wait()
	s.Close()
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lost, n := 0, 0
	for team, pushes := range took {
		p, err := s.Chain(ctx, team, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		recs := map[string]bool{}
		for _, r := range p.Records {
			recs[r.ID] = true
		}
		for _, a := range pushes {
			n++
			i := a.head.Pos - 1
			if i >= int64(len(p.Entries)) || !bytes.Equal(p.Entries[i].Hash(team), a.head.Hash) || p.Entries[i].ID != a.id || !recs[a.id] {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d chain pushes answered OK are gone after PostgreSQL stopped at once", lost, n)
	}
	t.Logf("%d chain pushes of %d teams answered OK, all stored after the stop", n, len(took))
}
