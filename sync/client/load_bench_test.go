package client

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/store/pgtest"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// BenchmarkServerLoad: 50 and 200 devices, each on its own connection,
// alternate a push (a new version of their own record) and a pull of
// recent changes, as signed requests over loopback. Reported: requests per
// second over the whole run, and p50/p99 latency of single requests.
func BenchmarkServerLoad(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		for _, clients := range []int{50, 200} {
			b.Run(fmt.Sprintf("%s/clients=%d", backend, clients), func(b *testing.B) {
				dsn := filepath.Join(b.TempDir(), "server.db")
				if backend == "postgres" {
					var err error
					if dsn, err = BenchPG(b).NewDatabase(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				loadRun(b, dsn, clients)
			})
		}
	}
}

func loadRun(b *testing.B, dsn string, clients int) { loadRunWatched(b, dsn, clients, 0) }

// loadRunWatched is loadRun with watchers idle watch streams open on the
// server meanwhile.
func loadRunWatched(b *testing.B, dsn string, clients, watchers int) {
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// The idle watchers below are one device's streams.
	srv := server.New(st, server.Options{Rate: 1e6, Burst: 1e6, WatchesPerDevice: max(watchers, 1)})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()

	v, err := vault.Create(filepath.Join(b.TempDir(), "admin.db"), []byte("correct horse battery"),
		vault.CreateOptions{KDF: crypto.KDFParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	admin, err := Create(ctx, v, CreateOptions{Server: hs.URL, Name: "load", Device: "admin", Member: "admin"})
	if err != nil {
		b.Fatal(err)
	}
	at, err := Open(ctx, v)
	if err != nil {
		b.Fatal(err)
	}
	admin = at.State()
	devs := make([]*State, clients)
	for i := range devs {
		inv, err := at.Invite(ctx, wire.RoleWriter, "", time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		d, err := newIdentity("d"+strconv.Itoa(i), "m"+strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		d.Server, d.Team = hs.URL, admin.Team
		c, err := d.conn()
		if err != nil {
			b.Fatal(err)
		}
		j := wire.Join{Team: inv.Team, Invite: inv.ID, Device: d.Device, Binding: binding(inv.Secret, inv.Team, inv.ID, &d.Device)}
		if err := c.do(ctx, "POST", "/v1/join", j, nil); err != nil {
			b.Fatal(err)
		}
		d.Keys, d.Epoch = admin.Keys, admin.Epoch
		devs[i] = d
	}
	if _, err := at.Approve(ctx); err != nil {
		b.Fatal(err)
	}
	at.Close()
	for _, d := range devs {
		d.Members = admin.Members // pushes name the current log position
	}

	wctx, stopWatch := context.WithCancel(ctx)
	var watching sync.WaitGroup
	defer func() { stopWatch(); watching.Wait() }()
	// The watchers are of another team: idle streams, which hear only
	// heartbeats (watchers of the team being pushed to are told of every
	// push, and would each sync).
	var idle *State
	if watchers > 0 {
		iv, err := vault.Create(filepath.Join(b.TempDir(), "idle.db"), []byte("correct horse battery"),
			vault.CreateOptions{KDF: crypto.KDFParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}})
		if err != nil {
			b.Fatal(err)
		}
		defer iv.Close()
		if idle, err = Create(ctx, iv, CreateOptions{Server: hs.URL, Name: "idle", Device: "idle", Member: "idle"}); err != nil {
			b.Fatal(err)
		}
	}
	for range watchers {
		c, err := idle.conn()
		if err != nil {
			b.Fatal(err)
		}
		c.http.Timeout = 0
		w := &Watcher{c: c, Silence: wire.WatchSilence, MaxBackoff: 5 * time.Second}
		watching.Go(func() { w.Run(wctx, func(WatchEvent) {}) })
	}
	for deadline := time.Now().Add(2 * time.Minute); srv.Watching() < watchers; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d watch streams open after 2 minutes", srv.Watching(), watchers)
		}
	}
	var (
		mu      sync.Mutex
		lat     []time.Duration
		next    atomic.Int64
		pushes  atomic.Int64
		failed  atomic.Int64
		wg      sync.WaitGroup
		total   = int64(b.N)
		timeout = time.Now().Add(5 * time.Minute) // bounded, whatever b.N is
	)
	b.ResetTimer()
	start := time.Now()
	for _, d := range devs {
		wg.Go(func() {
			c, err := d.conn()
			if err != nil {
				failed.Add(1)
				return
			}
			id := wire.NewID()
			var version int64
			var mine []time.Duration
			for n := next.Add(1); n <= total && time.Now().Before(timeout); n = next.Add(1) {
				t0 := time.Now()
				if n%2 == 0 {
					rec, err := d.seal(id, version+1, &payload{Name: "load/" + id, Value: []byte("v" + strconv.FormatInt(n, 10))})
					if err != nil {
						failed.Add(1)
						continue
					}
					var resp wire.PushResponse
					if err := c.do(ctx, "POST", "/v1/push", wire.Push{Records: []wire.Record{*rec}}, &resp); err != nil || resp.Results[0].Status != wire.PushOK {
						failed.Add(1)
						continue
					}
					version++
					pushes.Add(1)
				} else {
					var ch wire.Changes
					if err := c.do(ctx, "GET", "/v1/changes?since="+strconv.FormatInt(max(0, n-100), 10), nil, &ch); err != nil {
						failed.Add(1)
						continue
					}
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d requests failed", f)
	}
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(pushes.Load())/elapsed.Seconds(), "pushes/s")
}

var benchPG *pgtest.Server

// BenchPG starts one PostgreSQL for all of the package's benchmarks (or
// skips without one); TestMain stops it with StopBenchPG.
func BenchPG(tb testing.TB) *pgtest.Server {
	if benchPG != nil {
		return benchPG
	}
	s, skip, err := pgtest.ForTest()
	if err != nil {
		tb.Fatal(err)
	}
	if s == nil {
		tb.Skip(skip)
	}
	benchPG = s
	return s
}

// StopBenchPG stops the server BenchPG started, if any.
func StopBenchPG() { benchPG.Stop() }
