package vault

import (
	"crypto/hmac"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
)

// A secret's row holds what decides which version is current, whether it
// was removed, which folder lists it and when it is due: bookkeeping that
// the AEAD of its versions does not cover. The row MAC authenticates it
// (record format 3), so that a local writer who moves head back (reviving
// a revoked value), clears deleted, changes folder_mac (hiding a secret
// from export) or the times (moving what is due) gets "vault data failed
// authentication" instead. The head version's own time must equal the
// row's updated time, which binds it too.
//
// What the MAC cannot stop: a row put back whole, with its MAC, from an
// older copy of the file together with its newer version rows deleted (a
// secret's own older state); a removed secret's row put back together
// with its folder's count row; and a row deleted. A row put back while its
// newer versions stay is refused (head must be the newest version), and a
// removed secret's row put back alone too (its folder's count is one
// short: checkFolderOf, and List's per-folder counts).

// rowState is a secret row's authenticated columns.
type rowState struct {
	id                 []byte
	head               int
	created, updated   int64
	deleted            sql.NullInt64
	nameMAC, folderMAC []byte
	mac                []byte
	newest             sql.NullInt64 // the highest version stored for the secret
	changed            int64         // the change number of its last write (format 5)
}

func (v *Vault) rowMAC(s *rowState) []byte { return v.keys.row.MAC(v.rowMACInput(s)) }

// rowMACInput is what a row MAC authenticates: crypto.AD("hush/v1/row",
// vault id, id, head, created, updated, "live" or "deleted", deleted,
// name MAC, folder MAC[, changed from record format 5]), built here
// without boxing its parts into interfaces (one allocation instead of
// seven; it is built for every row written or read, and
// TestRowMACInputIsCryptoAD compares the bytes).
func (v *Vault) rowMACInput(s *rowState) []byte {
	n := 7*4 + len(rowMACLabel) + len(v.hdr.vaultID) + len(s.id) + len("deleted") + len(s.nameMAC) + len(s.folderMAC) + 5*(4+8)
	return v.appendRowMACInput(make([]byte, 0, n), s)
}

const rowMACLabel = "hush/v1/row"

// appendRowMACInput appends [Vault.rowMACInput]'s bytes to b.
func (v *Vault) appendRowMACInput(b []byte, s *rowState) []byte {
	const label = rowMACLabel
	live := "live"
	if s.deleted.Valid {
		live = "deleted"
	}
	format5 := v.hdr.format >= 5
	bytesPart := func(p []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	intPart := func(x int64) {
		b = binary.BigEndian.AppendUint32(b, 8)
		b = binary.BigEndian.AppendUint64(b, uint64(x))
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(label)))
	b = append(b, label...)
	bytesPart(v.hdr.vaultID)
	bytesPart(s.id)
	intPart(int64(s.head))
	intPart(s.created)
	intPart(s.updated)
	b = binary.BigEndian.AppendUint32(b, uint32(len(live)))
	b = append(b, live...)
	intPart(s.deleted.Int64)
	bytesPart(s.nameMAC)
	bytesPart(s.folderMAC)
	if format5 {
		intPart(s.changed)
	}
	return b
}

// check authenticates a row read for name (its name when known, else its id).
func (v *Vault) check(s *rowState, name string) error {
	if name == "" {
		name = fmt.Sprintf("secret %x", s.id)
	}
	if s.mac == nil {
		if v.hdr.format >= 3 {
			return &TamperError{fmt.Sprintf("the state of %s is not authenticated", name)}
		}
		return nil // written by an older hush, before the upgrade
	}
	if !hmac.Equal(s.mac, v.rowMAC(s)) {
		return &TamperError{fmt.Sprintf("the state of %s (its current version, removal, folder or times) was changed outside hush", name)}
	}
	if s.newest.Valid && s.newest.Int64 != int64(s.head) {
		return &TamperError{fmt.Sprintf("the current version of %s is %d, but version %d is stored: its state was put back from an older copy", name, s.head, s.newest.Int64)}
	}
	if v.hdr.format >= 5 {
		if v.anch != nil {
			// In a commit: a row newer than the anchor, other than one
			// this change wrote, is one the anchor has not seen.
			if s.changed > v.anch.changes && s.changed != v.changeNo {
				return rowNewerError(name, s.changed, v.anch.changes)
			}
		} else {
			// compared with the anchor by the command's check; rows are
			// checked on several goroutines at once (openBatches)
			v.seenMu.Lock()
			if s.changed > v.maxSeen {
				v.maxSeen, v.maxSeenName = s.changed, name
			}
			v.seenMu.Unlock()
		}
	}
	return nil
}

