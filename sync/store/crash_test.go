package store_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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
	s = crashMidway(t, pg, dsn, s, "pushes", func() int { mu.Lock(); defer mu.Unlock(); return len(took) }, stopPushing, &wg)
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
	s = crashMidway(t, pg, dsn, s, "chain pushes", func() int { mu.Lock(); defer mu.Unlock(); return count }, stopPushing, &wg)
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

// crashChildEnv names the SQLite file a child process of
// TestSQLiteChainPushSurvivesKill pushes into.
const crashChildEnv = "HUSH_STORE_CRASH_CHILD"

// crashChild is the process TestSQLiteChainPushSurvivesKill kills: it
// opens the SQLite store at path, and sixteen devices, each the writer of
// a chained team of its own, push one entry at a time at once (groups of
// pushes, one transaction each). Each push the store answered OK is
// printed, "team pos hash id", only once it was answered.
func crashChild(path string) {
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	var out sync.Mutex
	for range 16 {
		team := wire.NewID()
		admin := wire.Device{ID: wire.NewID(), Name: "admin", Member: "admin", SignKey: make([]byte, 32), Box: "age1" + wire.NewID()}
		if err := s.CreateChainedTeam(ctx, team, "crash", admin, nil, time.Now()); err != nil {
			fmt.Println("create:", err)
			os.Exit(1)
		}
		go func() {
			var head wire.ChainCursor
			for {
				sealed := make([]byte, 48)
				rand.Read(sealed)
				r := wire.Record{ID: wire.NewID(), Version: 1, Epoch: 1, Sealed: sealed, Author: admin.ID, Sig: make([]byte, 64)}
				e := wire.NextEntry(head, &r, time.Now())
				e.Author, e.Sig = admin.ID, make([]byte, 64)
				st, err := store.Stored(team, &e)
				if err != nil {
					fmt.Println("stored:", err)
					os.Exit(1)
				}
				res, err := s.ChainPush(ctx, team, &store.ChainAppend{Prev: head, Entries: []store.ChainStored{st}, Records: []wire.Record{r}})
				if err != nil || res.Status != wire.PushOK || res.Refused != nil {
					fmt.Println("push:", res, err)
					os.Exit(1)
				}
				head = res.Head
				out.Lock()
				fmt.Printf("%s %d %x %s\n", team, head.Pos, head.Hash, r.ID)
				out.Unlock()
			}
		}()
	}
	select {}
}

// TestSQLiteChainPushSurvivesKill: every chain push a SQLite store
// answered OK is in the chain, with its record, after its process is
// killed (SIGKILL) while sixteen teams push at once: a push is answered
// only once the group's transaction has committed, and the store opened
// again replays its WAL (which holds up to sqliteCheckpointPages pages
// not yet copied into the database file). A process kill loses no page
// the kernel holds; a power cut is synchronous=FULL's part, which this
// cannot test.
func TestSQLiteChainPushSurvivesKill(t *testing.T) {
	path := sqlitePath(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type acked struct {
		pos  int64
		hash string
		id   string
	}
	took := map[string][]acked{}
	lines := bufio.NewScanner(stdout)
	n := 0
	for n < 2000 && lines.Scan() {
		f := strings.Fields(lines.Text())
		if len(f) != 4 {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("child: %s", lines.Text())
		}
		pos, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		took[f[0]] = append(took[f[0]], acked{pos, f[2], f[3]})
		n++
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// What it printed before the kill and is still in the pipe was
	// answered too.
	for lines.Scan() {
		if f := strings.Fields(lines.Text()); len(f) == 4 {
			pos, _ := strconv.ParseInt(f[1], 10, 64)
			took[f[0]] = append(took[f[0]], acked{pos, f[2], f[3]})
			n++
		}
	}
	cmd.Wait()
	if n < 2000 {
		t.Fatalf("the child answered only %d pushes", n)
	}
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lost := 0
	for team, pushes := range took {
		p, err := s.Chain(t.Context(), team, 0, 100000)
		if err != nil {
			t.Fatal(err)
		}
		recs := map[string]bool{}
		for _, r := range p.Records {
			recs[r.ID] = true
		}
		for _, a := range pushes {
			i := a.pos - 1
			if i >= int64(len(p.Entries)) || fmt.Sprintf("%x", p.Entries[i].Hash(team)) != a.hash || p.Entries[i].ID != a.id || !recs[a.id] {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d chain pushes answered OK are gone after the process was killed", lost, n)
	}
	t.Logf("%d chain pushes of %d teams answered OK, all stored after the kill", n, len(took))
}

// TestSQLiteCheckpointPages: the write connection checkpoints its WAL
// every sqliteCheckpointPages pages, not SQLite's 1,000 (open.go).
func TestSQLiteCheckpointPages(t *testing.T) {
	s := openSQLite(t)
	defer s.Close()
	n, err := store.WALCheckpointPages(s)
	if err != nil || n != 20000 {
		t.Fatalf("wal_autocheckpoint = %d, %v; want 20000", n, err)
	}
}

// crashMidway stops PostgreSQL at once (no checkpoint) once taken() says
// 300 pushes were answered while pushes go on, stops the pushers, and
// returns the store opened again on the restarted server.
func crashMidway(t *testing.T, pg *pgtest.Server, dsn string, s store.Store, what string, taken func() int, stopPushing func(), wg *sync.WaitGroup) store.Store {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); taken() < 300; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d %s taken in a minute", taken(), what)
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
	s, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
