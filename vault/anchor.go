package vault

import (
	"bytes"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
)

// The anchor is the vault's own record of its audit log: the last entry
// the log held when the vault last changed (its number and chain MAC) and
// how many transactions have changed the vault, authenticated under the
// audit chain key. Every transaction that changes the vault moves it, in
// the same transaction as the change's audit entry. So:
//
//   - a log cut, emptied, deleted or replaced by an older copy no longer
//     reaches the anchor's entry, or holds another one there;
//   - a vault that went back in time (its -wal lost or damaged, an older
//     copy put back under a newer log) has a counter lower than the log's
//     last entry recorded.
//
// Reads (get, run, export) append to the log without writing the vault, so
// that a get stays fast: the entries after the anchor's are not covered,
// and a local writer can cut them off unseen. docs/security.md says so.
type anchor struct {
	seq     int
	mac     []byte
	changes int64
}

func (v *Vault) anchorTag(a anchor) []byte {
	return v.keys.chain.MAC(crypto.AD("hush/v1/anchor", v.hdr.vaultID, a.seq, a.mac, a.changes))
}

// anchored reports whether this vault must have an anchor: every vault of
// record format 2 or later.
func (v *Vault) anchored() bool { return v.hdr.format >= 2 }

// readAnchor reads and authenticates the anchor; nil when a format 1 vault
// has none yet.
func (v *Vault) readAnchor(q querier) (*anchor, error) {
	var a anchor
	var tag []byte
	err := q.QueryRow(`SELECT seq, mac, changes, tag FROM anchor WHERE id = 1`).Scan(&a.seq, &a.mac, &a.changes, &tag)
	if errors.Is(err, sql.ErrNoRows) {
		if v.anchored() {
			return nil, &TamperError{"the vault's anchor of its audit log is missing"}
		}
		return nil, nil
	}
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	if a.seq < 0 || a.changes < 0 || !hmac.Equal(tag, v.anchorTag(a)) {
		return nil, &TamperError{"the vault's anchor of its audit log"}
	}
	return &a, nil
}

func (v *Vault) writeAnchor(q querier, a anchor) error {
	_, err := q.Exec(`INSERT INTO anchor (id, seq, mac, changes, tag) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac, changes = excluded.changes, tag = excluded.tag`,
		a.seq, append([]byte{}, a.mac...), a.changes, v.anchorTag(a))
	return dbErr("write vault", err)
}