func rowNewerError(name string, changed, anchored int64) error {
	return &TamperError{fmt.Sprintf("%s was written by change %d, but the vault's anchor has seen only %d: the anchor and the audit log were put back from an older copy (restore both from a backup)", name, changed, anchored)}
}

// checkUpdated binds the head version's time to the row's.
func checkUpdated(name string, rowUpdated, headCreated int64) error {
	if rowUpdated != headCreated {
		return &TamperError{fmt.Sprintf("the time of %s's current version was changed outside hush", name)}
	}
	return nil
}

// rowColumns reads a row's state and the highest version stored for it:
// versions are only ever added as head+1, so a current version that is
// not the newest is a row put back from an older copy of the file while
// the newer versions stayed (an index seek on the versions' primary key).
const rowColumns = `s.id, s.head, s.created, s.updated, s.deleted, s.name_mac, s.folder_mac, s.row_mac,
	(SELECT max(mv.version) FROM versions mv WHERE mv.secret_id = s.id), s.changed`

func (s *rowState) dest() []any {
	return []any{&s.id, &s.head, &s.created, &s.updated, &s.deleted, &s.nameMAC, &s.folderMAC, &s.mac, &s.newest, &s.changed}
}

// sealRow computes and stores the MAC of a row as it now is: every write
// to a secrets row ends with it.
func (v *Vault) sealRow(q querier, id []byte) error {
	var s rowState
	err := q.QueryRow(`SELECT `+rowColumns+` FROM secrets s WHERE s.id = ?`, id).Scan(s.dest()...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return dbErr("read vault", err)
	}
	old := s.mac
	if v.hdr.format >= 5 && v.changeNo != 0 {
		s.changed = v.changeNo // outside a change, the row keeps its number
	}
	mac := v.rowMAC(&s)
	if _, err = q.Exec(`UPDATE secrets SET row_mac = ?, changed = ? WHERE id = ?`, mac, s.changed, id); err != nil {
		return dbErr("write vault", err)
	}
	if v.anch != nil {
		v.anch.rowChanged(v, id, old, mac)
	}
	return v.sealFolder(q, s.folderMAC)
}

func (v *Vault) folderCountMAC(folderMAC []byte, live int) []byte {
	return v.keys.row.MAC(crypto.AD("hush/v1/folder", v.hdr.vaultID, folderMAC, live))
}

// sealFolder records, authenticated, how many live secrets the folder
// holds now. Every write that may change it ends with it.
func (v *Vault) sealFolder(q querier, folderMAC []byte) error {
	if v.pendingFolders != nil {
		if _, ok := v.pendingFolders[string(folderMAC)]; !ok { // no key allocated for a folder already pending
			v.pendingFolders[string(folderMAC)] = folderMAC // sealed at the batch's end
		}
		return nil
	}
	var live int
	if err := q.QueryRow(`SELECT count(*) FROM secrets WHERE folder_mac = ? AND deleted IS NULL`, folderMAC).Scan(&live); err != nil {
		return dbErr("read vault", err)
	}
	var err error
	if live == 0 {
		_, err = q.Exec(`DELETE FROM folders WHERE folder_mac = ?`, folderMAC)
	} else {
		_, err = q.Exec(`INSERT INTO folders (folder_mac, live, mac) VALUES (?, ?, ?)
			ON CONFLICT(folder_mac) DO UPDATE SET live = excluded.live, mac = excluded.mac`, folderMAC, live, v.folderCountMAC(folderMAC, live))
	}
	return dbErr("write vault", err)
}

// checkFolder compares the live secrets a folder listing found with the
// folder's authenticated count.
func (v *Vault) checkFolder(q querier, folder string, folderMAC []byte, found int) error {
	if v.hdr.format < 3 {
		return nil
	}
	var live int
	var mac []byte
	err := q.QueryRow(`SELECT live, mac FROM folders WHERE folder_mac = ?`, folderMAC).Scan(&live, &mac)
	if errors.Is(err, sql.ErrNoRows) {
		live, mac = 0, nil
	} else if err != nil {
		return dbErr("read vault", err)
	} else if !hmac.Equal(mac, v.folderCountMAC(folderMAC, live)) {
		return &TamperError{fmt.Sprintf("the count of secrets in folder %q", folder)}
	}
	if live != found {
		return &TamperError{fmt.Sprintf("folder %q holds %d secrets but %d were found: a secret was moved out of it or into it outside hush", folder, live, found)}
	}
	return nil
}

