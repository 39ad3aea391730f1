package client_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/vault"
)

var fastKDF = crypto.KDFParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

// backends runs fn against a SQLite store and, when PostgreSQL is
// installed, a PostgreSQL one.
func backends(b *testing.B, fn func(b *testing.B, dsn func() string)) {
	b.Run("sqlite", func(b *testing.B) {
		fn(b, func() string { return filepath.Join(b.TempDir(), "server.db") })
	})
	b.Run("postgres", func(b *testing.B) {
		pg := client.BenchPG(b)
		fn(b, func() string {
			u, err := pg.NewDatabase(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return u
		})
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	client.StopBenchPG()
	os.Exit(code)
}

type rig struct {
	url  string
	srv  *server.Server
	http *httptest.Server
	st   store.Store
}

func newRig(tb testing.TB, dsn string) *rig {
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	srv := server.New(st, server.Options{Rate: 1e6, Burst: 1e6})
	hs := httptest.NewServer(srv)
	tb.Cleanup(func() { hs.Close(); srv.Close(); st.Close() })
	return &rig{url: hs.URL, srv: srv, http: hs, st: st}
}

func newVault(tb testing.TB) *vault.Vault {
	v, err := vault.Create(filepath.Join(tb.TempDir(), "v.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: fastKDF})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { v.Close() })
	return v
}

func fill(tb testing.TB, v *vault.Vault, n int) {
	reqs := make([]vault.SetRequest, n)
	for i := range reqs {
		reqs[i] = vault.SetRequest{Name: fmt.Sprintf("app/K%05d", i), Value: []byte(fmt.Sprintf("value-%d-abcdefghijklmnopqrstuvwxyz", i))}
	}
	if _, err := v.SetMany(reqs, time.Time{}); err != nil {
		tb.Fatal(err)
	}
}

// syncV syncs v as `hush sync` does: one Team, opened and closed.
func syncV(ctx context.Context, v *vault.Vault) (*client.Report, error) {
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Sync(ctx)
}

// inviteV makes an invitation for a new member, as `hush team invite` does.
func inviteV(ctx context.Context, v *vault.Vault, role string, ttl time.Duration) (*client.Invite, error) {
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Invite(ctx, role, "", ttl)
}

// pair makes a team with an admin vault and an approved member vault.
func pair(tb testing.TB, url string) (admin, member *vault.Vault) {
	ctx := context.Background()
	admin, member = newVault(tb), newVault(tb)
	_, err := client.Create(ctx, admin, client.CreateOptions{Server: url, Name: "bench", Device: "admin", Member: "admin"})
	if err != nil {
		tb.Fatal(err)
	}
	inv, err := inviteV(ctx, admin, "writer", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err = client.Join(ctx, member, inv, client.JoinOptions{Device: "member", Member: "member"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := syncV(ctx, admin); err != nil {
		tb.Fatal(err)
	}
	return admin, member
}

// BenchmarkFirstSync10k: an admin's vault of 10,000 secrets goes up, then
// a new member's first sync brings them all down. push-s and pull-s are
// wall time; push-cpu-s and pull-cpu-s the CPU time of the whole process
// meanwhile (where measured): the client's and the server's, which runs
// in the same process. Each is the mean over the iterations.
func BenchmarkFirstSync10k(b *testing.B) {
	backends(b, func(b *testing.B, dsn func() string) {
		ctx := context.Background()
		var n int
		var push, pull, pushCPU, pullCPU time.Duration
		cpuOK := true
		for b.Loop() {
			b.StopTimer()
			r := newRig(b, dsn())
			admin, member := pair(b, r.url)
			fill(b, admin, 10000)
			b.StartTimer()
			c0, ok0 := processCPU()
			t0 := time.Now()
			rep, err := syncV(ctx, admin)
			if err != nil || rep.Pushed != 10000 {
				b.Fatal(rep, err)
			}
			c1, ok1 := processCPU()
			t1 := time.Now()
			rep, err = syncV(ctx, member)
			if err != nil || rep.Pulled != 10000 {
				b.Fatal(rep, err)
			}
			c2, ok2 := processCPU()
			n++
			push, pull = push+t1.Sub(t0), pull+time.Since(t1)
			pushCPU, pullCPU = pushCPU+c1-c0, pullCPU+c2-c1
			cpuOK = cpuOK && ok0 && ok1 && ok2
		}
		b.ReportMetric(push.Seconds()/float64(n), "push-s")
		b.ReportMetric(pull.Seconds()/float64(n), "pull-s")
		if cpuOK {
			b.ReportMetric(pushCPU.Seconds()/float64(n), "push-cpu-s")
			b.ReportMetric(pullCPU.Seconds()/float64(n), "pull-cpu-s")
		}
	})
}

// BenchmarkIncrementalSync: one secret changes on one device; the time is
// that device's push plus the other's pull, in a vault of 10,000.
func BenchmarkIncrementalSync(b *testing.B) {
	backends(b, func(b *testing.B, dsn func() string) {
		ctx := context.Background()
		r := newRig(b, dsn())
		admin, member := pair(b, r.url)
		fill(b, admin, 10000)
		if _, err := syncV(ctx, admin); err != nil {
			b.Fatal(err)
		}
		if _, err := syncV(ctx, member); err != nil {
			b.Fatal(err)
		}
		i := 0
		var push, pull time.Duration
		for b.Loop() {
			i++
			if _, err := admin.Set("app/K00042", []byte(fmt.Sprint("changed-", i)), vault.Update{}); err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			rep, err := syncV(ctx, admin)
			if err != nil || rep.Pushed != 1 {
				b.Fatal(rep, err)
			}
			t1 := time.Now()
			rep, err = syncV(ctx, member)
			if err != nil || rep.Pulled != 1 {
				b.Fatal(rep, err)
			}
			push, pull = push+t1.Sub(t0), pull+time.Since(t1)
		}
		b.ReportMetric(float64(push.Milliseconds())/float64(i), "push-sync-ms")
		b.ReportMetric(float64(pull.Milliseconds())/float64(i), "pull-sync-ms")
	})
}
