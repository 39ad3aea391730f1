//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// BenchmarkWatchLatency: a real `hush server` process, two devices (alice
// and bob, each its own HUSH_HOME) and bob's `hush sync --watch` process.
// Each iteration alice sets a new value and syncs (in this process, on
// her real vault); the time is from the start of that sync to the moment
// bob's watch says it pulled the change (its sync has committed it: `hush get` on bob reads
// it from then on). Reported: p50 and p99 of that (push-to-readable-ms),
// and, for scale, how long a whole `hush sync` process takes alice
// (alice-sync-ms): process start, unlocking, the push, the confirming pull.
func BenchmarkWatchLatency(b *testing.B) {
	dir := b.TempDir()
	bin := buildBinary(b, dir, ".", "hush")
	addr := filepath.Join(dir, "addr")
	srv := exec.Command(bin, "server", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "srv.db"), "--addr-file", addr)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	var url string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if s, err := os.ReadFile(addr); err == nil && strings.HasSuffix(string(s), "\n") {
			url = strings.TrimSpace(string(s))
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the server did not start")
		}
	}
	env := func(who string) []string {
		return append(os.Environ(), "HUSH_HOME="+filepath.Join(dir, who), "HUSH_PASSPHRASE=correct horse battery staple",
			"HUSH_NEW_PASSPHRASE=correct horse battery staple", "HUSH_VAULT=")
	}
	hush := func(who string, args ...string) string {
		cmd := exec.Command(bin, args...)
		cmd.Env = env(who)
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			b.Fatalf("%s: hush %v: %v\n%s", who, args, err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	hush("alice", "init", "--kdf-memory", "19", "--kdf-passes", "2")
	hush("alice", "set", "app/TOKEN", "v-0")
	hush("alice", "team", "create", "--server", url, "--name", "bench", "--device", "alice", "--member", "alice")
	code := hush("alice", "team", "invite", "--role", "writer")
	hush("bob", "team", "join", code, "--device", "bob", "--member", "bob")
	hush("bob", "passwd", "--kdf-memory", "19", "--kdf-passes", "2")
	hush("alice", "sync")
	hush("bob", "sync")

	watch := exec.Command(bin, "sync", "--watch")
	watch.Env = env("bob")
	stderr, err := watch.StderrPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := watch.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { watch.Process.Signal(os.Interrupt); watch.Wait() }()
	type line struct {
		text string
		at   time.Time
	}
	lines := make(chan line, 64)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- line{sc.Text(), time.Now()}
		}
		close(lines)
	}()
	await := func(prefix string) time.Time {
		timeout := time.After(time.Minute)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					b.Fatalf("the watch ended before %q", prefix)
				}
				if strings.HasPrefix(l.text, prefix) {
					return l.at
				}
			case <-timeout:
				b.Fatalf("no %q from the watch within a minute", prefix)
			}
		}
	}
	await("watching the team server")
	// alice's half runs in this process on her real vault: the figure is
	// then the push and the watching device, not a process start and
	// an Argon2id unlock on alice's side (alice-sync-ms, a whole `hush
	// sync` process, is reported beside it).
	av, err := vault.Open(filepath.Join(dir, "alice", "vaults", "default.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer av.Close()
	if err := av.Unlock([]byte("correct horse battery staple")); err != nil {
		b.Fatal(err)
	}
	var lat, push []time.Duration
	i := 0
	ctx := context.Background()
	for b.Loop() {
		i++
		b.StopTimer()
		if _, err := av.Set("app/TOKEN", fmt.Appendf(nil, "v-%d", i), vault.Update{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t0 := time.Now()
		t, err := client.Open(ctx, av)
		if err != nil {
			b.Fatal(err)
		}
		rep, err := t.Sync(ctx)
		t.Close()
		if err != nil || rep.Pushed != 1 {
			b.Fatalf("alice's sync: %v (%+v)", err, rep)
		}
		lat = append(lat, await("pulled 1, pushed 0").Sub(t0))
	}
	b.StopTimer()
	av.Close()
	for range 5 { // a whole `hush sync` process on alice's side, for scale
		hush("alice", "set", "app/TOKEN", fmt.Sprintf("v-%d", i+1))
		t0 := time.Now()
		hush("alice", "sync")
		push = append(push, time.Since(t0))
		await("pulled 1, pushed 0")
		i++
	}
	if got := hush("bob", "get", "app/TOKEN"); got != fmt.Sprintf("v-%d", i) {
		b.Fatalf("bob reads %q after %d changes", got, i)
	}
	slices.Sort(lat)
	slices.Sort(push)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "push-to-readable-p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "push-to-readable-p99-ms")
	b.ReportMetric(ms(push[len(push)/2]), "alice-sync-p50-ms")
}
