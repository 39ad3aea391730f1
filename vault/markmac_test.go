package vault

import (
	"database/sql"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
)

// markedVault is a vault with two secrets a sync client has marked: a/x in
// step with the server (version 2), a/y in conflict with a teammate's
// version 3. The file is closed; its path is returned, with a copy of it
// (good) to start each case from.
func markedVault(t *testing.T) (path, good string) {
	t.Helper()
	v := newVault(t)
	mustSet(t, v, "a/x", "x")
	mustSet(t, v, "a/y", "y")
	x, y := hex.EncodeToString(idOf(t, v, "a/x")), hex.EncodeToString(idOf(t, v, "a/y"))
	if err := v.Replica().PutMarks(map[string]SyncMark{
		x: {Base: 2, Seen: 2, LocalHead: 1},
		y: {Base: 1, Seen: 3, LocalHead: 0, Theirs: []byte(`{"id":"` + y + `","version":3}`)},
	}); err != nil {
		t.Fatal(err)
	}
	path = v.Path()
	v.Close()
	good = path + ".good"
	copyFile(t, path, good)
	return path, good
}

// editFile puts the good copy back and runs stmts on it, as a process of
// the user's without the key would.
func editFile(t *testing.T, path, good string, stmts ...string) {
	t.Helper()
	os.Remove(path + "-wal")
	os.Remove(path + "-shm")
	copyFile(t, good, path)
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// wantMarkTampered: err is local tampering, naming the secret, telling the
// user to restore the vault, and never blaming the server.
func wantMarkTampered(t *testing.T, what string, err error, name string) {
	t.Helper()
	wantTampered(t, what, err)
	if err == nil {
		return
	}
	for _, s := range []string{"the sync bookkeeping of " + name, "restore the vault from a backup"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%s: %v, want it to say %q", what, err, s)
		}
	}
	if strings.Contains(err.Error(), "went backwards") {
		t.Errorf("%s blames the server: %v", what, err)
	}
}

// TestSyncMarkEditedOutsideHush: a secret's sync bookkeeping edited in the
// file (outside attack attack25 #4, #9) is refused as tampering, naming
// the secret, by every read a sync or `hush resolve` makes: `seen` raised
// (which froze the device, blaming the server), `seen` and `base` raised,
// a record planted as a teammate's conflicting version (an older version,
// or another secret's record, from the server's database), another row's
// columns copied with their MAC, or the MAC cleared.
func TestSyncMarkEditedOutsideHush(t *testing.T) {
	path, good := markedVault(t)
	v := reopenKey(t, good)
	x, y := idOf(t, v, "a/x"), idOf(t, v, "a/y")
	v.Close()
	xh, yh := hex.EncodeToString(x), hex.EncodeToString(y)
	cases := []struct {
		name, secret string
		stmts        []string
	}{
		{"seen raised", "a/x", []string{`UPDATE sync_records SET seen = 1000 WHERE hex(id) = '` + strings.ToUpper(xh) + `'`}},
		{"seen and base raised", "a/x", []string{`UPDATE sync_records SET seen = 1000, base = 1000 WHERE hex(id) = '` + strings.ToUpper(xh) + `'`}},
		{"a record planted", "a/x", []string{`UPDATE sync_records SET theirs = CAST('{"id":"` + xh + `","version":1}' AS BLOB) WHERE hex(id) = '` + strings.ToUpper(xh) + `'`}},
		{"an older record put in theirs", "a/y", []string{`UPDATE sync_records SET theirs = CAST('{"id":"` + yh + `","version":1}' AS BLOB) WHERE hex(id) = '` + strings.ToUpper(yh) + `'`}},
		{"another secret's columns copied", "a/x", []string{`UPDATE sync_records SET (base, seen, local_head, local_deleted, theirs, mac) =
			(SELECT base, seen, local_head, local_deleted, theirs, mac FROM sync_records WHERE hex(id) = '` + strings.ToUpper(yh) + `') WHERE hex(id) = '` + strings.ToUpper(xh) + `'`}},
		{"mac cleared", "a/x", []string{`UPDATE sync_records SET mac = NULL WHERE hex(id) = '` + strings.ToUpper(xh) + `'`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			editFile(t, path, good, c.stmts...)
			v := reopenKey(t, path)
			rp := v.Replica()
			_, err := rp.TrackedByID([][]byte{x, y})
			wantMarkTampered(t, "TrackedByID (a sync's page)", err, c.secret)
			_, err = rp.Tracked()
			wantMarkTampered(t, "Tracked", err, c.secret)
			wantMarkTampered(t, "CheckFile (audit --verify)", v.CheckFile(), c.secret)
			if c.secret == "a/y" || strings.Contains(c.name, "planted") || strings.Contains(c.name, "copied") {
				_, err = v.Conflicts()
				wantMarkTampered(t, "Conflicts (ls, resolve)", err, c.secret)
				id := xh
				if c.secret == "a/y" {
					id = yh
				}
				_, err = v.HasConflict(id)
				wantMarkTampered(t, "HasConflict (get)", err, c.secret)
			}
			if strings.HasPrefix(c.name, "seen") || c.name == "mac cleared" {
				// (it leaves a mark holding a conflict alone)
				wantMarkTampered(t, "Reseal", rp.Reseal(), c.secret)
			}
			// A key rotation does not seal the edit as if it were hush's.
			err = v.RotateKey(testPass, crypto.FloorKDF)
			wantMarkTampered(t, "RotateKey", err, c.secret)
		})
	}

	// The untouched file: every read checks out, and the marks are as written.
	editFile(t, path, good)
	v = reopenKey(t, path)
	ts, err := v.Replica().TrackedByID([][]byte{x, y})
	if err != nil || len(ts) != 2 {
		t.Fatalf("honest marks: %v, %v", ts, err)
	}
	if cs, err := v.Conflicts(); err != nil || cs[yh] != "a/y" || len(cs) != 1 {
		t.Fatalf("honest conflicts: %v, %v", cs, err)
	}
	if err := v.CheckFile(); err != nil {
		t.Fatal(err)
	}
}

