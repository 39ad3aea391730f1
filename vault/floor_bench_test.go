//go:build linux

package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// BenchmarkImportFloor10k is what an import of 10,000 new secrets costs
// below hush's own code, to tell what a faster import could reach with
// the vault's format as it is and what a format change would buy: the
// rows only (random bytes of an import's sizes, already sealed), written
// into a new vault as SetMany writes them, in one transaction committed
// durably, then the vault closed (its checkpoint); and the sealing and
// MACs alone. cpu-ms/op is the process's CPU time (user + system) over the
// timed part. Each layout but "now" is a measurement only, made by
// changing the schema of a throw-away vault: no such vault is ever made
// by hush.
//
//	go test -run '^$' -bench ImportFloor10k -benchtime 10x ./vault/
func BenchmarkImportFloor10k(b *testing.B) {
	const n = 10_000
	v0 := newVault(b)
	mj, err := v0.metaJSON(Meta{Type: TypeOther})
	if err != nil {
		b.Fatal(err)
	}
	nameCT := len("app/KEY_000000") + crypto.Overhead
	metaCT := len(mj) + crypto.Overhead
	valueCT := 40 + crypto.Overhead
	rnd := func(k int) []byte {
		p, err := crypto.Random(k)
		if err != nil {
			b.Fatal(err)
		}
		return p
	}
	type floorRow struct{ id, nameMAC, folderMAC, mac, name, meta, value []byte }
	rows := make([]floorRow, n)
	folder := rnd(32)
	for i := range rows {
		rows[i] = floorRow{rnd(16), rnd(32), folder, rnd(32), rnd(nameCT), rnd(metaCT), rnd(valueCT)}
	}
	// As SetMany writes them: sorted by id, 4,096 at a time.
	for start := 0; start < n; start += sortedRun {
		slices.SortFunc(rows[start:min(start+sortedRun, n)], func(a, b floorRow) int { return bytes.Compare(a.id, b.id) })
	}
	layouts := []struct {
		name   string
		schema string // run on the new vault before the timed part
		// oneField: versions hold one sealed field (name, metadata and
		// value in one AEAD: 2×40 bytes less) instead of three.
		oneField bool
		// oneTable: a secret is one row of one table (the sealed field in
		// the secrets row; no versions table, no folder indexes).
		oneTable bool
		// nameApart: in oneTable, the name sealed on its own and the
		// metadata and value together (two AEADs), not all three in one.
		nameApart bool
	}{
		{name: "now"},
		{name: "no-secrets_folder-index", schema: `DROP INDEX secrets_folder`},
		// The rollback journal instead of the WAL for this one write
		// (durable all the same: synchronous FULL): pages are written
		// once, to the file, instead of to the WAL and again at the
		// checkpoint.
		{name: "journal-delete", schema: `PRAGMA journal_mode = DELETE`},
		{name: "one-aead", oneField: true},
		{name: "one-aead-no-secrets_folder-index", schema: `DROP INDEX secrets_folder`, oneField: true},
		{name: "one-table", schema: `CREATE TABLE lean (id BLOB PRIMARY KEY, name_mac BLOB NOT NULL UNIQUE, folder_mac BLOB NOT NULL,
			head INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL, row_mac BLOB, changed INTEGER NOT NULL, epoch INTEGER NOT NULL,
			name BLOB NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID`, oneTable: true},
		// The same, as a format could keep it: the current version in the
		// secret's row (older versions elsewhere, written only when
		// superseded), its name sealed apart from metadata and value (so
		// that a listing opens names only), and the live folder index.
		{name: "one-table-name-apart-folder-index", schema: `CREATE TABLE lean (id BLOB PRIMARY KEY, name_mac BLOB NOT NULL UNIQUE, folder_mac BLOB NOT NULL,
			head INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL, row_mac BLOB, changed INTEGER NOT NULL, epoch INTEGER NOT NULL,
			name BLOB NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID; CREATE INDEX lean_folder_live ON lean(folder_mac)`, oneTable: true, nameApart: true},
	}
	for _, l := range layouts {
		b.Run("sqlite/"+l.name, func(b *testing.B) {
			dir := b.TempDir()
			var cpu time.Duration
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				v, err := Create(filepath.Join(dir, fmt.Sprintf("v%d.db", i)), testPass, CreateOptions{KDF: crypto.FloorKDF})
				if err != nil {
					b.Fatal(err)
				}
				if l.schema != "" {
					if _, err := v.db.Exec(l.schema); err != nil {
						b.Fatal(err)
					}
				}
				now := time.Now().UnixNano()
				before := cpuTime()
				b.StartTimer()
				tx, err := v.db.Begin()
				if err != nil {
					b.Fatal(err)
				}
				for start := 0; start < n; start += insertBatch {
					chunk := rows[start:min(start+insertBatch, n)]
					if err := floorInsert(tx, chunk, now, l.oneField, l.oneTable, l.nameApart, func(r *floorRow) [][]byte {
						return [][]byte{r.id, r.nameMAC, r.folderMAC, r.mac, r.name, r.meta, r.value}
					}); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				if err := v.Close(); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += cpuTime() - before
				b.StartTimer()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(i), "cpu-ms/op")
		})
	}
	// The cryptography of an import, alone: three AEADs and three HMACs a
	// secret now (name, metadata, value; lookup MAC, row MAC, the anchor's
	// element), against one AEAD of the three fields together.
	name := []byte("app/KEY_000000")
	value := make([]byte, 40)
	ad := v0.ad(make([]byte, 16), "value", 1, 1)
	for _, aeads := range []int{3, 2, 1} {
		b.Run(fmt.Sprintf("crypto/aeads=%d", aeads), func(b *testing.B) {
			var cpu time.Duration
			i := 0
			for b.Loop() {
				i++
				before := cpuTime()
				m := hmac.New(sha256.New, v0.keys.row[:])
				for range n {
					for range 3 {
						m.Reset()
						m.Write(ad)
						m.Sum(nil)
					}
					if aeads == 3 {
						for _, p := range [][]byte{name, mj, value} {
							if _, err := crypto.Seal(v0.keys.value, p, ad); err != nil {
								b.Fatal(err)
							}
						}
					} else if aeads == 2 {
						for _, p := range [][]byte{name, slices.Concat(mj, value)} {
							if _, err := crypto.Seal(v0.keys.value, p, ad); err != nil {
								b.Fatal(err)
							}
						}
					} else if _, err := crypto.Seal(v0.keys.value, slices.Concat(name, mj, value), ad); err != nil {
						b.Fatal(err)
					}
				}
				cpu += cpuTime() - before
			}
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(i), "cpu-ms/op")
		})
	}
}

