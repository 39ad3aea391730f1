package vault

import (
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
)

// A secret's sync mark (sync_records) decides what a sync accepts from
// the server and what `hush resolve --keep theirs` takes: `seen` is the
// version below which the server is called a liar, `theirs` the record
// shown and applied as a teammate's version. Unauthenticated, a local
// writer with no key could raise `seen` and freeze the device with the
// blame on the server, or plant a genuine record ciphertext (an older
// version of the secret, revoked since, or another secret's record, from
// the server's database, which the docs treat as worthless) for the user
// to take (outside attack attack25 #4, #9). From record format 6 every
// mark carries a MAC under the row subkey, over all its columns and the
// secret's id, checked at every read: an edit, a record planted, or a
// mark copied from another secret's row reads as local tampering, naming
// the secret.
//
// What the MAC cannot stop: a mark put back whole, with its MAC, from an
// older copy of this vault (its own older bookkeeping), or deleted (the
// secret then looks never synced: a sync pushes it, and the server
// answers with a conflict). docs/security.md says so.

const markMACLabel = "hush/v1/sync-mark"

// markMAC authenticates a mark: AD("hush/v1/sync-mark", vault id, id,
// base, seen, local_head, local_deleted (0 or 1), "theirs" or "none",
// theirs).
func (v *Vault) markMAC(id []byte, m *SyncMark) []byte {
	deleted, has := 0, "none"
	if m.LocalDeleted {
		deleted = 1
	}
	if m.Theirs != nil {
		has = "theirs"
	}
	return v.keys.row.MAC(crypto.AD(markMACLabel, v.hdr.vaultID, id, m.Base, m.Seen, m.LocalHead, deleted, has, m.Theirs))
}

// checkedMark is a mark as read, with its stored MAC, to check once the
// query that read it is closed (a failure reads the secret's name).
type checkedMark struct {
	id  []byte
	m   *SyncMark
	mac []byte
}

// checkMarks authenticates marks read from the file.
func (v *Vault) checkMarks(q querier, ms []checkedMark) error {
	if v.hdr.format < 6 || len(ms) == 0 {
		return nil // written by an older hush, before the upgrade
	}
	if err := v.unlocked(); err != nil {
		return err
	}
	for _, c := range ms {
		if c.mac == nil {
			return v.markTampered(q, c.id, "is not authenticated")
		}
		if !hmac.Equal(c.mac, v.markMAC(c.id, c.m)) {
			return v.markTampered(q, c.id, "(the versions it has seen of the team server, or a teammate's conflicting version) was changed outside hush")
		}
	}
	return nil
}

// markTampered is the error for a mark that fails, naming its secret when
// its name still opens.
func (v *Vault) markTampered(q querier, id []byte, what string) error {
	name := fmt.Sprintf("secret %x", id)
	var head, epoch int
	var ct []byte
	if err := q.QueryRow(`SELECT s.head, v.epoch, v.name FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.id = ?`, id).
		Scan(&head, &epoch, &ct); err == nil {
		if n, err := v.openName(id, head, epoch, ct); err == nil {
			name = n
		}
	}
	return &TamperError{fmt.Sprintf("the sync bookkeeping of %s %s: this device's vault file was edited, not the team server; restore the vault from a backup", name, what)}
}

// readMarks reads every mark with its MAC, unchecked.
func readMarks(q querier) ([]checkedMark, error) {
	rows, err := q.Query(`SELECT id, base, seen, local_head, local_deleted, theirs, mac FROM sync_records`)
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	defer rows.Close()
	var out []checkedMark
	for rows.Next() {
		c := checkedMark{m: &SyncMark{}}
		if err := rows.Scan(&c.id, &c.m.Base, &c.m.Seen, &c.m.LocalHead, &c.m.LocalDeleted, &c.m.Theirs, &c.mac); err != nil {
			return nil, dbErr("read vault", err)
		}
		out = append(out, c)
	}
	return out, dbErr("read vault", rows.Err())
}

// sealAllMarks MACs every mark as it is: at the upgrade to format 6 (the
// marks were not authenticated before) and after a key rotation (checked
// under the old key first: checkAllMarks).
func (v *Vault) sealAllMarks(q querier) error {
	ms, err := readMarks(q)
	if err != nil {
		return err
	}
	for _, c := range ms {
		if _, err := q.Exec(`UPDATE sync_records SET mac = ? WHERE id = ?`, v.markMAC(c.id, c.m), c.id); err != nil {
			return dbErr("write vault", err)
		}
	}
	return nil
}

// checkAllMarks authenticates every mark: before a key rotation seals
// them again, so that it does not launder an edited one.
func (v *Vault) checkAllMarks(q querier) error {
	ms, err := readMarks(q)
	if err != nil {
		return err
	}
	return v.checkMarks(q, ms)
}

// markOf reads and checks one secret's mark; nil when it has none.
func (v *Vault) markOf(q querier, id []byte) (*SyncMark, error) {
	c := checkedMark{id: id, m: &SyncMark{}}
	err := q.QueryRow(`SELECT base, seen, local_head, local_deleted, theirs, mac FROM sync_records WHERE id = ?`, id).
		Scan(&c.m.Base, &c.m.Seen, &c.m.LocalHead, &c.m.LocalDeleted, &c.m.Theirs, &c.mac)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	if err := v.checkMarks(q, []checkedMark{c}); err != nil {
		return nil, err
	}
	return c.m, nil
}
