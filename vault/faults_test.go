package vault

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFlippedSchemaVersion is the panic of issue 15: one bit of the SQLite
// header's user version (offset 60) made every command panic in migrate.
func TestFlippedSchemaVersion(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a", "1")
	path := v.Path()
	v.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[60] ^= 0x80
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	if !errors.Is(err, ErrDamaged) || !strings.HasPrefix(err.Error(), "vault file damaged: ") {
		t.Fatalf("Open with a flipped schema version = %v, want vault file damaged", err)
	}
}

// TestAuditUnderConcurrency: separate handles (as separate processes)
// write one name at once; every successful change has its audit entry.
func TestAuditUnderConcurrency(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "one", "0")
	key, _ := v.Key()
	const writers, each = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	var failures []error
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h, err := Open(v.Path())
			if err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
				return
			}
			defer h.Close()
			h.UnlockWithKey(key)
			for j := range each {
				h.Intend("set", []string{"one"})
				_, err := h.Set("one", fmt.Appendf(nil, "%d-%d", i, j), Update{})
				if rerr := h.Record("set", []string{"one"}, err); err == nil {
					err = rerr
				}
				mu.Lock()
				if err == nil {
					ok++
				} else {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range failures {
		// Waiting is bounded; giving up must say so plainly.
		if !errors.Is(err, ErrBusy) {
			t.Errorf("a concurrent set failed with %v", err)
		}
	}
	es, err := v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	sets := 0
	for _, e := range es {
		if e.Action == "set" && e.Result == "ok" {
			sets++
		}
	}
	if sets != ok {
		t.Fatalf("%d sets succeeded but the audit log holds %d set entries", ok, sets)
	}
	if ok == 0 {
		t.Fatal("no set succeeded")
	}
}

// TestAuditFailsClosed: when the entry cannot be written, the change is not
// made and the value is not handed out.
func TestAuditFailsClosed(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/K", "before")
	if err := v.Record("get", nil, nil); err != nil {
		t.Fatal(err)
	}
	path := v.Path()
	v.Close()
	if err := os.WriteFile(AuditPath(path), []byte(strings.Repeat("not a database ", 300)), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	v.IntendRead("get", []string{"app/K"})
	if s, err := v.Get("app/K"); err == nil || s != nil {
		t.Fatalf("Get with an unwritable log = %v, %v: want an error and no value", s, err)
	}
	v.IntendRead("export", []string{"app"})
	if l, err := v.Children("app"); err == nil || l != nil {
		t.Fatalf("Children with an unwritable log = %v, %v: want an error and no values", l, err)
	}
	v.Intend("set", []string{"app/K"})
	if _, err := v.Set("app/K", []byte("after"), Update{}); err == nil {
		t.Fatal("Set with an unwritable log succeeded")
	}
	// Without an intent (as a test or a library user reads), the value is
	// unchanged.
	v.intent = nil
	if s, err := v.Get("app/K"); err != nil || string(s.Value) != "before" {
		t.Fatalf("the failed set changed the value: %v, %v", s, err)
	}
}

// TestPurgeManyIsAtomic: rm --purge of several names is one transaction.
func TestPurgeManyIsAtomic(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a", "1")
	mustSet(t, v, "b", "2")
	if err := v.PurgeMany([]string{"a", "b", "missing"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("PurgeMany with a missing name = %v", err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := v.Get(n); err != nil {
			t.Fatalf("%s was purged by a failed batch: %v", n, err)
		}
	}
	if err := v.PurgeMany([]string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := v.Count(); n != 0 {
		t.Fatalf("%d secrets left after purging all", n)
	}
	if _, _, err := v.History("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("history of a purged secret: %v", err)
	}
}

// TestAbsurdKDFRefused: a header asking for an absurd cost is refused
// before any derivation (a denial of service otherwise).
func TestAbsurdKDFRefused(t *testing.T) {
	v := newVault(t)
	path := tamperFile(t, v, `UPDATE header SET kdf_memory = 4194304, kdf_passes = 64`)
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "exceed the maximum") {
		t.Fatalf("Open with a 4 GiB, 64-pass header = %v", err)
	}
}

// TestWhatTheFileShows backs what docs/security.md says is not hidden:
// exact lengths (ciphertext = plaintext + 40) and folder grouping.
func TestWhatTheFileShows(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/prod/A", strings.Repeat("x", 100))
	mustSet(t, v, "app/prod/B", "y")
	mustSet(t, v, "other/C", "z")
	var size int
	if err := v.db.QueryRow(`SELECT length(value) FROM versions WHERE secret_id = (SELECT id FROM secrets WHERE name_mac = ?)`, v.nameMAC("app/prod/A")).Scan(&size); err != nil {
		t.Fatal(err)
	}
	if size != 100+40 {
		t.Fatalf("a 100-byte value is stored in %d bytes; docs/security.md says 140", size)
	}
	var groups int
	if err := v.db.QueryRow(`SELECT count(DISTINCT folder_mac) FROM secrets`).Scan(&groups); err != nil || groups != 2 {
		t.Fatalf("folder grouping: %d distinct folder MACs for 2 folders (%v)", groups, err)
	}
}

// TestBusyVault: a write held by another process past the wait bound gives
// ErrBusy with its plain message, and changes nothing.
func TestBusyVault(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "k", "before")
	path := v.Path()
	v.Close()
	holder, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin() // another hush, writing
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	old := busyTimeout
	busyTimeout = 200 * time.Millisecond
	defer func() { busyTimeout = old }()
	v = reopenKey(t, path)
	_, err = v.Set("k", []byte("after"), Update{})
	if !errors.Is(err, ErrBusy) || err.Error() != "the vault is busy (another hush is writing); try again" {
		t.Fatalf("Set while another process writes = %v", err)
	}
	tx.Rollback()
	if s, err := v.Get("k"); err != nil || string(s.Value) != "before" {
		t.Fatalf("after a busy refusal: %v, %v", s, err)
	}
}
