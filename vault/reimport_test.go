package vault

import (
	"bytes"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// storedRowMACs returns every secret row's stored MAC by id.
func storedRowMACs(t *testing.T, v *Vault) map[string][]byte {
	t.Helper()
	rows, err := v.db.Query(`SELECT id, row_mac FROM secrets`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	stored := map[string][]byte{}
	for rows.Next() {
		var id, mac []byte
		if err := rows.Scan(&id, &mac); err != nil {
			t.Fatal(err)
		}
		stored[string(id)] = mac
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return stored
}

// wantSealedAsSealRow fails unless every row's stored MAC is the one
// sealRow computes from the row read back from the file (sealRow writes
// it again: it must not change). The vault is then closed and reopened,
// and ls's full check (folder counts, the anchor's digest of every row)
// must pass.
func wantSealedAsSealRow(t *testing.T, v *Vault) *Vault {
	t.Helper()
	before := storedRowMACs(t, v)
	for id := range before {
		if err := v.sealRow(v.db, []byte(id)); err != nil {
			t.Fatal(err)
		}
	}
	for id, mac := range storedRowMACs(t, v) {
		if !bytes.Equal(mac, before[id]) {
			t.Fatalf("row %x: the MAC written with the row differs from sealRow's", id)
		}
	}
	v = reopen(t, v)
	if _, err := v.List(""); err != nil {
		t.Fatalf("ls after the write: %v", err)
	}
	return v
}

// TestSetManyAgain: writing into a vault that holds the names already, as
// a second import of the same file or of a changed one does: unchanged
// names get no version, changed ones one version each, a removed one is
// revived, new names interleaved in the same folders are created; every
// row is stored exactly as sealRow would seal it, every value and folder
// count is right, and ls's full check passes.
func TestSetManyAgain(t *testing.T) {
	v := newVault(t)
	var first []SetRequest
	for i := range 300 {
		first = append(first, SetRequest{Name: fmt.Sprintf("%c/K%03d", 'a'+i%3, i), Value: fmt.Appendf(nil, "v%d", i)})
	}
	if _, err := v.SetMany(first, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("b/K001"); err != nil {
		t.Fatal(err)
	}
	v = wantSealedAsSealRow(t, v)

	// The same file again: nothing changes, not even a version.
	res, err := v.SetMany(first, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if created, updated, same := Tally(res); created != 0 || updated != 1 || same != 299 {
		t.Fatalf("the same again: %d new, %d updated, %d unchanged; want 0, 1 (the removed one, revived), 299", created, updated, same)
	}

	// A changed file: every third value changes, new names come between
	// existing ones, in the same folders.
	var again []SetRequest
	want := map[string]string{}
	for i := range 300 {
		name := fmt.Sprintf("%c/K%03d", 'a'+i%3, i)
		value := fmt.Sprintf("v%d", i)
		if i%3 == 0 {
			value = fmt.Sprintf("changed %d", i)
		}
		again = append(again, SetRequest{Name: name, Value: []byte(value)})
		want[name] = value
		if i%7 == 0 {
			name := fmt.Sprintf("%c/NEW%03d", 'a'+i%3, i)
			again = append(again, SetRequest{Name: name, Value: []byte("new")})
			want[name] = "new"
		}
	}
	res, err = v.SetMany(again, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if created, updated, same := Tally(res); created != 43 || updated != 100 || same != 200 {
		t.Fatalf("changed: %d new, %d updated, %d unchanged; want 43, 100, 200", created, updated, same)
	}
	for i, r := range res {
		if r.Name != again[i].Name {
			t.Fatalf("result %d is %s, want %s", i, r.Name, again[i].Name)
		}
	}
	v = wantSealedAsSealRow(t, v)
	got := 0
	for _, folder := range []string{"a", "b", "c"} {
		ss, err := v.Children(folder)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			if want[s.Name] != string(s.Value) {
				t.Errorf("%s = %q, want %q", s.Name, s.Value, want[s.Name])
			}
			wantVersion := 1
			switch {
			case s.Name == "b/K001":
				wantVersion = 2 // removed, then revived by the same value
			case want[s.Name] != "new" && want[s.Name][0] == 'c':
				wantVersion = 2
			}
			if s.Version != wantVersion {
				t.Errorf("%s is at version %d, want %d", s.Name, s.Version, wantVersion)
			}
			got++
		}
	}
	if got != len(want) {
		t.Fatalf("%d secrets after the writes, want %d", got, len(want))
	}
	// Edit, rollback and move add versions to rows read by lookup too.
	if _, err := v.Edit("a/K000", Update{Note: new(string)}); err != nil {
		t.Fatal(err)
	}
	note := "a note"
	if _, err := v.Edit("a/K003", Update{Note: &note}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Rollback("a/K006", 1); err != nil {
		t.Fatal(err)
	}
	// A rename writes the name's and folder's MACs too.
	if _, err := v.Move("a/K009", "c/MOVED"); err != nil {
		t.Fatal(err)
	}
	v = wantSealedAsSealRow(t, v)
	if s, err := v.Get("c/MOVED"); err != nil || string(s.Value) != "changed 9" {
		t.Fatalf("c/MOVED after the move: %v, %v", s, err)
	}
}

// TestSetManyChecksFolderBeforeWriting: a removed secret's row put back
// from an older copy is one live secret more than its folder's count. A
// write into that folder refuses, whether it only adds new names (it
// used to seal the count again from the rows, the extra one included) or
// also updates an existing one, and writes nothing.
func TestSetManyChecksFolderBeforeWriting(t *testing.T) {
	for _, tc := range []struct {
		what string
		reqs []SetRequest
	}{
		{"new names only", []SetRequest{{Name: "app/prod/NEW", Value: []byte("n")}}},
		{"an existing name", []SetRequest{{Name: "app/prod/NEW", Value: []byte("n")}, {Name: "app/prod/OTHER", Value: []byte("o2")}}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			v := newVault(t)
			mustSet(t, v, "app/prod/GONE", "removed-value")
			mustSet(t, v, "app/prod/OTHER", "o")
			id := rowID(t, v, "app/prod/GONE")
			var head, created, updated int64
			var nameMAC, folderMAC, mac []byte
			if err := v.db.QueryRow(`SELECT head, created, updated, name_mac, folder_mac, row_mac FROM secrets WHERE id = x'`+id+`'`).
				Scan(&head, &created, &updated, &nameMAC, &folderMAC, &mac); err != nil {
				t.Fatal(err)
			}
			if err := v.Remove("app/prod/GONE"); err != nil {
				t.Fatal(err)
			}
			// A later change elsewhere: the anchor's last change is then
			// not the removal, and only the folder's count tells.
			mustSet(t, v, "other/LATER", "l")
			path := tamperFile(t, v, fmt.Sprintf(`UPDATE secrets SET head = %d, created = %d, updated = %d, deleted = NULL, name_mac = x'%x', folder_mac = x'%x', row_mac = x'%x' WHERE id = x'%s'`,
				head, created, updated, nameMAC, folderMAC, mac, id))
			v = reopenKey(t, path)
			_, err := v.SetMany(tc.reqs, time.Time{})
			wantTampered(t, "import", err)
			if _, err := v.Get("app/prod/NEW"); err == nil {
				t.Fatal("the refused write was stored")
			}
			// Still refused afterwards: the count was not sealed again.
			_, err = v.Children("app/prod")
			wantTampered(t, "export", err)
		})
	}
}

// TestInsertRowsPackedIsUnpacked: the secrets rows written with their
// values packed into one blob (cut by substr) are byte for byte, and
// type for type, the rows written with every value bound on its own;
// so are the versions rows. Runs of a full statement and a shorter one,
// and a batch with an id of another size (written unpacked).
func TestInsertRowsPackedIsUnpacked(t *testing.T) {
	rnd := func(t *testing.T, n int) []byte {
		b, err := crypto.Random(n)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	now := time.Now().UnixNano()
	var rows []newRow
	for i := range insertBatch + 37 {
		idLen := 16
		if i == insertBatch+5 {
			idLen = 20
		}
		rows = append(rows, newRow{name: fmt.Sprintf("f/K%d", i), id: rnd(t, idLen), nameMAC: rnd(t, 32), folderMAC: rnd(t, 32),
			now: now, changed: 7, mac: rnd(t, 32), s: sealed{name: rnd(t, 50), meta: rnd(t, 60+i%5), value: rnd(t, 40+i)}})
	}
	dump := func(t *testing.T, noPacking bool) string {
		v := newVault(t)
		v.noPacking = noPacking
		tx, err := v.db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := v.insertRows(tx, rows); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		for _, q := range []string{
			`SELECT rowid, hex(id), typeof(id), hex(name_mac), typeof(name_mac), hex(folder_mac), typeof(folder_mac), head, created, updated,
				deleted, hex(row_mac), typeof(row_mac), changed FROM secrets ORDER BY rowid`,
			`SELECT hex(secret_id), typeof(secret_id), version, epoch, created, hex(name), hex(meta), hex(value), typeof(value) FROM versions ORDER BY secret_id`,
		} {
			rs, err := v.db.Query(q)
			if err != nil {
				t.Fatal(err)
			}
			cols, _ := rs.Columns()
			for rs.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rs.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				fmt.Fprintln(&out, vals...)
			}
			rs.Close()
		}
		return out.String()
	}
	if !packable(rows[:insertBatch]) || packable(rows[insertBatch:]) {
		t.Fatal("the first statement's rows must be packed and the second's not")
	}
	packed, unpacked := dump(t, false), dump(t, true)
	if packed != unpacked {
		t.Fatalf("packed rows differ from unpacked ones:\n%s\n---\n%s", packed, unpacked)
	}
	if n := strings.Count(packed, "\n"); n != 2*len(rows) {
		t.Fatalf("%d rows written, want %d", n, 2*len(rows))
	}
}

// TestGaplessIsCheckGapless: the gap check a batch write makes on the
// versions it read ahead gives the same answer, and the same error, as
// checkGapless's query, for versions deleted from the start, the middle,
// the end, several, and none.
func TestGaplessIsCheckGapless(t *testing.T) {
	for _, deleted := range [][]int{nil, {1}, {2}, {3, 4}, {6}, {1, 2, 3}, {2, 5}, {1, 6}, {5, 6}} {
		t.Run(fmt.Sprint(deleted), func(t *testing.T) {
			v := newVault(t)
			for i := range 6 {
				mustSet(t, v, "g/S", fmt.Sprint("value ", i))
			}
			r, err := v.lookup(v.db, "g/S")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range deleted {
				if _, err := v.db.Exec(`DELETE FROM versions WHERE secret_id = ? AND version = ?`, r.id, n); err != nil {
					t.Fatal(err)
				}
			}
			tx := mustBegin(t, v)
			pre, err := v.prefetch(tx, [][]byte{v.nameMAC("g/S")})
			if err != nil {
				t.Fatal(err)
			}
			p := pre[string(v.nameMAC("g/S"))]
			if p == nil {
				t.Fatal("prefetch did not find the secret")
			}
			want := v.checkGapless(tx, "g/S", r)
			got := gapless("g/S", r, p.versions)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("gapless = %v, checkGapless = %v", got, want)
			}
			if (want == nil) != (len(deleted) == 0) {
				t.Fatalf("checkGapless = %v with versions %v deleted", want, deleted)
			}
		})
	}
}

// mustBegin starts a transaction rolled back when the test ends.
func mustBegin(t *testing.T, v *Vault) *sql.Tx {
	t.Helper()
	tx, err := v.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	return tx
}
