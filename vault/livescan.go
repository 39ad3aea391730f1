package vault

import (
	"bytes"
	"context"
	"database/sql"
	"slices"
	"strings"
)

// liveRow is a live secret's row state and its head version's sealed
// columns (nameCT nil when that version is missing), as the full listings
// read them.
type liveRow struct {
	st             rowState
	nameCT, metaCT []byte
	epoch          int
	updated        int64 // the head version's time
}

// folderCount is a folder's authenticated count of live secrets, as stored.
type folderCount struct {
	live int
	mac  []byte
}

// scanLive reads every live secret with its head version (and its
// metadata when withMeta), and every folder's stored count, in one read
// snapshot. It is what the query
//
//	SELECT rowColumns, v.* FROM secrets s LEFT JOIN versions v
//	  ON v.secret_id = s.id AND v.version = s.head WHERE s.deleted IS NULL
//
// returns, computed as two sequential scans joined in memory: SQLite ran
// that join as three B-tree seeks per secret (the head version, the newest
// version, and the row itself through the index of live rows), which was
// most of `hush ls`'s time at 100,000 secrets. The rows come in SQLite's
// order.
// Nothing is decrypted here, and nothing but ciphertext and MACs is read.
func (v *Vault) scanLive(withMeta bool) ([]liveRow, map[string]folderCount, error) {
	ctx := context.Background()
	conn, err := v.db.Conn(ctx)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	defer conn.Close()
	// A deferred transaction: one read snapshot for the three scans, and
	// no write lock (a writer is neither blocked nor seen half-way).
	if _, err := conn.ExecContext(ctx, `BEGIN DEFERRED`); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	defer conn.ExecContext(ctx, `ROLLBACK`)

	// NOT INDEXED: a scan of the table, not a seek per row through the
	// partial index of live rows.
	rows, err := conn.QueryContext(ctx, `SELECT id, head, created, updated, deleted, name_mac, folder_mac, row_mac, changed
		FROM secrets NOT INDEXED WHERE deleted IS NULL`)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	var live []liveRow
	for rows.Next() {
		var r liveRow
		s := &r.st
		if err := rows.Scan(&s.id, &s.head, &s.created, &s.updated, &s.deleted, &s.nameMAC, &s.folderMAC, &s.mac, &s.changed); err != nil {
			rows.Close()
			return nil, nil, dbErr("read vault", err)
		}
		live = append(live, r)
	}
	if err := rows.Close(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	// The versions below come in id order (SQLite orders BLOBs as
	// bytes.Compare does): visit the rows in that order through an index,
	// without moving the rows themselves.
	byID := make([]int32, len(live))
	for i := range byID {
		byID[i] = int32(i)
	}
	slices.SortFunc(byID, func(a, b int32) int { return bytes.Compare(live[a].st.id, live[b].st.id) })

	cols := `secret_id, version, epoch, created, name, NULL`
	if withMeta {
		cols = `secret_id, version, epoch, created, name, meta`
	}
	rows, err = conn.QueryContext(ctx, `SELECT `+cols+` FROM versions ORDER BY secret_id, version`)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	i := 0
	for rows.Next() {
		var id, name, meta sql.RawBytes
		var version, epoch int
		var created int64
		if err := rows.Scan(&id, &version, &epoch, &created, &name, &meta); err != nil {
			rows.Close()
			return nil, nil, dbErr("read vault", err)
		}
		for i < len(byID) && bytes.Compare(live[byID[i]].st.id, id) < 0 {
			i++
		}
		if i == len(byID) {
			break // no live secret left to find versions for
		}
		r := &live[byID[i]]
		if !bytes.Equal(r.st.id, id) {
			continue // a removed secret's version
		}
		// Versions come in ascending order: the last one seen is the newest.
		r.st.newest = sql.NullInt64{Int64: int64(version), Valid: true}
		if version == r.st.head {
			r.epoch, r.updated = epoch, created
			r.nameCT = bytes.Clone(name)
			if r.nameCT == nil {
				r.nameCT = []byte{} // present, if empty: opening it fails as a bad row
			}
			if withMeta {
				r.metaCT = bytes.Clone(meta)
			}
		}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}

	folders := map[string]folderCount{}
	rows, err = conn.QueryContext(ctx, `SELECT folder_mac, live, mac FROM folders`)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	for rows.Next() {
		var fm, mac []byte
		var n int
		if err := rows.Scan(&fm, &n, &mac); err != nil {
			rows.Close()
			return nil, nil, dbErr("read vault", err)
		}
		folders[string(fm)] = folderCount{live: n, mac: mac}
	}
	if err := rows.Close(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	return live, folders, nil
}

// sortByName sorts es by name, moving each element once: a sort of a
// slice of large structs spends its time copying them.
func sortByName[T any](es []T, name func(*T) string) []T {
	idx := make([]int32, len(es))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(name(&es[a]), name(&es[b])) })
	out := make([]T, len(es))
	for i, j := range idx {
		out[i] = es[j]
	}
	return out
}
