package vault

import (
	"database/sql"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
)

// anchoredVault has 10 log entries: sets (changes) and gets (reads).
func anchoredVault(t *testing.T) *Vault {
	t.Helper()
	v := newVault(t)
	for i, action := range []string{"set", "get", "set", "get", "get", "set", "set", "get", "set", "set"} {
		if action == "set" {
			v.Intend(action, []string{"app/K"})
			mustSet(t, v, "app/K", string(rune('a'+i)))
		} else {
			v.IntendRead(action, []string{"app/K"})
			if _, err := v.Get("app/K"); err != nil {
				t.Fatal(err)
			}
		}
		if err := v.Record(action, []string{"app/K"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	es, err := v.Audit()
	if err != nil || len(es) != 10 {
		t.Fatalf("setup: %d entries, %v", len(es), err)
	}
	return v
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func reopenKey(t *testing.T, path string) *Vault {
	t.Helper()
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	return v
}

// wantBroken checks that Audit (hush audit --verify) and the next change
// both report the log, naming the entry where vault and log part.
func wantBroken(t *testing.T, v *Vault, seq int, says string) {
	t.Helper()
	_, err := v.Audit()
	var ae *AuditError
	if !errors.As(err, &ae) || ae.Seq != seq || !strings.Contains(err.Error(), says) {
		t.Fatalf("Audit = %v, want entry %d and %q", err, seq, says)
	}
	v.Intend("set", []string{"app/K"})
	if _, err := v.Set("app/K", []byte("later"), Update{}); !errors.As(err, &ae) {
		t.Fatalf("a change over a broken log = %v, want it refused", err)
	}
}

// TestAnchorFindsACutLog: deleting rows, cutting the file to 0 bytes,
// deleting the file, or putting an older copy back is found.
func TestAnchorFindsACutLog(t *testing.T) {
	t.Run("rows deleted", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		v.Close()
		db, _ := sql.Open("sqlite3", "file:"+AuditPath(path))
		if _, err := db.Exec(`DELETE FROM audit; DELETE FROM audit_head`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		wantBroken(t, reopenKey(t, path), 1, "anchor says it reached entry 10")
	})
	t.Run("file cut to 0 bytes", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		v.Close()
		if err := os.Truncate(AuditPath(path), 0); err != nil {
			t.Fatal(err)
		}
		wantBroken(t, reopenKey(t, path), 1, "holds 0 entries")
	})
	t.Run("file and anchor rows deleted", func(t *testing.T) {
		v := anchoredVault(t)
		path := tamperFile(t, v, `DELETE FROM audit_anchor`, `DELETE FROM anchor`)
		os.Remove(AuditPath(path))
		v = reopenKey(t, path)
		_, err := v.Audit()
		wantTampered(t, "anchor deleted", err)
		if err := v.Record("get", nil, nil); !errors.Is(err, ErrTampered) {
			t.Fatalf("Record over a deleted anchor = %v: a new log started silently", err)
		}
	})
	t.Run("older copy put back", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		old := path + ".old-audit"
		copyFile(t, AuditPath(path), old) // 10 entries
		for range 3 {
			v.Intend("set", []string{"app/K"})
			mustSet(t, v, "app/K", "newer")
		}
		v.Close()
		copyFile(t, old, AuditPath(path))
		wantBroken(t, reopenKey(t, path), 11, "holds 10 entries, but the vault's anchor says it reached entry 13")
	})
	t.Run("another log", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		v.Intend("set", []string{"app/K"})
		mustSet(t, v, "app/K", "newer")
		v.Close()
		// The same number of entries, but not this vault's last ones.
		db, _ := sql.Open("sqlite3", "file:"+AuditPath(path))
		if _, err := db.Exec(`UPDATE audit SET mac = randomblob(32) WHERE seq = 11`); err != nil {
			t.Fatal(err)
		}
		db.Close()
		v = reopenKey(t, path)
		if err := v.checkAnchorNow(); err == nil || !strings.Contains(err.Error(), "entry 11") {
			t.Fatalf("a log with another entry 11 = %v", err)
		}
	})
}

func (v *Vault) checkAnchorNow() error {
	if err := v.attachAudit(); err != nil {
		return err
	}
	a, err := v.readAnchor(v.db)
	if err != nil {
		return err
	}
	return v.checkAnchor(v.db, a)
}

// TestAnchorFindsAVaultBackInTime: the vault rolled back (an older copy, or
// its -wal lost) while the log was kept.
func TestAnchorFindsAVaultBackInTime(t *testing.T) {
	t.Run("older copy of the vault", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		v.Close()
		copyFile(t, path, path+".old") // closed: everything is in the main file
		v = reopenKey(t, path)
		v.Intend("set", []string{"app/K"})
		mustSet(t, v, "app/K", "after the copy")
		if err := v.Record("set", []string{"app/K"}, nil); err != nil {
			t.Fatal(err)
		}
		v.Close()
		os.Remove(path + "-wal")
		copyFile(t, path+".old", path)
		v = reopenKey(t, path)
		wantBroken(t, v, 11, "the vault went back in time")
		v.IntendRead("get", []string{"app/K"})
		if _, err := v.Get("app/K"); err == nil {
			t.Fatal("a get on a vault that went back in time served a value")
		}
	})
	t.Run("-wal lost", func(t *testing.T) {
		v := anchoredVault(t)
		path := v.Path()
		v.Close()
		v = reopenKey(t, path)
		// Keep the next change in the -wal only: a second handle holds a
		// read open so that it cannot be checkpointed into the main file.
		holder, err := sql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		tx, err := holder.Begin()
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := tx.QueryRow(`SELECT count(*) FROM secrets`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		v.Intend("set", []string{"app/K"})
		mustSet(t, v, "app/K", "only in the wal")
		v.Record("set", []string{"app/K"}, nil)
		v.Close()
		// The main file as it is now is the vault without its -wal.
		main, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		holder.Close()
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		if err := os.WriteFile(path, main, 0o600); err != nil {
			t.Fatal(err)
		}
		v = reopenKey(t, path)
		if s, err := v.Get("app/K"); err != nil || string(s.Value) == "only in the wal" {
			t.Fatalf("setup: the change was not lost with the -wal: %v", err)
		}
		wantBroken(t, v, 11, "the vault went back in time")
	})
}

// TestGetDoesNotWriteTheVault: reads are logged without a vault write, so a
// get stays fast; the price (entries after the last change are not
// anchored) is documented in docs/security.md.
func TestGetDoesNotWriteTheVault(t *testing.T) {
	v := anchoredVault(t)
	path := v.Path()
	before := func() []byte { b, _ := os.ReadFile(path); w, _ := os.ReadFile(path + "-wal"); return append(b, w...) }()
	for range 3 {
		v.IntendRead("get", []string{"app/K"})
		if _, err := v.Get("app/K"); err != nil {
			t.Fatal(err)
		}
		v.Record("get", []string{"app/K"}, nil)
	}
	after := func() []byte { b, _ := os.ReadFile(path); w, _ := os.ReadFile(path + "-wal"); return append(b, w...) }()
	if string(before) != string(after) {
		t.Fatal("a get wrote the vault file")
	}
	if es, err := v.Audit(); err != nil || len(es) != 13 {
		t.Fatalf("the gets were not logged: %d, %v", len(es), err)
	}
}

// TestFormat1Upgrade: a vault made before the anchor is upgraded at its
// first unlock by passphrase; from then on its anchor cannot be removed.
func TestFormat1Upgrade(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "k", "v")
	// Make it what an older hush wrote: format 1, no anchor.
	downgrade(t, v, 1)
	key, _ := v.Key()
	path := v.Path()
	v.Close()

	v, _ = Open(path)
	if err := v.UnlockWithKey(key); err != nil {
		t.Fatal(err)
	}
	if s, err := v.Get("k"); err != nil || string(s.Value) != "v" || v.hdr.format != 1 {
		t.Fatalf("format 1 vault with a remembered key: %v, %v, format %d", s, err, v.hdr.format)
	}
	v.Close()
	v = reopenKey(t, path)
	if v.hdr.format != Format {
		t.Fatalf("format %d after unlocking by passphrase, want %d", v.hdr.format, Format)
	}
	mustSet(t, v, "k", "v2")
	v.Close()
	path = tamperFile(t, v, `DELETE FROM anchor`)
	v, _ = Open(path)
	defer v.Close()
	if err := v.UnlockWithKey(key); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("k", []byte("v3"), Update{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("a change after the anchor was deleted = %v", err)
	}
	// Setting the format back needs the passphrase: the header is refused.
	path = tamperFile(t, v, `UPDATE header SET format = 1`)
	v2, _ := Open(path)
	defer v2.Close()
	wantTampered(t, "format set back", v2.Unlock(testPass))
}

// TestListingsFindAVaultBackInTime: ls, ls --all, due (List and
// ListWithPolicies), history, the browser's index and status (Count, with
// the key) write no log entry, but must not answer from a vault put back
// to an older copy either: they say what a get says.
func TestListingsFindAVaultBackInTime(t *testing.T) {
	v := anchoredVault(t)
	path := v.Path()
	v.Close()
	copyFile(t, path, path+".old")
	v = reopenKey(t, path)
	v.Intend("set", []string{"app/K"})
	mustSet(t, v, "app/K", "after the copy")
	v.Close()
	os.Remove(path + "-wal")
	copyFile(t, path+".old", path)
	v = reopenKey(t, path)
	reads := map[string]func() error{
		"ls":      func() error { _, err := v.List(""); return err },
		"due":     func() error { _, err := v.ListWithPolicies(""); return err },
		"index":   func() error { _, err := v.Index(); return err },
		"history": func() error { _, _, err := v.History("app/K"); return err },
		"status":  func() error { _, err := v.Count(); return err },
	}
	for name, read := range reads {
		err := read()
		if err == nil || !strings.Contains(err.Error(), "the vault went back in time") {
			t.Errorf("%s on a vault that went back in time: %v", name, err)
		}
	}
}

// downgrade makes v what an older hush of record format f wrote: the
// header's format (wrapped again), row MACs (none before format 3,
// without the change number before format 5), the policy set's MAC
// (none before format 4) and the anchor (none before format 2, tagged
// without the contents before format 5). The vault is left open.
func downgrade(t *testing.T, v *Vault, f int) {
	t.Helper()
	v.hdr.format = f
	if err := v.wrap(testPass, crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	h := v.hdr
	if _, err := v.db.Exec(`UPDATE header SET format = ?, salt = ?, check_mac = ?, wrapped_key = ?, header_mac = ?; UPDATE secrets SET changed = 0`,
		f, h.salt, h.checkMAC, h.wrappedKey, h.headerMAC); err != nil {
		t.Fatal(err)
	}
	if f < 3 {
		if _, err := v.db.Exec(`UPDATE secrets SET row_mac = NULL; DELETE FROM folders`); err != nil {
			t.Fatal(err)
		}
	} else if err := v.sealAllRows(v.db); err != nil {
		t.Fatal(err)
	}
	if f < 4 {
		if _, err := v.db.Exec(`DELETE FROM policy_set`); err != nil {
			t.Fatal(err)
		}
	}
	if f < 2 {
		if _, err := v.db.Exec(`DELETE FROM anchor`); err != nil {
			t.Fatal(err)
		}
		return
	}
	if err := v.attachAudit(); err != nil {
		t.Fatal(err)
	}
	a, err := func() (*anchor, error) {
		var a anchor
		err := v.db.QueryRow(`SELECT seq, mac, changes FROM anchor`).Scan(&a.seq, &a.mac, &a.changes)
		return &a, err
	}()
	if err != nil {
		t.Fatal(err)
	}
	if err := v.writeAnchor(v.db, anchor{seq: a.seq, mac: a.mac, changes: a.changes}); err != nil {
		t.Fatal(err)
	}
}

// TestAReadChecksTheAnchorsEntry: a get's audit entry chains onto the last
// entry that the anchor check read in the same transaction, and compares
// the anchor's entry from that read when it is the last one (a get right
// after a change) or selects it when it is not (a get after another get).
// Either way, a log whose anchored entry is not the one the vault
// recorded refuses the read, and nothing is appended; untouched, every
// read's entry extends a chain that checks whole.
func TestAReadChecksTheAnchorsEntry(t *testing.T) {
	read := func(v *Vault) error {
		v.IntendRead("get", []string{"app/K"})
		_, err := v.Get("app/K")
		return err
	}
	// setup: a change (the anchored entry, 1), then reads reads, closed.
	setup := func(t *testing.T, reads int) string {
		v := newVault(t)
		v.Intend("set", []string{"app/K"})
		mustSet(t, v, "app/K", "v1")
		for range reads {
			if err := read(v); err != nil {
				t.Fatal(err)
			}
		}
		path := v.Path()
		v.Close()
		return path
	}
	entries := func(t *testing.T, path string) int {
		db, _ := sql.Open("sqlite3", "file:"+AuditPath(path))
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM audit`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name  string
		reads int // gets after the change, before the one checked
	}{
		{"anchored entry is the last", 0},
		{"anchored entry is not the last", 2},
	} {
		t.Run(tc.name+", untouched", func(t *testing.T) {
			v := reopenKey(t, setup(t, tc.reads))
			for range 2 {
				if err := read(v); err != nil {
					t.Fatal(err)
				}
			}
			if es, err := v.Audit(); err != nil || len(es) != 3+tc.reads {
				t.Fatalf("%d entries, %v; want %d whose chain checks", len(es), err, 3+tc.reads)
			}
		})
		t.Run(tc.name+", its MAC changed", func(t *testing.T) {
			path := setup(t, tc.reads)
			db, _ := sql.Open("sqlite3", "file:"+AuditPath(path))
			if _, err := db.Exec(`UPDATE audit SET mac = randomblob(32) WHERE seq = 1`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			n := entries(t, path)
			v := reopenKey(t, path)
			err := read(v)
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Seq != 1 || !strings.Contains(err.Error(), "is not the entry the vault's anchor names") {
				t.Fatalf("a read over a replaced anchored entry = %v, want it refused at entry 1", err)
			}
			v.Close()
			if after := entries(t, path); after != n {
				t.Fatalf("the refused read appended an entry: %d entries, then %d", n, after)
			}
		})
	}
}

// TestACutLogIsNotHidden: an older copy of the vault put back (or its -wal
// lost) together with the log cut back to the entry that copy anchored
// gives a vault and a log that agree; only the log's head still names the
// real end. Every command compares it, refuses, and leaves it as it is, so
// `hush audit --verify` keeps finding the cut (outside attack attack25 #1:
// a get served the older value, and its own append rewrote the head).
func TestACutLogIsNotHidden(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep int // entries left in the log
		says string
		at   int
	}{
		{"cut to the older copy's anchor", 10, "the log ends at 10 but its head says 14: entries were cut off", 11},
		// One short of the older copy's anchor: the anchor's kept entry
		// would fit there (a crash leaves a log so), but the head says
		// the log went further: not put back, refused.
		{"cut to one before it", 9, "the log ends at 9 but its head says 14: entries were cut off", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := anchoredVault(t) // 10 entries, the last a change
			path := v.Path()
			v.Close()
			copyFile(t, path, path+".old")
			v = reopenKey(t, path)
			for i, action := range []string{"set", "get", "set", "get"} { // entries 11-14
				if action == "set" {
					v.Intend(action, []string{"app/K"})
					mustSet(t, v, "app/K", "newer "+string(rune('a'+i)))
				} else {
					v.IntendRead(action, []string{"app/K"})
					if _, err := v.Get("app/K"); err != nil {
						t.Fatal(err)
					}
				}
				if err := v.Record(action, []string{"app/K"}, nil); err != nil {
					t.Fatal(err)
				}
			}
			v.Close()
			os.Remove(path + "-wal")
			copyFile(t, path+".old", path)
			db, _ := sql.Open("sqlite3", "file:"+AuditPath(path))
			if _, err := db.Exec(`DELETE FROM audit WHERE seq > ?`, tc.keep); err != nil {
				t.Fatal(err)
			}
			db.Close()

			v = reopenKey(t, path)
			v.IntendRead("get", []string{"app/K"})
			s, err := v.Get("app/K")
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Seq != tc.at || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("a get over a cut log = %v (value served: %v), want entry %d: %q", err, s != nil, tc.at, tc.says)
			}
			if err := v.Record("get", []string{"app/K"}, nil); err == nil {
				t.Fatal("an entry was appended to a cut log")
			}
			v.Close()
			// Nothing rewrote the head: verify still finds the cut.
			wantBroken(t, reopenKey(t, path), tc.at, tc.says)
		})
	}
}
