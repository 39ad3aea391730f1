package vaultwatch

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A write to the vault file, or to its write-ahead log alone, changes the
// stamp.
func TestStamp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	s0 := Stamp(path)
	if err := os.WriteFile(path, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	s1 := Stamp(path)
	if err := os.WriteFile(path+"-wal", []byte("w"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2 := Stamp(path)
	if s0 == s1 || s1 == s2 {
		t.Fatalf("stamps %q, %q, %q: a write went unseen", s0, s1, s2)
	}
}

// Follow calls changed after a write, and ends when changed says so.
func TestFollowSeesWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.db")
	done := make(chan struct{})
	go func() {
		defer close(done)
		Follow(context.Background(), path, 10*time.Millisecond, func() bool { return false })
	}()
	// Follow takes its first stamp when it starts: write until it sees one.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				os.WriteFile(path, make([]byte, i), 0o600)
			}
		}
	}()
	defer wg.Wait()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("Follow saw no write within 60s")
	}
}
