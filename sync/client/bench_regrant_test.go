package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// BenchmarkRegrantReadAgain: a team of 10,000 root secrets and 1,000 in
// the folder scope dev; the member, ungranted dev (and synced), is granted
// it back: her next sync reads the chain again from its start (attack22
// G1) and takes dev's 1,000 current records. read-s is that sync's wall
// time; noop-s the sync after it (nothing new), for scale.
func BenchmarkRegrantReadAgain(b *testing.B) {
	ctx := context.Background()
	team := func(v *vault.Vault, f func(t *client.Team) error) {
		t, err := client.Open(ctx, v)
		if err != nil {
			b.Fatal(err)
		}
		defer t.Close()
		if err := f(t); err != nil {
			b.Fatal(err)
		}
	}
	var n int
	var read, noop time.Duration
	for b.Loop() {
		b.StopTimer()
		r := newRig(b, b.TempDir()+"/server.db")
		admin, member := pair(b, r.url)
		fill(b, admin, 10000)
		reqs := make([]vault.SetRequest, 1000)
		for i := range reqs {
			reqs[i] = vault.SetRequest{Name: fmt.Sprintf("dev/K%04d", i), Value: []byte("dev-value")}
		}
		if _, err := admin.SetMany(reqs, time.Time{}); err != nil {
			b.Fatal(err)
		}
		for _, v := range []*vault.Vault{admin, member} {
			if _, err := syncV(ctx, v); err != nil {
				b.Fatal(err)
			}
		}
		team(admin, func(t *client.Team) error { _, err := t.Grant(ctx, "member", "dev", "writer"); return err })
		team(admin, func(t *client.Team) error { _, err := t.Ungrant(ctx, "member", "dev"); return err })
		for _, v := range []*vault.Vault{admin, member} {
			if _, err := syncV(ctx, v); err != nil {
				b.Fatal(err)
			}
		}
		team(admin, func(t *client.Team) error { _, err := t.Grant(ctx, "member", "dev", "writer"); return err })
		b.StartTimer()
		t0 := time.Now()
		rep, err := syncV(ctx, member)
		if err != nil || len(rep.ReadAgain) != 1 || rep.Pulled != 1000 {
			b.Fatal(rep, err)
		}
		t1 := time.Now()
		if rep, err := syncV(ctx, member); err != nil || rep.Pulled != 0 {
			b.Fatal(rep, err)
		}
		n++
		read, noop = read+t1.Sub(t0), noop+time.Since(t1)
	}
	b.ReportMetric(read.Seconds()/float64(n), "read-s")
	b.ReportMetric(noop.Seconds()/float64(n), "noop-s")
}
