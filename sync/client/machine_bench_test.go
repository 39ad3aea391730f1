package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// BenchmarkTokenRead10k: a machine token's read of a team of 10,000
// secrets into a memory vault, in process (what `HUSH_TOKEN=... hush run`
// does before it starts the command).
func BenchmarkTokenRead10k(b *testing.B) {
	ctx := context.Background()
	r := newRig(b, b.TempDir()+"/srv.db")
	admin, _ := pair(b, r.url)
	fill(b, admin, 10000)
	if _, err := syncV(ctx, admin); err != nil {
		b.Fatal(err)
	}
	t, err := client.Open(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := t.InviteMachine(ctx, "bench-ci", "reader", time.Hour)
	t.Close()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		v, err := vault.CreateMemory()
		if err != nil {
			b.Fatal(err)
		}
		mt, err := client.OpenToken(v, tok)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := mt.Sync(ctx)
		if err != nil || rep.Pulled != 10000 {
			b.Fatal(rep, err)
		}
		v.Close()
	}
}

// BenchmarkTokenRead10kScoped is BenchmarkTokenRead10k for a machine
// whose only scope is a folder of 50 of the 10,000 secrets.
func BenchmarkTokenRead10kScoped(b *testing.B) {
	ctx := context.Background()
	r := newRig(b, b.TempDir()+"/srv.db")
	admin, _ := pair(b, r.url)
	fill(b, admin, 9950)
	folder := "ci/prod"
	reqs := make([]vault.SetRequest, 50)
	for i := range reqs {
		reqs[i] = vault.SetRequest{Name: fmt.Sprintf("%s/K%02d", folder, i), Value: []byte("scoped-value")}
	}
	if _, err := admin.SetMany(reqs, time.Time{}); err != nil {
		b.Fatal(err)
	}
	if _, err := syncV(ctx, admin); err != nil {
		b.Fatal(err)
	}
	t, err := client.Open(ctx, admin)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := t.InviteMachineScoped(ctx, "bench-ci", "reader", time.Hour, []string{folder})
	if err == nil {
		_, err = t.Sync(ctx) // the folder's secrets go up sealed into its scope
	}
	t.Close()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		v, err := vault.CreateMemory()
		if err != nil {
			b.Fatal(err)
		}
		mt, err := client.OpenToken(v, tok)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := mt.Sync(ctx)
		if err != nil || rep.Pulled != 50 {
			b.Fatal(rep, err)
		}
		v.Close()
	}
}
