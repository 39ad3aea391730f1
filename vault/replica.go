package vault

import (
	"bytes"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// Replica is the vault as a sync client sees it: each secret's state by
// id, applying a teammate's version under the same id with its bookkeeping
// (what the server last had) in the same transaction, and the client's
// sealed settings. The vault knows nothing of servers or team keys; only
// a sync client needs this view, so it is kept apart from the vault's own
// API (a [Vault] shows conflicts, which every front end needs).
type Replica struct{ v *Vault }

// Replica is v's view for a sync client.
func (v *Vault) Replica() *Replica { return &Replica{v} }

// SyncMark is a secret's sync bookkeeping.
type SyncMark struct {
	Base         int64 // server version the local state derives from; 0: never pushed
	Seen         int64 // highest server version seen
	LocalHead    int   // local head when last in step with the server
	LocalDeleted bool
	Theirs       []byte // a conflicting server record, opaque to the vault
}

// Tracked is one secret as sync sees it: its local state and its mark.
type Tracked struct {
	ID      []byte
	Exists  bool // false: purged here (or never here), known only by its mark
	Head    int
	Deleted bool
	Mark    *SyncMark // nil: never synced
}

// Dirty reports whether the secret changed here since it was last in step
// with the server.
func (t *Tracked) Dirty() bool {
	switch {
	case t.Mark == nil:
		return t.Exists
	case !t.Exists:
		return t.Mark.Base > 0 && !t.Mark.LocalDeleted
	default:
		return t.Head != t.Mark.LocalHead || t.Deleted != t.Mark.LocalDeleted
	}
}

// Tracked lists every secret and every mark, joined by id. Two plain
// scans joined here are several times faster than a join in SQL.
func (rp *Replica) Tracked() ([]Tracked, error) {
	v := rp.v
	rows, err := v.db.Query(`SELECT id, head, deleted IS NOT NULL FROM secrets`)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	var out []Tracked
	at := map[string]int{}
	for rows.Next() {
		var t Tracked
		if err := rows.Scan(&t.ID, &t.Head, &t.Deleted); err != nil {
			rows.Close()
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		t.Exists = true
		at[string(t.ID)] = len(out)
		out = append(out, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = v.db.Query(`SELECT id, base, seen, local_head, local_deleted, theirs, mac FROM sync_records`)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	var marks []checkedMark
	for rows.Next() {
		var id, mac []byte
		m := &SyncMark{}
		if err := rows.Scan(&id, &m.Base, &m.Seen, &m.LocalHead, &m.LocalDeleted, &m.Theirs, &mac); err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		marks = append(marks, checkedMark{id, m, mac})
		if i, ok := at[string(id)]; ok {
			out[i].Mark = m
		} else {
			out = append(out, Tracked{ID: id, Mark: m})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	return out, v.checkMarks(v.db, marks)
}

// Changed lists the secrets changed here since they were last in step
// with the server (Tracked.Dirty), found by SQLite without reading every
// row into Go: a sync of a large vault with nothing to send costs what
// changed, not its size.
//
// When something changed, the vault's rows are first compared with its
// anchor (its digest of every row, as `ls` does): a row put back from an
// older copy (a revoked value), a removed secret's row revived, or a row
// deleted, each looks like a change to send, and a sync would hand it to
// every device of the team, whose own checks see nothing wrong (outside
// attack attack25 #2). One scan of the rows, paid only when there is
// something to push.
func (rp *Replica) Changed() ([]Tracked, error) {
	v := rp.v
	ts, err := v.changedQuery()
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	if err := v.checkCurrentScan(true); err != nil {
		return nil, err
	}
	// A secret's version here only grows, and its mark is written with
	// it: one below what this device last synced is an older copy of the
	// vault under newer bookkeeping (an older file, or one whose -wal was
	// lost, with sync_records copied in, or taken by `audit --restart`),
	// which a push would hand the team as the newest version (outside
	// attack attack26 N1).
	for i := range ts {
		if t := &ts[i]; t.Exists && t.Mark != nil && t.Mark.LocalHead > t.Head {
			name, err := rp.NameByID(t.ID)
			if err != nil {
				name = fmt.Sprintf("secret %x", t.ID)
			}
			return nil, &TamperError{fmt.Sprintf("%s is at version %d, but this device synced it at version %d: the vault went back (an older copy of it was put back, or its -wal lost); nothing was pushed: restore the vault from a backup", name, t.Head, t.Mark.LocalHead)}
		}
		// Only a format 6 vault's marks are authenticated (and say
		// which rows hush purged).
		if t := &ts[i]; !t.Exists && t.Dirty() && t.Mark.LocalHead != 0 && v.hdr.format >= 6 {
			return nil, &TamperError{fmt.Sprintf("secret %x, which this device synced, is gone from the vault without a purge by hush: its row was deleted outside hush, or an older copy of the vault was put back (a secret made since is missing from it); nothing was pushed: restore the vault from a backup", t.ID)}
		}
	}
	return ts, nil
}

// markPurgedHere records, in a synced secret's mark, that hush purged its
// row here (local head 0, as a conflict's resolution does): its removal
// is owed to the team. A synced secret whose row is gone without it was
// deleted outside hush, or is missing from an older copy of the vault put
// back under newer marks, and is not sent as a removal (Changed).
func (v *Vault) markPurgedHere(q querier, id []byte) error {
	m, err := v.markOf(q, id)
	if err != nil || m == nil || m.LocalHead == 0 {
		return err
	}
	m.LocalHead = 0
	return v.putMark(q, id, m)
}

func (v *Vault) changedQuery() ([]Tracked, error) {
	return v.trackedQuery(`SELECT s.id, s.head, s.deleted IS NOT NULL, 1, m.base, m.seen, m.local_head, m.local_deleted, m.theirs, m.mac
		FROM secrets s LEFT JOIN sync_records m ON m.id = s.id
		WHERE m.id IS NULL OR s.head != m.local_head OR (s.deleted IS NOT NULL) != m.local_deleted
		UNION ALL
		SELECT m.id, 0, 0, 0, m.base, m.seen, m.local_head, m.local_deleted, m.theirs, m.mac
		FROM sync_records m WHERE m.base > 0 AND NOT m.local_deleted AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.id = m.id)`)
}

// TrackedByID lists the secrets and marks with the given ids.
func (rp *Replica) TrackedByID(ids [][]byte) ([]Tracked, error) {
	v := rp.v
	var out []Tracked
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i]
		}
		in := "(?" + strings.Repeat(",?", n-1) + ")"
		ts, err := v.trackedQuery(`SELECT s.id, s.head, s.deleted IS NOT NULL, 1, m.base, m.seen, m.local_head, m.local_deleted, m.theirs, m.mac
			FROM secrets s LEFT JOIN sync_records m ON m.id = s.id WHERE s.id IN `+in+`
			UNION ALL
			SELECT m.id, 0, 0, 0, m.base, m.seen, m.local_head, m.local_deleted, m.theirs, m.mac
			FROM sync_records m WHERE m.id IN `+in+` AND NOT EXISTS (SELECT 1 FROM secrets s WHERE s.id = m.id)`, append(args, args...)...)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
		ids = ids[n:]
	}
	return out, nil
}

func (v *Vault) trackedQuery(q string, args ...any) ([]Tracked, error) {
	rows, err := v.db.Query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	var out []Tracked
	var marks []checkedMark
	for rows.Next() {
		var t Tracked
		var base, seen, lh sql.NullInt64
		var ld sql.NullBool
		var theirs, mac []byte
		if err := rows.Scan(&t.ID, &t.Head, &t.Deleted, &t.Exists, &base, &seen, &lh, &ld, &theirs, &mac); err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		if base.Valid {
			t.Mark = &SyncMark{Base: base.Int64, Seen: seen.Int64, LocalHead: int(lh.Int64), LocalDeleted: ld.Bool, Theirs: theirs}
			marks = append(marks, checkedMark{t.ID, t.Mark, mac})
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close() // the name of a mark that fails is read next
	if err := v.checkMarks(v.db, marks); err != nil {
		return nil, err
	}
	return out, nil
}

// rowByID reads a secret's row and head version by id, checking its name.
func (v *Vault) rowByID(q querier, id []byte) (*row, string, error) {
	var r row
	h := &r.headVer
	var st rowState
	err := q.QueryRow(`SELECT `+rowColumns+`, v.epoch, v.created, v.name, v.meta, v.value
		FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.id = `+boundOnce, id).
		Scan(append(st.dest(), &h.epoch, &h.created, &h.name, &h.meta, &h.value)...)
	r.id, r.head, r.created, r.updated, r.deleted, r.folder = st.id, st.head, st.created, st.updated, st.deleted, st.folderMAC
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", fmt.Errorf("secret %x %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("failed to read vault: %w", err)
	}
	name, err := v.openName(r.id, r.head, h.epoch, h.name)
	if err != nil {
		return nil, "", err
	}
	if err := v.check(&st, name); err != nil {
		return nil, "", err
	}
	return &r, name, nil
}

// NameByID returns the name of a secret by id, live or removed, checked
// as ByID checks it, without opening its value.
func (rp *Replica) NameByID(id []byte) (string, error) {
	if err := rp.v.unlocked(); err != nil {
		return "", err
	}
	_, name, err := rp.v.rowByID(rp.v.db, id)
	return name, err
}

// ByID returns the current version of a secret by id, live or removed,
// with its value.
func (rp *Replica) ByID(id []byte) (*Secret, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	r, name, err := v.rowByID(v.db, id)
	if err != nil {
		return nil, err
	}
	return v.version(v.db, name, r, r.head, true)
}

// ByIDs is ByID for many secrets (a push reads every changed one): one
// query per existingBatch ids, and each row checked and opened exactly as
// ByID does, on every core. The result follows ids; a missing one is an
// ErrNotFound error.
func (rp *Replica) ByIDs(ids [][]byte) ([]*Secret, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	type idRow struct {
		st rowState
		h  verRow
	}
	out := make([]*Secret, len(ids))
	at := make(map[string]int, len(ids))
	for i, id := range ids {
		at[string(id)] = i
	}
	for start := 0; start < len(ids); start += existingBatch {
		chunk := ids[start:min(start+existingBatch, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := v.db.Query(`SELECT `+rowColumns+`, v.epoch, v.created, v.name, v.meta, v.value
			FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.id IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		got, err := openRows(rows, func(rows *sql.Rows) (r idRow, err error) {
			h := &r.h
			err = rows.Scan(append(r.st.dest(), &h.epoch, &h.created, &h.name, &h.meta, &h.value)...)
			return r, err
		}, func(ir *idRow) (*Secret, bool, error) {
			st := &ir.st
			r := &row{id: st.id, head: st.head, created: st.created, updated: st.updated, deleted: st.deleted, folder: st.folderMAC, headVer: ir.h}
			name, err := v.openName(r.id, r.head, ir.h.epoch, ir.h.name)
			if err != nil {
				return nil, false, err
			}
			if err := v.check(st, name); err != nil {
				return nil, false, err
			}
			s, err := v.version(nil, name, r, r.head, true)
			return s, err == nil, err
		})
		for _, s := range got {
			id, _ := hex.DecodeString(s.ID)
			out[at[string(id)]] = s
		}
		if err == nil {
			for i := range chunk {
				if out[start+i] == nil {
					err = fmt.Errorf("secret %x %w", chunk[i], ErrNotFound)
					break
				}
			}
		}
		if err != nil {
			for _, s := range out {
				if s != nil {
					clear(s.Value)
				}
			}
			return nil, err
		}
	}
	return out, nil
}

// Remote is a teammate's state of a secret, to apply under its id.
type Remote struct {
	ID      []byte
	Deleted bool // with no Name: a removal that carries no content
	Name    string
	Meta    Meta
	Value   []byte
	Mark    SyncMark // written with it; LocalHead and LocalDeleted are filled in
}

// Applied is what ApplyRemote did with one remote state.
type Applied struct {
	// Mark is the mark written with it, LocalHead and LocalDeleted filled
	// in. Zero when TakenBy is set.
	Mark SyncMark
	// TakenBy, when set, is the id of another secret here that holds the
	// remote's name: the remote was not applied (nor its mark written).
	TakenBy []byte
}

// ApplyRemote writes each remote state as the secret's next version (none
// when it equals the current one) and its mark, all in one transaction. A
// remote whose name another secret here holds is not applied: its
// Applied says which secret (TakenBy), and the transaction goes on.
func (rp *Replica) ApplyRemote(rs []Remote) ([]Applied, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	for i := range rs {
		r := &rs[i]
		if r.Name == "" && !r.Deleted {
			return nil, fmt.Errorf("remote secret %x has no name", r.ID)
		}
		if r.Name != "" {
			if err := ValidName(r.Name); err != nil {
				return nil, fmt.Errorf("remote secret %x: %w", r.ID, err)
			}
			if err := r.Meta.validate(); err != nil {
				return nil, fmt.Errorf("remote secret %s: %w", r.Name, err)
			}
			if len(r.Value) > MaxValueSize {
				return nil, fmt.Errorf("remote secret %s is too large", r.Name)
			}
		}
	}
	out := make([]Applied, len(rs))
	now := time.Now().UnixNano()
	err := v.write(func(tx *sql.Tx) error {
		// Each folder's count is sealed once, at the end, as SetMany
		// does: sealing after every row counts the folder each time
		// (a first pull of 10,000 secrets into one folder was quadratic,
		// half its time). Nothing is checked less: the transaction holds
		// the write lock from BEGIN, so only this batch changes the
		// folder's rows meanwhile, and a lookup's check of a folder
		// (checkFolderOf) runs as before until the batch first writes to
		// it; after that, sealing per row would have sealed this batch's
		// own count, which the check then compared with itself.
		v.pendingFolders = map[string][]byte{}
		v.wmacs = v.newWriteMACs()
		defer func() { v.pendingFolders, v.wmacs = nil, nil }()
		fresh, err := v.freshRemotes(tx, rs)
		if err != nil {
			return err
		}
		// A fresh remote (a first pull is all fresh) is written as SetMany
		// writes a new secret: sealed with its row MAC, many rows per
		// INSERT, sortedRun at a time in the order of their ids, instead
		// of a search by id, a search by name, two INSERTs, and reading
		// the row back to seal it. What is written is the same.
		var batch []newRow
		folders := macCache{v: v, m: map[string][]byte{}}
		var ins rowSorter
		flush := func() error {
			err := v.insertRows(tx, ins.byID(batch))
			batch = batch[:0]
			return err
		}
		for i := range rs {
			rm := &rs[i]
			if fresh[i] != nil {
				nr, err := v.newRowID(rm.ID, rm.Name, fresh[i], folders.get(Folder(rm.Name)), rm.Meta, rm.Value, now)
				if err != nil {
					return err
				}
				batch = append(batch, nr)
				mark := rm.Mark
				mark.LocalHead, mark.LocalDeleted = 1, false
				if err := v.putMark(tx, rm.ID, &mark); err != nil {
					return err
				}
				out[i] = Applied{Mark: mark}
				if len(batch) == sortedRun {
					if err := flush(); err != nil {
						return err
					}
				}
				continue
			}
			// Anything else reads what this batch wrote before it.
			if err := flush(); err != nil {
				return err
			}
			if out[i], err = v.applyOne(tx, rm, now); err != nil {
				return err
			}
		}
		if err := flush(); err != nil {
			return err
		}
		pending := v.pendingFolders
		v.pendingFolders = nil
		for _, mac := range pending {
			if err := v.sealFolder(tx, mac); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// freshRemotes finds the remotes of rs that are new here: live, with an
// id and a name that no secret here holds (removed ones included) and no
// earlier remote of rs names. Such a remote is, in applyOne, a search by
// id and one by name that find nothing, then version 1: nothing to
// compare or check. The ids and names are asked 500 at a time. For each
// fresh remote the result holds its name's lookup MAC; nil for the rest.
func (v *Vault) freshRemotes(tx *sql.Tx, rs []Remote) ([][]byte, error) {
	out := make([][]byte, len(rs))
	ids := make([][]byte, 0, len(rs))
	macs := make([][]byte, 0, len(rs))
	for i := range rs {
		ids = append(ids, rs[i].ID)
		if rs[i].Name != "" {
			out[i] = v.nameMAC(rs[i].Name)
			macs = append(macs, out[i])
		}
	}
	haveID, err := existingIDs(tx, ids)
	if err != nil {
		return nil, err
	}
	haveName, err := v.existing(tx, macs)
	if err != nil {
		return nil, err
	}
	seenID, seenName := map[string]bool{}, map[string]bool{}
	for i := range rs {
		rm, mac := &rs[i], out[i]
		if rm.Deleted || mac == nil || haveID[string(rm.ID)] || seenID[string(rm.ID)] || haveName[string(mac)] || seenName[string(mac)] {
			out[i] = nil
		}
		seenID[string(rm.ID)] = true
		if mac != nil {
			seenName[string(mac)] = true
		}
	}
	return out, nil
}

// existingIDs returns those of ids (as strings) that have a row, asking
// existingBatch at a time.
func existingIDs(tx *sql.Tx, ids [][]byte) (map[string]bool, error) {
	have := map[string]bool{}
	for start := 0; start < len(ids); start += existingBatch {
		chunk := ids[start:min(start+existingBatch, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		got, err := queryIDs(tx, `SELECT id FROM secrets WHERE id IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		for _, id := range got {
			have[string(id)] = true
		}
	}
	return have, nil
}

func (v *Vault) applyOne(tx *sql.Tx, rm *Remote, now int64) (Applied, error) {
	r, curName, err := v.rowByID(tx, rm.ID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Applied{}, err
	}
	if rm.Name != "" && !rm.Deleted && (r == nil || rm.Name != curName) {
		other, err := v.lookup(tx, rm.Name)
		if err == nil && !bytes.Equal(other.id, rm.ID) {
			free, err := v.freeName(tx, other)
			if err != nil {
				return Applied{}, err
			}
			if !free {
				return Applied{TakenBy: other.id}, nil
			}
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Applied{}, err
		}
	}
	mark := rm.Mark
	switch {
	case r == nil && rm.Name == "":
		// A removal of a secret never seen here: only the mark.
	case r == nil:
		s, err := v.seal(rm.ID, 1, rm.Name, rm.Meta, rm.Value)
		if err != nil {
			return Applied{}, err
		}
		var deleted any
		if rm.Deleted {
			deleted = now
		}
		if _, err := tx.Exec(`INSERT INTO secrets (id, name_mac, folder_mac, head, created, updated, deleted) VALUES (?, ?, ?, 1, ?, ?, ?)`,
			rm.ID, v.nameMAC(rm.Name), v.folderMAC(Folder(rm.Name)), now, now, deleted); err != nil {
			return Applied{}, fmt.Errorf("failed to write %s: %w", rm.Name, err)
		}
		if _, err := tx.Exec(`INSERT INTO versions (secret_id, version, epoch, created, name, meta, value) VALUES (?, 1, ?, ?, ?, ?, ?)`,
			rm.ID, v.hdr.epoch, now, s.name, s.meta, s.value); err != nil {
			return Applied{}, fmt.Errorf("failed to write %s: %w", rm.Name, err)
		}
		if err := v.sealRow(tx, rm.ID); err != nil {
			return Applied{}, err
		}
		mark.LocalHead = 1
	default:
		if rm.Name != "" {
			cur, err := v.version(tx, curName, r, r.head, true)
			if err != nil {
				return Applied{}, err
			}
			same := cur.Name == rm.Name && bytes.Equal(cur.Value, rm.Value) && metaEqual(cur.Meta, rm.Meta)
			clear(cur.Value)
			if !same {
				if err := v.addVersion(tx, r, rm.Name, rm.Meta, rm.Value, now); err != nil {
					return Applied{}, err
				}
				r.deleted = sql.NullInt64{}
			}
		}
		var deleted any
		if rm.Deleted {
			deleted = now
			if r.deleted.Valid {
				deleted = r.deleted.Int64
			}
		}
		if _, err := tx.Exec(`UPDATE secrets SET deleted = ? WHERE id = ?`, deleted, rm.ID); err != nil {
			return Applied{}, fmt.Errorf("failed to write vault: %w", err)
		}
		if err := v.sealRow(tx, rm.ID); err != nil {
			return Applied{}, err
		}
		mark.LocalHead = r.head
	}
	mark.LocalDeleted = rm.Deleted
	if err := v.putMark(tx, rm.ID, &mark); err != nil {
		return Applied{}, err
	}
	return Applied{Mark: mark}, nil
}

func (v *Vault) putMark(q querier, id []byte, m *SyncMark) error {
	_, err := q.Exec(`INSERT INTO sync_records (id, base, seen, local_head, local_deleted, theirs, mac) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET base = excluded.base, seen = excluded.seen, local_head = excluded.local_head,
		local_deleted = excluded.local_deleted, theirs = excluded.theirs, mac = excluded.mac`,
		id, m.Base, m.Seen, m.LocalHead, m.LocalDeleted, m.Theirs, v.markMAC(id, m))
	if err != nil {
		return fmt.Errorf("failed to write vault: %w", err)
	}
	return nil
}

// PutMarks writes marks, in one transaction.
func (rp *Replica) PutMarks(ms map[string]SyncMark) error {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return err
	}
	return v.write(func(tx *sql.Tx) error {
		for hexID, m := range ms {
			id, err := hex.DecodeString(hexID)
			if err != nil {
				return err
			}
			if err := v.putMark(tx, id, &m); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeID deletes a secret and its history by id (a name conflict settled
// for the teammate's secret); its mark stays.
func (rp *Replica) PurgeID(id []byte) error {
	v := rp.v
	return v.write(func(tx *sql.Tx) error {
		var folder []byte
		tx.QueryRow(`SELECT folder_mac FROM secrets WHERE id = ?`, id).Scan(&folder)
		if _, err := tx.Exec(`DELETE FROM versions WHERE secret_id = ?`, id); err != nil {
			return err
		}
		if err := v.deleteRow(tx, id); err != nil {
			return err
		}
		if err := v.sealFolder(tx, folder); err != nil {
			return err
		}
		return v.markPurgedHere(tx, id)
	})
}

// Conflicts returns the names of live or removed secrets that have a
// conflicting version from the server, by id.
func (v *Vault) Conflicts() (map[string]string, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT s.id, s.head, v.epoch, v.name, m.base, m.seen, m.local_head, m.local_deleted, m.theirs, m.mac FROM sync_records m
		JOIN secrets s ON s.id = m.id JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE m.theirs IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	var marks []checkedMark
	for rows.Next() {
		var id, name []byte
		var head, epoch int
		c := checkedMark{m: &SyncMark{}}
		if err := rows.Scan(&id, &head, &epoch, &name, &c.m.Base, &c.m.Seen, &c.m.LocalHead, &c.m.LocalDeleted, &c.m.Theirs, &c.mac); err != nil {
			return nil, err
		}
		n, err := v.openName(id, head, epoch, name)
		if err != nil {
			return nil, err
		}
		c.id = id
		marks = append(marks, c)
		out[idString(id)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	// A conflict planted outside hush is no conflict to show, nor to
	// resolve: it reads as the tampering it is.
	if err := v.checkMarks(v.db, marks); err != nil {
		return nil, err
	}
	return out, nil
}

// HasConflict reports whether the secret with this id (as in
// [Secret.ID]) has a conflicting version from a team server.
func (v *Vault) HasConflict(id string) (bool, error) {
	b, err := hex.DecodeString(id)
	if err != nil {
		return false, fmt.Errorf("secret id %q is not an id", id)
	}
	if err := v.unlocked(); err != nil {
		return false, err
	}
	m, err := v.markOf(v.db, b)
	if err != nil {
		return false, err
	}
	return m != nil && m.Theirs != nil, nil
}

func (v *Vault) stateAD(k string) []byte { return crypto.AD("hush/v1/sync-state", v.hdr.vaultID, k) }

// SyncState returns the sealed setting k, opened; nil if unset.
func (rp *Replica) SyncState(k string) ([]byte, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	var ct []byte
	err := v.db.QueryRow(`SELECT v FROM sync_state WHERE k = ?`, k).Scan(&ct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	b, err := crypto.Open(v.keys.value, ct, v.stateAD(k))
	if err != nil {
		return nil, &TamperError{"sync settings " + k}
	}
	return b, nil
}

// SetSyncState seals and stores setting k.
func (rp *Replica) SetSyncState(k string, b []byte) error {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return err
	}
	ct, err := crypto.Seal(v.keys.value, b, v.stateAD(k))
	if err != nil {
		return err
	}
	return v.write(func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO sync_state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, ct)
		return err
	})
}

// SyncStates returns the sealed settings whose keys begin with prefix,
// opened, by key.
func (rp *Replica) SyncStates(prefix string) (map[string][]byte, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT k, v FROM sync_state WHERE substr(k, 1, length(?1)) = ?1`, prefix)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k string
		var ct []byte
		if err := rows.Scan(&k, &ct); err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		b, err := crypto.Open(v.keys.value, ct, v.stateAD(k))
		if err != nil {
			return nil, &TamperError{"sync settings " + k}
		}
		out[k] = b
	}
	return out, rows.Err()
}

// SetSyncStates seals and stores the settings of set and deletes those
// named in del, in one transaction.
func (rp *Replica) SetSyncStates(set map[string][]byte, del []string) error {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return err
	}
	cts := make(map[string][]byte, len(set))
	for k, b := range set {
		ct, err := crypto.Seal(v.keys.value, b, v.stateAD(k))
		if err != nil {
			return err
		}
		cts[k] = ct
	}
	return v.write(func(tx *sql.Tx) error {
		for _, k := range del {
			if _, err := tx.Exec(`DELETE FROM sync_state WHERE k = ?`, k); err != nil {
				return err
			}
		}
		for k, ct := range cts {
			if _, err := tx.Exec(`INSERT INTO sync_state (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v`, k, ct); err != nil {
				return err
			}
		}
		return nil
	})
}

// HasSyncState reports, without the key, whether setting k exists: a
// vault that belongs to a team.
func (rp *Replica) HasSyncState(k string) bool {
	v := rp.v
	var n int
	if err := v.db.QueryRow(`SELECT count(*) FROM sync_state WHERE k = ?`, k).Scan(&n); err != nil {
		return false
	}
	return n > 0
}

// MarkExposed marks every live secret as to be rotated (a new version with
// Exposed set), in one transaction, and returns how many it marked.
func (rp *Replica) MarkExposed(reason string, at time.Time) (int, error) {
	return rp.MarkExposedWhere(nil, reason, at)
}

// MarkExposedWhere is MarkExposed for the live secrets whose name match
// accepts (nil: all): a team scope's, when a member loses that scope. A
// secret marked already keeps its date and adds reason to its own
// ("bob no longer holds app/staging; carol no longer holds app/staging"),
// so that [Replica.ClearExposureWhere] can take one back; it is not
// counted again.
func (rp *Replica) MarkExposedWhere(match func(name string) bool, reason string, at time.Time) (int, error) {
	return rp.reexpose(match, func(was *Exposure) (*Exposure, bool) {
		switch {
		case was == nil:
			return &Exposure{At: at.UTC(), Reason: reason}, true
		case slices.Contains(exposureReasons(was.Reason), reason):
			return was, false
		}
		return &Exposure{At: was.At, Reason: was.Reason + exposureSep + reason}, false
	})
}

// reexpose gives each live secret whose name match accepts (nil: all) the
// exposure next makes of its own, as a new version with the same value,
// when next says it changed (or returns another pointer); counted says
// whether the change counts in what it returns.
func (rp *Replica) reexpose(match func(name string) bool, next func(was *Exposure) (e *Exposure, counted bool)) (int, error) {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return 0, err
	}
	n := 0
	err := v.write(func(tx *sql.Tx) error {
		ids, err := queryIDs(tx, `SELECT id FROM secrets WHERE deleted IS NULL`)
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		for _, id := range ids {
			r, name, err := v.rowByID(tx, id)
			if err != nil {
				return err
			}
			if match != nil && !match(name) {
				continue
			}
			cur, err := v.version(tx, name, r, r.head, true)
			if err != nil {
				return err
			}
			was := cur.Meta.Exposed
			e, counted := next(was)
			if e == was {
				clear(cur.Value)
				continue
			}
			m := cur.Meta
			m.Exposed = e
			keepClock(&m, cur.Meta, r)
			err = v.addVersion(tx, r, name, m, cur.Value, now)
			clear(cur.Value)
			if err != nil {
				return err
			}
			if counted {
				n++
			}
		}
		return nil
	})
	return n, err
}

// exposureSep joins the reasons of an exposure with more than one.
const exposureSep = "; "

func exposureReasons(r string) []string { return strings.Split(r, exposureSep) }

// ClearExposureWhere takes reason back from the exposure of the live
// secrets whose name match accepts (a member who lost a team scope was
// given it again: a new value would not keep them out). A secret left
// with no other reason is no longer marked to be rotated. Each changed
// secret gets a new version, with the same value; it returns how many
// were no longer marked.
func (rp *Replica) ClearExposureWhere(match func(name string) bool, reason string) (int, error) {
	return rp.reexpose(match, func(was *Exposure) (*Exposure, bool) {
		if was == nil || !slices.Contains(exposureReasons(was.Reason), reason) {
			return was, false
		}
		rest := slices.DeleteFunc(exposureReasons(was.Reason), func(s string) bool { return s == reason })
		if len(rest) == 0 {
			return nil, true
		}
		return &Exposure{At: was.At, Reason: strings.Join(rest, exposureSep)}, false
	})
}

// Reseal makes every secret that a team server knows count as changed
// here, so that the next push sends it again (under a new key epoch).
// Removals too: a removal left under the old key is a record that a
// device reading afresh (a machine token) cannot open, and it would say
// so at every read for good (attack23 T1).
func (rp *Replica) Reseal() error {
	return rp.ResealWhere(nil)
}

// ResealWhere is Reseal for the secrets (removals included) whose name
// match accepts (nil: all): a team scope's, when that scope gets a new
// key. Each mark is checked, then written again with its MAC.
func (rp *Replica) ResealWhere(match func(name string) bool) error {
	v := rp.v
	if err := v.unlocked(); err != nil {
		return err
	}
	return v.write(func(tx *sql.Tx) error {
		ids, err := queryIDs(tx, `SELECT id FROM sync_records WHERE theirs IS NULL AND id IN (SELECT id FROM secrets)`)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if match != nil {
				_, name, err := v.rowByID(tx, id)
				if err != nil {
					return err
				}
				if !match(name) {
					continue
				}
			}
			m, err := v.markOf(tx, id)
			if err != nil {
				return err
			}
			if m == nil || m.Theirs != nil {
				continue
			}
			m.LocalHead = -1
			if err := v.putMark(tx, id, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// freeName lets a teammate's live secret take a name that a secret removed
// here still holds, when that removal is settled with the server (or was
// never shared): the removed secret and its history go, as with rm --purge.
// A live holder, or a removal not yet pushed, keeps the name.
func (v *Vault) freeName(tx *sql.Tx, holder *row) (bool, error) {
	if !holder.deleted.Valid {
		return false, nil
	}
	m, err := v.markOf(tx, holder.id)
	switch {
	case err != nil:
		return false, err
	case m == nil:
		// Never synced: removed before it was ever shared.
	case m.Theirs != nil || !m.LocalDeleted || m.LocalHead != holder.head:
		return false, nil
	}
	if _, err := tx.Exec(`DELETE FROM versions WHERE secret_id = ?`, holder.id); err != nil {
		return false, err
	}
	if err := v.deleteRow(tx, holder.id); err != nil {
		return false, err
	}
	return true, nil
}

// queryIDs reads the one id column a query returns, whole, so that the
// caller can write in the same transaction after it.
func queryIDs(tx *sql.Tx, query string, args ...any) ([][]byte, error) {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids [][]byte
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