// floorInsert writes chunk's rows as insertRows does (the secrets rows'
// fixed-size values packed into one blob; the versions rows' own values
// bound one by one), in the layout asked.
func floorInsert[R any](tx *sql.Tx, chunk []R, now int64, oneField, oneTable, nameApart bool, fields func(*R) [][]byte) error {
	q := insertSQL(len(chunk))
	packed := make([]byte, 0, packedRow*len(chunk))
	sargs := []any{now, 1, 0}
	vargs := []any{now, 1, 0}
	for i := range chunk {
		f := fields(&chunk[i])
		packed = append(append(append(append(packed, f[0]...), f[1]...), f[2]...), f[3]...)
		if nameApart {
			vargs = append(vargs, f[4], slices.Concat(f[5], f[6][crypto.Overhead:]))
		} else if oneField || oneTable {
			vargs = append(vargs, f[0], slices.Concat(f[4], f[5][crypto.Overhead:], f[6][crypto.Overhead:]))
		} else {
			vargs = append(vargs, f[0], f[4], f[5], f[6])
		}
	}
	if oneTable {
		key := fmt.Sprintf("lean/%d", len(chunk))
		text, ok := floorTexts[key]
		if !ok {
			var sb bytes.Buffer
			sb.WriteString(`INSERT OR ROLLBACK INTO lean (id, name_mac, folder_mac, head, created, updated, row_mac, changed, epoch, name, sealed) VALUES `)
			for i := range chunk {
				if i > 0 {
					sb.WriteString(", ")
				}
				o := 1 + packedRow*i
				fmt.Fprintf(&sb, "(substr(?4, %d, 16), substr(?4, %d, 32), substr(?4, %d, 32), 1, ?1, ?1, substr(?4, %d, 32), ?3, ?2, ?%d, ?%d)", o, o+16, o+48, o+80, 5+2*i, 6+2*i)
			}
			text = sb.String()
			floorTexts[key] = text
		}
		args := []any{now, 1, 0, packed}
		for i := range chunk {
			name, sealed := vargs[3+2*i], vargs[3+2*i+1]
			if !nameApart {
				name = []byte{} // everything is in sealed
			}
			args = append(args, name, sealed)
		}
		_, err := tx.Exec(text, args...)
		return err
	}
	if _, err := tx.Exec(q.secretsPacked, append(sargs, packed)...); err != nil {
		return err
	}
	vq := q.versions
	if oneField {
		key := fmt.Sprintf("onefield/%d", len(chunk))
		if text, ok := floorTexts[key]; ok {
			_, err := tx.Exec(text, vargs...)
			return err
		}
		var vb bytes.Buffer
		vb.WriteString(`INSERT OR ROLLBACK INTO versions (secret_id, version, epoch, created, name, meta, value) VALUES `)
		for i := range chunk {
			if i > 0 {
				vb.WriteString(", ")
			}
			fmt.Fprintf(&vb, "(?%d, 1, ?2, ?1, ?%d, x'', x'')", 4+2*i, 5+2*i)
		}
		vq = vb.String()
		floorTexts[key] = vq
	}
	_, err := tx.Exec(vq, vargs...)
	return err
}

// floorTexts keeps floorInsert's statements' texts, built once.
var floorTexts = map[string]string{}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