// sealAllRows MACs every row: at the upgrade to format 3 and after a key
// rotation.
func (v *Vault) sealAllRows(q querier) error {
	rows, err := q.Query(`SELECT id FROM secrets`)
	if err != nil {
		return dbErr("read vault", err)
	}
	var ids [][]byte
	for rows.Next() {
		var id []byte
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return dbErr("read vault", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	// Folder counts are recomputed from scratch (their MACs change with
	// the key): sealRow re-adds every folder that has live secrets.
	if _, err := q.Exec(`DELETE FROM folders`); err != nil {
		return dbErr("write vault", err)
	}
	for _, id := range ids {
		if err := v.sealRow(q, id); err != nil {
			return err
		}
	}
	return nil
}

// checkFolderOf compares a folder's live secrets with its authenticated
// count: a removed secret's row put back from a copy taken before the
// removal is one live secret more than the folder's count says. One
// count over the folder's index.
func (v *Vault) checkFolderOf(q querier, folder string, folderMAC []byte) error {
	if v.hdr.format < 3 {
		return nil
	}
	if _, ok := v.pendingFolders[string(folderMAC)]; ok {
		return nil // a batch changed it and seals its count at the end
	}
	if v.checkedFolders[string(folderMAC)] {
		return nil // compared at the start of this write, before it changed anything
	}
	var live int
	if err := q.QueryRow(`SELECT count(*) FROM secrets WHERE folder_mac = ? AND deleted IS NULL`, folderMAC).Scan(&live); err != nil {
		return dbErr("read vault", err)
	}
	if err := v.checkFolder(q, folder, folderMAC, live); err != nil {
		return err
	}
	if v.checkedFolders != nil {
		v.checkedFolders[string(folderMAC)] = true
	}
	return nil
}

// checkGapless refuses a secret whose versions are not exactly 1..head:
// versions are only ever added as head+1 and deleted all together (a
// purge), so a gap is a row deleted outside hush, such as the version that
// revoked a leaked value; a rollback across it could bring that value
// back, and a history would hide it. Every command that walks or picks
// among a secret's versions (history, rollback, get --version, the
// revoked-value check of set) calls it; one count over the secret's
// versions, and the search for the first gap only when there is one.
func (v *Vault) checkGapless(q querier, name string, r *row) error {
	var missing int
	// +?1, +?2: the same values, but SQLite does not plan with them, so
	// the cached statement is not prepared again at every new binding
	// (it was, once per secret an import finds already there).
	err := q.QueryRow(`SELECT CASE
		WHEN (SELECT count(*) FROM versions WHERE secret_id = +?1 AND version BETWEEN 1 AND +?2) = +?2 THEN 0
		WHEN NOT EXISTS (SELECT 1 FROM versions WHERE secret_id = +?1 AND version = 1) THEN 1
		ELSE (SELECT min(a.version) + 1 FROM versions a WHERE a.secret_id = +?1 AND a.version >= 1
			AND NOT EXISTS (SELECT 1 FROM versions b WHERE b.secret_id = +?1 AND b.version = a.version + 1))
		END`, r.id, r.head).Scan(&missing)
	if err != nil {
		return dbErr("read vault", err)
	}
	if missing != 0 {
		return &TamperError{fmt.Sprintf("version %d of %s is missing (deleted outside hush; restore the vault from a backup)", missing, name)}
	}
	return nil
}

// gapless is checkGapless on versions already read (every stored version
// of r): the same answer and the same error.
func gapless(name string, r *row, versions []sealedMeta) error {
	have := make(map[int]bool, len(versions))
	inRange := 0
	for _, sv := range versions {
		if !have[sv.n] && sv.n >= 1 && sv.n <= r.head {
			inRange++
		}
		have[sv.n] = true
	}
	if inRange == r.head {
		return nil
	}
	missing := 1
	if have[1] {
		first := 0 // the lowest version >= 1 whose successor is not stored
		for n := range have {
			if n >= 1 && !have[n+1] && (first == 0 || n < first) {
				first = n
			}
		}
		missing = first + 1
	}
	return &TamperError{fmt.Sprintf("version %d of %s is missing (deleted outside hush; restore the vault from a backup)", missing, name)}
}

// deleteRow deletes a secret's row (its versions are deleted first, by the
// caller): every purge goes through it, so that the anchor's digest and
// last change follow.
func (v *Vault) deleteRow(q querier, id []byte) error {
	var old []byte
	err := q.QueryRow(`DELETE FROM secrets WHERE id = ? RETURNING row_mac`, id).Scan(&old)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return dbErr("write vault", err)
	}
	if v.anch != nil {
		v.anch.rowChanged(v, id, old, nil)
	}
	return nil
}