// TestSyncMarkSealedByHush: every way hush itself writes a mark leaves it
// authenticated: PutMarks, ApplyRemote, Reseal, ResealWhere, a key
// rotation (under the new key), and a secret's name freed for a teammate's.
func TestSyncMarkSealedByHush(t *testing.T) {
	v := newVault(t)
	rp := v.Replica()
	id := []byte("0123456789abcdef")
	if _, err := rp.ApplyRemote([]Remote{{ID: id, Name: "t/a", Meta: Meta{Type: "token"}, Value: []byte("a"), Mark: SyncMark{Base: 1, Seen: 1}}}); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "t/b", "b")
	if err := rp.PutMarks(map[string]SyncMark{hex.EncodeToString(idOf(t, v, "t/b")): {Base: 4, Seen: 5, LocalHead: 1, Theirs: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	if err := rp.Reseal(); err != nil {
		t.Fatal(err)
	}
	if err := rp.ResealWhere(func(n string) bool { return n == "t/a" }); err != nil {
		t.Fatal(err)
	}
	if err := v.RotateKey(testPass, crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	v = reopen(t, v)
	ts, err := v.Replica().Tracked()
	if err != nil || len(ts) != 2 {
		t.Fatalf("after hush's own writes: %v, %v", ts, err)
	}
	for _, tr := range ts {
		if string(tr.ID) == string(id) && (tr.Mark == nil || tr.Mark.LocalHead != -1 || tr.Mark.Seen != 1) {
			t.Fatalf("t/a resealed: %+v", tr.Mark)
		}
	}
	// A removal of t/a, settled, then a teammate's t/a: the name is freed
	// (freeName reads the mark, checked).
	if _, err := v.Replica().ApplyRemote([]Remote{{ID: id, Deleted: true, Mark: SyncMark{Base: 2, Seen: 2}}}); err != nil {
		t.Fatal(err)
	}
	other := []byte("fedcba9876543210")
	a, err := v.Replica().ApplyRemote([]Remote{{ID: other, Name: "t/a", Meta: Meta{Type: "token"}, Value: []byte("a2"), Mark: SyncMark{Base: 1, Seen: 1}}})
	if err != nil || a[0].TakenBy != nil {
		t.Fatalf("the teammate's t/a: %+v, %v", a, err)
	}
}

// TestSyncMarkUpgrade: a vault of record format 5 (marks without a MAC)
// keeps working with a remembered key, is upgraded at its next unlock by
// passphrase, its marks sealed as they were; after that a mark without a
// MAC is refused.
func TestSyncMarkUpgrade(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a/x", "x")
	xh := hex.EncodeToString(idOf(t, v, "a/x"))
	if err := v.Replica().PutMarks(map[string]SyncMark{xh: {Base: 2, Seen: 7, LocalHead: 1}}); err != nil {
		t.Fatal(err)
	}
	asFormat5(t, v)
	key, _ := v.Key()
	path := v.Path()
	v.Close()

	v, _ = Open(path)
	if err := v.UnlockWithKey(key); err != nil {
		t.Fatal(err)
	}
	if ts, err := v.Replica().Tracked(); err != nil || len(ts) != 1 || ts[0].Mark.Seen != 7 || v.hdr.format != 5 {
		t.Fatalf("format 5 vault with a remembered key: %+v, %v, format %d", ts, err, v.hdr.format)
	}
	v.Close()
	v = reopenKey(t, path)
	if v.hdr.format != Format {
		t.Fatalf("format %d after unlocking by passphrase, want %d", v.hdr.format, Format)
	}
	if ts, err := v.Replica().Tracked(); err != nil || len(ts) != 1 || ts[0].Mark.Seen != 7 || ts[0].Mark.Base != 2 {
		t.Fatalf("after the upgrade: %+v, %v", ts, err)
	}
	v.Close()
	good := path + ".good"
	copyFile(t, path, good)
	editFile(t, path, good, `UPDATE sync_records SET mac = NULL`)
	v = reopenKey(t, path)
	_, err := v.Replica().Tracked()
	wantMarkTampered(t, "a mark without a MAC after the upgrade", err, "a/x")
	if !errors.Is(err, ErrTampered) {
		t.Fatal(err)
	}
}

// A synced secret's row gone without hush's purge (deleted outside hush,
// or missing from an older copy of the vault put back under newer marks)
// is refused before a push, not sent as a removal; hush's own purges mark
// the row purged here and are sent; a removal an older hush owed (a
// format 5 vault's pending purge) is taken as hush's at the upgrade
// (outside attack attack26 N1).
func TestPurgedHereOrGone(t *testing.T) {
	v := newVault(t)
	for _, n := range []string{"a/purged", "a/gone", "a/kept"} {
		mustSet(t, v, n, "x")
	}
	inStep := SyncMark{Base: 1, Seen: 1, LocalHead: 1}
	ids := map[string]string{}
	for _, n := range []string{"a/purged", "a/gone", "a/kept"} {
		ids[n] = hex.EncodeToString(idOf(t, v, n))
		if err := v.Replica().PutMarks(map[string]SyncMark{ids[n]: inStep}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.PurgeMany([]string{"a/purged"}); err != nil {
		t.Fatal(err)
	}
	ts, err := v.Replica().Changed()
	if err != nil || len(ts) != 1 || hex.EncodeToString(ts[0].ID) != ids["a/purged"] || !ts[0].Dirty() {
		t.Fatalf("after hush's purge: %+v, %v; want its removal to send", ts, err)
	}
	path := v.Path()
	v.Close()
	// a/gone's row and versions deleted with the anchor's digest made to
	// agree (as an older copy put back would): only the mark is left.
	v = reopenKey(t, path)
	gone, _ := hex.DecodeString(ids["a/gone"])
	if err := v.write(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM versions WHERE secret_id = ?`, gone); err != nil {
			return err
		}
		return v.deleteRow(tx, gone) // the digest follows, the mark stays
	}); err != nil {
		t.Fatal(err)
	}
	_, err = v.Replica().Changed()
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "gone from the vault without a purge by hush") {
		t.Fatalf("a synced row gone without a purge: %v, want it refused", err)
	}

	// An older hush's pending purge: taken as hush's at the upgrade.
	w := newVault(t)
	mustSet(t, w, "b/old", "x")
	old := hex.EncodeToString(idOf(t, w, "b/old"))
	if err := w.Replica().PutMarks(map[string]SyncMark{old: inStep}); err != nil {
		t.Fatal(err)
	}
	oldID, _ := hex.DecodeString(old)
	if err := w.write(func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM versions WHERE secret_id = ?`, oldID); err != nil {
			return err
		}
		return w.deleteRow(tx, oldID) // what an older PurgeMany did: the mark untouched
	}); err != nil {
		t.Fatal(err)
	}
	asFormat5(t, w)
	wpath := w.Path()
	w.Close()
	w = reopenKey(t, wpath)
	if w.hdr.format != Format {
		t.Fatalf("format %d after the upgrade", w.hdr.format)
	}
	ts, err = w.Replica().Changed()
	if err != nil || len(ts) != 1 || !ts[0].Dirty() {
		t.Fatalf("an older hush's pending purge after the upgrade: %+v, %v; want its removal to send", ts, err)
	}
}

// asFormat5 makes v what a hush of record format 5 wrote: the same rows
// and anchor, the marks without a MAC.
func asFormat5(t *testing.T, v *Vault) {
	t.Helper()
	v.hdr.format = 5
	if err := v.wrap(testPass, crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	h := v.hdr
	if _, err := v.db.Exec(`UPDATE header SET format = 5, salt = ?, check_mac = ?, wrapped_key = ?, header_mac = ?; UPDATE sync_records SET mac = NULL`,
		h.salt, h.checkMAC, h.wrappedKey, h.headerMAC); err != nil {
		t.Fatal(err)
	}
}
