package client_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// A watcher hears the head move when a teammate pushes, and takes a
// stream that goes silent (no heartbeat within Silence) as dead, says so,
// and opens another.
func TestWatcherHeadsAndSilence(t *testing.T) {
	r := newRig(t, filepath.Join(t.TempDir(), "server.db"))
	admin, member := pair(t, r.url)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := syncV(ctx, member); err != nil {
		t.Fatal(err)
	}
	tm, err := client.Open(ctx, member)
	if err != nil {
		t.Fatal(err)
	}
	w, err := tm.Watcher()
	tm.Close()
	if err != nil {
		t.Fatal(err)
	}
	events := make(chan client.WatchEvent, 64)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx, func(e client.WatchEvent) { events <- e }) }()
	next := func() client.WatchEvent {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-ctx.Done():
			t.Fatal("no watch event within a minute")
		}
		return client.WatchEvent{}
	}
	first := next()
	if first.Kind != client.WatchHead {
		t.Fatalf("first event: %+v", first)
	}
	if _, err := admin.Set("app/NEW", []byte("v"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	if _, err := syncV(ctx, admin); err != nil {
		t.Fatal(err)
	}
	for e := next(); ; e = next() {
		if e.Kind == client.WatchHead && e.Head > first.Head {
			break
		}
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel: %v", err)
	}

	// The server's heartbeat is 10 s: a watcher that wants one every
	// 100 ms takes the stream as dead, and reconnects.
	w.Silence = 100 * time.Millisecond
	wctx, stop = context.WithCancel(ctx)
	defer stop()
	go func() { done <- w.Run(wctx, func(e client.WatchEvent) { events <- e }) }()
	for e := next(); ; e = next() {
		if e.Kind == client.WatchUnreachable && strings.Contains(e.Err.Error(), "nothing heard") {
			break
		}
	}
	for e := next(); e.Kind != client.WatchHead; e = next() {
	}
}