// logHead returns the log's last entry (0 and nil when empty), opened.
func (v *Vault) logHead(q querier) (seq int, mac []byte, e AuditEntry, err error) {
	var ct []byte
	err = q.QueryRow(`SELECT seq, entry, mac FROM audit.audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &ct, &mac)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, e, nil
	}
	if err != nil {
		return 0, nil, e, dbErr("read the audit log", err)
	}
	js, err := crypto.Open(v.keys.audit, ct, v.auditAD(seq))
	if err != nil || json.Unmarshal(js, &e) != nil {
		return 0, nil, e, &AuditError{seq, "it does not authenticate"}
	}
	return seq, mac, e, nil
}

// checkAnchor compares the log with the vault's anchor: the log must still
// hold the anchor's entry, and must not have seen more changes than the
// vault holds. It reads two rows; the full chain is [Vault.Audit]'s work.
func (v *Vault) checkAnchor(q querier, a *anchor) error {
	if a.seq > 0 {
		var mac []byte
		err := q.QueryRow(`SELECT mac FROM audit.audit WHERE seq = ?`, a.seq).Scan(&mac)
		if errors.Is(err, sql.ErrNoRows) {
			var n int
			q.QueryRow(`SELECT count(*) FROM audit.audit`).Scan(&n)
			return &AuditError{min(n+1, a.seq), fmt.Sprintf("the log holds %d entries, but the vault's anchor says it reached entry %d when the vault last changed: it was cut, emptied or replaced by an older copy", n, a.seq)}
		}
		if err != nil {
			return dbErr("read the audit log", err)
		}
		if !bytes.Equal(mac, a.mac) {
			return &AuditError{a.seq, "it is not the entry the vault's anchor names: the log was replaced"}
		}
	}
	seq, _, last, err := v.logHead(q)
	if err != nil {
		return err
	}
	if last.Changes > a.changes {
		return &AuditError{seq, fmt.Sprintf("the vault went back in time: the log has seen %d changes, the vault holds %d (its -wal file was lost or damaged, or an older copy of the vault was put back); restore the vault from a backup", last.Changes, a.changes)}
	}
	return nil
}

// commit runs fn (if any) in one immediate transaction over the vault and
// its audit log. change says fn changes the vault: its counter and anchor
// move. entry, or else the pending entry of [Vault.Intend], is appended to
// the log in the same transaction, so that the change and its entry are
// written together or not at all. A log that no longer matches the anchor
// refuses both.
func (v *Vault) commit(fn func(*sql.Tx) error, change bool, entry *AuditEntry) error {
	pending := entry == nil && v.intent != nil && !v.intent.done && v.keys != nil
	if pending {
		e := v.intent.entry(nil)
		entry = &e
	}
	// The log must be attached before BEGIN (ATTACH cannot run inside a
	// transaction) whenever it is read or written.
	logged := v.keys != nil && (entry != nil || change)
	if logged {
		if err := v.attachAudit(); err != nil {
			return err
		}
	}
	tx, err := v.db.Begin()
	if err != nil {
		return dbErr("write vault", err)
	}
	fail := func(err error) error {
		tx.Rollback()
		v.anch = nil
		return err
	}
	v.anch = nil
	if logged {
		// A rotation by another hush since this one read the header: its
		// key is stale, and the log may be the re-sealed one.
		var epoch int
		if err := tx.QueryRow(`SELECT epoch FROM header WHERE id = 1`).Scan(&epoch); err != nil {
			return fail(dbErr("read vault header", err))
		}
		if epoch != v.hdr.epoch {
			return fail(ErrRotated)
		}
		if v.anch, err = v.readAnchor(tx); err != nil {
			return fail(err)
		}
		if v.anch != nil {
			if err := v.checkAnchor(tx, v.anch); err != nil {
				return fail(err)
			}
		}
	}
	if fn != nil {
		if err := fn(tx); err != nil {
			return fail(err)
		}
	}
	if change && v.anch != nil {
		v.anch.changes++
	}
	if entry != nil {
		if err := v.appendEntry(tx, *entry); err != nil {
			return fail(err)
		}
	}
	if change && v.anch != nil {
		seq, mac, _, err := v.logHead(tx)
		if err != nil {
			return fail(err)
		}
		v.anch.seq, v.anch.mac = seq, mac
		if err := v.writeAnchor(tx, *v.anch); err != nil {
			return fail(err)
		}
	}
	v.anch = nil
	if err := tx.Commit(); err != nil {
		return dbErr("write vault", err)
	}
	if pending {
		v.intent.done = true
	}
	return nil
}

// checkCurrent compares the vault's anchor with its log for a command
// that only reads the vault and writes no log entry (ls, due, history):
// a vault that went back in time, or a log cut or replaced, is reported
// as it is by a get, instead of answering from the older state. It runs
// under the write lock (as a logged read does), so that a change
// committing meanwhile cannot be seen half-way; it writes nothing.
func (v *Vault) checkCurrent() error {
	if v.keys == nil || !v.anchored() {
		return nil
	}
	if err := v.attachAudit(); err != nil {
		return err
	}
	tx, err := v.db.Begin()
	if err != nil {
		return dbErr("read vault", err)
	}
	defer tx.Rollback()
	var epoch int
	if err := tx.QueryRow(`SELECT epoch FROM header WHERE id = 1`).Scan(&epoch); err != nil {
		return dbErr("read vault header", err)
	}
	if epoch != v.hdr.epoch {
		return ErrRotated
	}
	a, err := v.readAnchor(tx)
	if err != nil || a == nil {
		return err
	}
	return v.checkAnchor(tx, a)
}

// startAnchor anchors the log as it is: at create and at the upgrade of a
// format 1 vault.
func (v *Vault) startAnchor(q querier) error {
	seq, mac, last, err := v.logHead(q)
	if err != nil {
		return err
	}
	return v.writeAnchor(q, anchor{seq: seq, mac: mac, changes: last.Changes})
}

// upgrade turns a format 1 vault into the current format, once, while
// the key-encryption key is at hand: the format is part of the header the
// wrapped key authenticates, so it cannot be set back without the
// passphrase, and with it the anchor becomes mandatory. A failure leaves
// the vault as it was (format 1 keeps working).
func (v *Vault) upgrade(kek *crypto.Key) error {
	if v.hdr.format >= Format {
		return nil
	}
	if err := v.attachAudit(); err != nil {
		return err
	}
	h := v.hdr
	h.format = Format
	hb := h.bytes()
	wrapped, err := crypto.Seal(kek, v.keys.vault[:], hb)
	if err != nil {
		return err
	}
	h.wrappedKey, h.headerMAC = wrapped, v.keys.hmac.MAC(hb)
	tx, err := v.db.Begin()
	if err != nil {
		return dbErr("write vault", err)
	}
	defer tx.Rollback()
	if a, err := v.readAnchor(tx); err != nil {
		return err
	} else if a == nil {
		if err := v.startAnchor(tx); err != nil {
			return err
		}
	}
	if err := v.sealAllRows(tx); err != nil {
		return err
	}
	if err := v.sealPolicySet(tx); err != nil {
		return err
	}
	if _, err := tx.Exec(`UPDATE header SET format = ?, wrapped_key = ?, header_mac = ? WHERE id = 1`, h.format, h.wrappedKey, h.headerMAC); err != nil {
		return dbErr("write vault header", err)
	}
	if err := tx.Commit(); err != nil {
		return dbErr("write vault header", err)
	}
	v.hdr = h
	return nil
}
