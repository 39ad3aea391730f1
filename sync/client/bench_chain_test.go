package client_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// The cost of the change chain, paired: each iteration runs the same work
// on a v1 team (records only, as before the chain) and on a chained team,
// one after the other, on the same machine and server code, so that load
// from elsewhere hits both alike. Figures in docs/benchmarks.md.
//
//	go test -run '^$' -bench ChainCost -benchtime 3x ./sync/client/

// syncMode syncs v as `hush sync` does, with v1 only when v1 is set.
func syncMode(ctx context.Context, v *vault.Vault, v1 bool) (*client.Report, error) {
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	t.SetV1(v1)
	return t.Sync(ctx)
}

// pairMode is pair for a v1 team or a chained one.
func pairMode(tb testing.TB, url string, v1 bool) (admin, member *vault.Vault) {
	ctx := context.Background()
	admin, member = newVault(tb), newVault(tb)
	create := client.Create
	if v1 {
		create = client.CreateV1
	}
	if _, err := create(ctx, admin, client.CreateOptions{Server: url, Name: "bench", Device: "admin", Member: "admin"}); err != nil {
		tb.Fatal(err)
	}
	inv, err := inviteV(ctx, admin, "writer", time.Hour)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err = client.Join(ctx, member, inv, client.JoinOptions{Device: "member", Member: "member"}); err != nil {
		tb.Fatal(err)
	}
	if _, err := syncMode(ctx, admin, v1); err != nil {
		tb.Fatal(err)
	}
	return admin, member
}

// BenchmarkChainCost: the first push of 10,000 secrets, a new member's
// first pull of them, a sync with nothing to do, and one changed secret
// (push, then the other device's pull), v1 against the chain.
func BenchmarkChainCost(b *testing.B) {
	ctx := context.Background()
	sum := map[string]float64{}
	n := 0
	for b.Loop() {
		n++
		for _, mode := range []struct {
			name string
			v1   bool
		}{{"v1", true}, {"chain", false}} {
			b.StopTimer()
			r := newRig(b, filepath.Join(b.TempDir(), "server.db"))
			admin, member := pairMode(b, r.url, mode.v1)
			fill(b, admin, 10000)
			b.StartTimer()
			t0 := time.Now()
			if rep, err := syncMode(ctx, admin, mode.v1); err != nil || rep.Pushed != 10000 {
				b.Fatal(rep, err)
			}
			t1 := time.Now()
			if rep, err := syncMode(ctx, member, mode.v1); err != nil || rep.Pulled != 10000 {
				b.Fatal(rep, err)
			}
			t2 := time.Now()
			if rep, err := syncMode(ctx, member, mode.v1); err != nil || rep.Pulled+rep.Pushed != 0 {
				b.Fatal(rep, err)
			}
			t3 := time.Now()
			if _, err := admin.Set("app/K00042", []byte(fmt.Sprint("changed-", mode.name)), vault.Update{}); err != nil {
				b.Fatal(err)
			}
			t4 := time.Now()
			if rep, err := syncMode(ctx, admin, mode.v1); err != nil || rep.Pushed != 1 {
				b.Fatal(rep, err)
			}
			if rep, err := syncMode(ctx, member, mode.v1); err != nil || rep.Pulled != 1 {
				b.Fatal(rep, err)
			}
			t5 := time.Now()
			sum[mode.name+"-push10k-s"] += t1.Sub(t0).Seconds()
			sum[mode.name+"-pull10k-s"] += t2.Sub(t1).Seconds()
			sum[mode.name+"-noop-ms"] += float64(t3.Sub(t2).Microseconds()) / 1000
			sum[mode.name+"-one-ms"] += float64(t5.Sub(t4).Microseconds()) / 1000
		}
	}
	for k, v := range sum {
		b.ReportMetric(v/float64(n), k) // the mean over iterations
	}
}

// BenchmarkChainNoop: a sync with nothing to do, in a team of 10,000
// secrets, v1 and the chain interleaved.
func BenchmarkChainNoop(b *testing.B) {
	ctx := context.Background()
	type side struct {
		name   string
		v1     bool
		member *vault.Vault
		took   time.Duration
	}
	sides := []*side{{name: "v1", v1: true}, {name: "chain"}}
	for _, sd := range sides {
		r := newRig(b, filepath.Join(b.TempDir(), "server.db"))
		admin, member := pairMode(b, r.url, sd.v1)
		fill(b, admin, 10000)
		if _, err := syncMode(ctx, admin, sd.v1); err != nil {
			b.Fatal(err)
		}
		if _, err := syncMode(ctx, member, sd.v1); err != nil {
			b.Fatal(err)
		}
		sd.member = member
	}
	n := 0
	for b.Loop() {
		n++
		for _, sd := range sides {
			t0 := time.Now()
			if rep, err := syncMode(ctx, sd.member, sd.v1); err != nil || rep.Pulled+rep.Pushed != 0 {
				b.Fatal(rep, err)
			}
			sd.took += time.Since(t0)
		}
	}
	for _, sd := range sides {
		b.ReportMetric(float64(sd.took.Microseconds())/1000/float64(n), sd.name+"-noop-ms")
	}
}
