package vault

import (
	"bytes"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// AuditEntry is one access or change: who, what, when, and how it went.
// It never holds a value.
type AuditEntry struct {
	Seq    int       `json:"seq"`
	Time   time.Time `json:"time"`
	Device string    `json:"device"`
	Action string    `json:"action"` // get, run, export, set, rotate, revoke, rm, reveal, copy, ...
	Names  []string  `json:"names,omitempty"`
	// Detail says more about an action where it helps (a lease's expiry);
	// never a value.
	Detail string `json:"detail,omitempty"`
	Result string `json:"result"` // "ok" or the error's message
}

// AuditError says where the audit chain breaks.
type AuditError struct {
	Seq    int
	Reason string
}

func (e *AuditError) Error() string {
	return fmt.Sprintf("audit log broken at entry %d: %s", e.Seq, e.Reason)
}

func (e *AuditError) Unwrap() error { return ErrTampered }

func (v *Vault) auditKeys() (seal, chain *crypto.Key) {
	return v.keys.audit, v.keys.chain
}

func (v *Vault) auditAD(seq int) []byte {
	return crypto.AD("hush/v1/audit", v.hdr.vaultID, seq)
}

func chainMAC(k *crypto.Key, prev []byte, seq int, entry []byte) []byte {
	return k.MAC(crypto.AD("hush/v1/audit-chain", prev, seq, entry))
}

func headMAC(k *crypto.Key, seq int, mac []byte) []byte {
	return k.MAC(crypto.AD("hush/v1/audit-head", seq, mac))
}

// AuditPath is the file that holds a vault's audit log, beside the vault.
//
// The log is a separate SQLite file, attached to the vault's connection
// when first used, with its rollback journal in memory and no fsync: a
// failed append rolls back whole, and a read-only
// command (get, run) then never writes the vault file itself, so it never
// pays SQLite's checkpoint and fsyncs at close. The price: a power cut in
// the middle of an append can damage the log's last page, which
// `hush audit --verify` then reports. The vault's secrets are never at risk
// from it.
func AuditPath(vaultPath string) string {
	return strings.TrimSuffix(vaultPath, ".db") + ".audit.db"
}

const auditSchema = `
CREATE TABLE IF NOT EXISTS audit.audit (
    seq   INTEGER PRIMARY KEY,  -- 1, 2, 3, ... without gaps
    entry BLOB    NOT NULL,     -- Seal(audit key, JSON entry, AD(vault, "audit", seq))
    mac   BLOB    NOT NULL      -- HMAC(chain key, previous mac ‖ seq ‖ entry)
);
CREATE TABLE IF NOT EXISTS audit.audit_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    mac BLOB    NOT NULL        -- HMAC(chain key, "head" ‖ last seq ‖ last mac)
);`

// attachAudit attaches the audit file (creating it, 0600) once per open.
func (v *Vault) attachAudit() error {
	if v.auditAttached {
		return nil
	}
	path := AuditPath(v.path)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		var anchored int
		if err := v.db.QueryRow(`SELECT count(*) FROM audit_anchor`).Scan(&anchored); err != nil {
			return err
		}
		if anchored > 0 {
			return &AuditError{1, fmt.Sprintf("the audit log %s is missing: it was deleted or not copied with the vault (`hush audit --restart` starts a new one)", path)}
		}
		if _, err := v.db.Exec(`INSERT INTO audit_anchor (id, created) VALUES (1, ?)`, time.Now().Unix()); err != nil {
			return fmt.Errorf("failed to start the audit log: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	f.Close()
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return &PermissionError{Path: path, Mode: st.Mode()}
	}
	u := &url.URL{Path: path}
	if _, err := v.db.Exec(`ATTACH DATABASE ? AS audit`, "file:"+u.EscapedPath()+"?mode=rw"); err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	if _, err := v.db.Exec(`PRAGMA audit.journal_mode = MEMORY; PRAGMA audit.synchronous = OFF; PRAGMA audit.secure_delete = ON;` + auditSchema); err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	v.auditAttached = true
	return nil
}

// device names this machine in audit entries.
func device() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// Record appends an entry to the audit log: action on names, and err's
// message as the result (or "ok"). See [AuditPath] for where and how.
func (v *Vault) Record(action string, names []string, result error) error {
	return v.RecordDetail(action, names, "", result)
}

// RecordDetail is [Vault.Record] with a detail (never a value).
func (v *Vault) RecordDetail(action string, names []string, detail string, result error) error {
	if v.keys == nil {
		return ErrLocked
	}
	e := AuditEntry{Time: time.Now().UTC(), Device: device(), Action: action, Names: names, Detail: detail, Result: "ok"}
	if result != nil {
		e.Result = result.Error()
	}
	if err := v.attachAudit(); err != nil {
		return err
	}
	sealKey, chainKey := v.auditKeys()
	return v.write(func(tx *sql.Tx) error {
		var seq int
		var prev []byte
		err := tx.QueryRow(`SELECT seq, mac FROM audit.audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			seq, prev = 0, nil
		} else if err != nil {
			return err
		}
		seq++
		e.Seq = seq
		js, err := json.Marshal(e)
		if err != nil {
			return err
		}
		ct, err := crypto.Seal(sealKey, js, v.auditAD(seq))
		if err != nil {
			return err
		}
		mac := chainMAC(chainKey, prev, seq, ct)
		if _, err := tx.Exec(`INSERT INTO audit.audit (seq, entry, mac) VALUES (?, ?, ?)`, seq, ct, mac); err != nil {
			return fmt.Errorf("failed to write the audit log: %w", err)
		}
		_, err = tx.Exec(`INSERT INTO audit.audit_head (id, seq, mac) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac`,
			seq, headMAC(chainKey, seq, mac))
		return err
	})
}

// Audit returns the log's entries, oldest first, after checking the whole
// chain: an entry edited, removed, reordered or cut off the end gives an
// [*AuditError] naming the first broken entry.
func (v *Vault) Audit() ([]AuditEntry, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	if err := v.attachAudit(); err != nil {
		return nil, err
	}
	sealKey, chainKey := v.auditKeys()
	rows, err := v.db.Query(`SELECT seq, entry, mac FROM audit.audit ORDER BY seq`)
	if err != nil {
		return nil, fmt.Errorf("failed to read the audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	var prev []byte
	want := 1
	for rows.Next() {
		var seq int
		var ct, mac []byte
		if err := rows.Scan(&seq, &ct, &mac); err != nil {
			return nil, err
		}
		if seq != want {
			return nil, &AuditError{want, fmt.Sprintf("entry %d is missing", want)}
		}
		if !hmac.Equal(mac, chainMAC(chainKey, prev, seq, ct)) {
			return nil, &AuditError{seq, "it was changed, or an entry before it was"}
		}
		js, err := crypto.Open(sealKey, ct, v.auditAD(seq))
		if err != nil {
			return nil, &AuditError{seq, "it does not authenticate"}
		}
		var e AuditEntry
		if err := json.Unmarshal(js, &e); err != nil || e.Seq != seq {
			return nil, &AuditError{seq, "it is not readable"}
		}
		out = append(out, e)
		prev, want = mac, want+1
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var headSeq int
	var head []byte
	err = v.db.QueryRow(`SELECT seq, mac FROM audit.audit_head WHERE id = 1`).Scan(&headSeq, &head)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if len(out) > 0 {
			return nil, &AuditError{len(out), "the log's head is missing"}
		}
	case err != nil:
		return nil, err
	case headSeq > len(out):
		return nil, &AuditError{len(out) + 1, fmt.Sprintf("the log ends at %d but its head says %d: entries were cut off", len(out), headSeq)}
	case headSeq < len(out):
		return nil, &AuditError{headSeq + 1, fmt.Sprintf("the log's head says it ends at %d: the head was changed", headSeq)}
	case !bytes.Equal(head, headMAC(chainKey, headSeq, prev)):
		return nil, &AuditError{headSeq, "the log's head does not match its last entry"}
	}
	return out, nil
}

// RestartAudit starts a new, empty audit log when the old one is missing
// (deleted, or not copied along with the vault). Its first entry says so.
func (v *Vault) RestartAudit() error {
	if v.keys == nil {
		return ErrLocked
	}
	path := AuditPath(v.path)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("the audit log %s exists: only a missing log is restarted", path)
	}
	if _, err := v.db.Exec(`DELETE FROM audit_anchor`); err != nil {
		return err
	}
	return v.Record("audit-restart", nil, errors.New("the previous audit log was missing"))
}

// FilterAudit keeps the entries at or after since (zero: all) that name a
// secret starting with prefix ("": all; a trailing "..." is ignored).
func FilterAudit(entries []AuditEntry, since time.Time, prefix string) []AuditEntry {
	trimmed := strings.TrimSuffix(prefix, "...")
	var out []AuditEntry
	for _, e := range entries {
		if !since.IsZero() && e.Time.Before(since) {
			continue
		}
		if prefix != "" && !slices.ContainsFunc(e.Names, func(n string) bool { return strings.HasPrefix(n, trimmed) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}
