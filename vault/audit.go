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
	// Changes is the vault's change counter when the entry was written
	// (after the change, for a change): a log that has seen more changes
	// than the vault holds shows a vault that went back in time.
	Changes int64 `json:"changes,omitempty"`
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
// from it. A change commits the vault's file first, then the log's: the
// anchor keeps the change's entry, which a log left one short by a crash
// in between gets back (restoreEntry).
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
	if v.memory {
		return v.attachMemoryAudit()
	}
	if v.keys != nil {
		if err := v.finishRekey(); err != nil {
			return err
		}
	}
	path := AuditPath(v.path)
	_, serr := os.Stat(path)
	if errors.Is(serr, os.ErrNotExist) {
		var anchored int
		if err := v.db.QueryRow(`SELECT (SELECT count(*) FROM audit_anchor) + (SELECT count(*) FROM anchor)`).Scan(&anchored); err != nil {
			return dbErr("read vault", err)
		}
		if anchored > 0 {
			return &AuditError{1, fmt.Sprintf("the audit log %s is missing: it was deleted or not copied with the vault (`hush audit --restart` starts a new one)", path)}
		}
		if _, err := v.db.Exec(`INSERT INTO audit_anchor (id, created) VALUES (1, ?)`, time.Now().Unix()); err != nil {
			return fmt.Errorf("failed to start the audit log: %w", err)
		}
	}
	if serr == nil {
		// The log is there: checked as the open below would check it (not
		// a link, the user's own, no permission for others), with one
		// lstat instead of an open (the first os.OpenFile of a process
		// also sets up Go's poller: seven more system calls per get).
		if err := private.File(path); err != nil {
			return fmt.Errorf("failed to open the audit log: %w", err)
		}
	} else {
		f, err := private.Open(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return fmt.Errorf("failed to open the audit log: %w", err)
		}
		f.Close()
	}
	u := &url.URL{Path: path}
	if _, err := v.db.Exec(`ATTACH DATABASE ? AS audit`, "file:"+u.EscapedPath()+"?mode=rw"); err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	if _, err := v.db.Exec(`PRAGMA audit.journal_mode = MEMORY; PRAGMA audit.synchronous = OFF; PRAGMA audit.secure_delete = ON`); err != nil {
		v.db.Exec(`DETACH DATABASE audit`)
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	// A trigger planted in the log could swallow its entries (schemacheck.go).
	// A log that holds exactly the current schema passes the check as it
	// is; any other (a new log, one from before audit_head) gets what is
	// missing created first, and is then checked.
	objs, err := readSchema(v.db, "audit")
	if err != nil {
		v.db.Exec(`DETACH DATABASE audit`)
		return dbErr("read the schema of audit log", err)
	}
	if schemaDigest(objs) != currentAuditSchemaDigest {
		if _, err := v.db.Exec(auditSchema); err != nil {
			v.db.Exec(`DETACH DATABASE audit`)
			return fmt.Errorf("failed to open the audit log: %w", err)
		}
		if err := checkSchema(v.db, "audit", 0, "audit log"); err != nil {
			v.db.Exec(`DETACH DATABASE audit`)
			return err
		}
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

// intent is the audit entry of the command under way (see [Vault.Intend]).
type intent struct {
	action string
	names  []string
	read   bool // a read: written before the first value is served
	done   bool // written with a change or a read
	// deferred: a Span holds it, to write it with the span's last change
	// rather than its first; failed: the span wrote it with an error.
	deferred, failed bool
}

func (i *intent) entry(result error) AuditEntry {
	e := AuditEntry{Time: time.Now().UTC(), Device: device(), Action: i.action, Names: i.names, Result: "ok"}
	if result != nil {
		e.Result = result.Error()
	}
	return e
}

// Intend names the change under way for the audit log, before it
// changes anything. Its entry ("ok") is then written in the same
// transaction as the first change; if the entry cannot be written, the
// change fails. So no change escapes the log. [Vault.Record] afterwards
// with the same action and a nil result adds nothing; with an error it
// adds an entry saying so.
func (v *Vault) Intend(action string, names []string) {
	v.intent = &intent{action: action, names: slices.Clone(names)}
}

// IntendRead is [Vault.Intend] for a command that hands values out (get,
// export): its entry is written before the first value leaves
// ([Vault.Get], [Vault.GetVersion], [Vault.Children]), and if it cannot be
// written, no value is returned.
func (v *Vault) IntendRead(action string, names []string) {
	v.intent = &intent{action: action, names: slices.Clone(names), read: true}
}

// Span runs a change made of several transactions with network round
// trips between them (a team sync: pages applied as they are verified,
// what a push sent kept at once, the team state saved): one SQLite
// transaction cannot hold it. Each of its transactions is a change, and
// none carries an entry; end, called once when it is over, writes its
// entry (action, and result's message or "ok") as a change of its own,
// anchored like every change's, when any of its transactions changed the
// vault: the log's last entry has then seen every change the span made,
// so a copy of the vault from between two of them, put back under the
// log, "went back in time" (attack24 F4: the entry rode the first
// transaction, and the ones after it could be rolled back unseen). A
// command's pending entry of the same action (Intend, IntendRead) is the
// one written, with the span's result: [Vault.Record] of the command
// then adds nothing. A span that changed nothing writes nothing: the
// command's entry goes in as it would have. A vault in memory has no
// file to put back: its spans write nothing of their own. A span opened
// inside another is part of it: the outer one's entry covers its changes.
func (v *Vault) Span(action string) (end func(result error) error) {
	if v.memory || v.spans > 0 {
		return func(error) error { return nil }
	}
	v.spans++
	start := v.changed
	held := v.intent
	if held != nil && (held.done || held.action != action) {
		held = nil
	}
	if held != nil {
		held.deferred = true
	}
	return func(result error) error {
		v.spans--
		if held != nil {
			held.deferred = false
		}
		if v.changed == start {
			return nil
		}
		if v.keys == nil {
			return ErrLocked
		}
		var e AuditEntry
		adopt := held != nil && v.intent == held && !held.done
		if adopt {
			e = held.entry(result)
		} else {
			e = AuditEntry{Time: time.Now().UTC(), Device: device(), Action: action, Result: "ok"}
			if result != nil {
				e.Result = result.Error()
			}
		}
		if err := v.attachAudit(); err != nil {
			return err
		}
		if err := v.commit(nil, true, &e); err != nil {
			return err
		}
		if adopt {
			held.done, held.failed = true, result != nil
		}
		return nil
	}
}

// served writes the pending audit entry of a read before a value is
// handed out.
func (v *Vault) served() error {
	if v.intent == nil || v.intent.done || !v.intent.read {
		return nil
	}
	return v.commit(nil, false, nil)
}

// Record appends an entry to the audit log: action on names, and err's
// message as the result (or "ok"). See [AuditPath] for where and how, and
// [Vault.Intend] for entries that cannot be lost.
func (v *Vault) Record(action string, names []string, result error) error {
	return v.RecordDetail(action, names, "", result)
}

// RecordDetail is [Vault.Record] with a detail (never a value).
func (v *Vault) RecordDetail(action string, names []string, detail string, result error) error {
	if v.keys == nil {
		return ErrLocked
	}
	if i := v.intent; i != nil && i.action == action && detail == "" {
		v.intent = nil
		if i.done && (result == nil || i.failed) {
			return nil // written with the change or the read (a span's: with its error)
		}
	}
	e := AuditEntry{Time: time.Now().UTC(), Device: device(), Action: action, Names: names, Detail: detail, Result: "ok"}
	if result != nil {
		e.Result = result.Error()
	}
	if err := v.attachAudit(); err != nil {
		return err
	}
	return v.commit(nil, false, &e)
}

// appendEntry adds e at the end of the log, in tx, and returns its
// number, its chain MAC and the entry as sealed. head, when not nil, is the log's last entry as read in tx
// (under its write lock, so still the last); else it is read here.
func (v *Vault) appendEntry(tx *sql.Tx, e AuditEntry, head *logPos) (seq int, mac, ct []byte, err error) {
	if e.Changes == 0 && v.anch != nil {
		e.Changes = v.anch.changes
	}
	sealKey, chainKey := v.auditKeys()
	var prev []byte
	if head != nil {
		seq, prev = head.seq, head.mac
	} else {
		err := tx.QueryRow(`SELECT seq, mac FROM audit.audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
		if errors.Is(err, sql.ErrNoRows) {
			seq, prev = 0, nil
		} else if err != nil {
			return 0, nil, nil, dbErr("read the audit log", err)
		}
	}
	seq++
	e.Seq = seq
	js, err := marshalEntry(e)
	if err != nil {
		return 0, nil, nil, err
	}
	ct, err = crypto.Seal(sealKey, js, v.auditAD(seq))
	if err != nil {
		return 0, nil, nil, err
	}
	mac = chainMAC(chainKey, prev, seq, ct)
	if _, err := tx.Exec(`INSERT INTO audit.audit (seq, entry, mac) VALUES (?, ?, ?)`, seq, ct, mac); err != nil {
		return 0, nil, nil, dbErr("write the audit log", err)
	}
	if err := v.writeLogHead(tx, seq, mac); err != nil {
		return 0, nil, nil, err
	}
	return seq, mac, ct, nil
}

// writeLogHead records entry seq, of chain MAC mac, as the log's last.
func (v *Vault) writeLogHead(q querier, seq int, mac []byte) error {
	_, chainKey := v.auditKeys()
	_, err := q.Exec(`INSERT INTO audit.audit_head (id, seq, mac) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac`,
		seq, headMAC(chainKey, seq, mac))
	if err != nil {
		return dbErr("write the audit log", err)
	}
	return nil
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
	// The chain is whole; does it still reach what the vault anchored, and
	// is the vault as new as the log?
	a, err := v.readAnchor(v.db)
	if err != nil || a == nil {
		return out, err
	}
	for _, e := range out {
		if e.Changes > a.changes {
			return nil, &AuditError{e.Seq, fmt.Sprintf("the vault went back in time: this entry was written after change %d, but the vault holds %d changes (its -wal file was lost or damaged, or an older copy of the vault was put back); restore the vault from a backup", e.Changes, a.changes)}
		}
	}
	err = v.checkAnchor(v.db, a)
	if v.restoring > 0 && err == nil {
		v.putBack, v.restoring = v.restoring, 0 // written outside a transaction: for good
	}
	v.restoring = 0
	if err != nil {
		return nil, err
	}
	if a.seq == len(out)+1 {
		// The check put the anchor's own entry back (a crash between
		// the vault's commit and the log's): read the log again with it.
		return v.Audit()
	}
	// And does the vault hold the secrets the anchor recorded (format 5)?
	if err := v.checkCurrentScan(true); err != nil {
		return nil, err
	}
	// Every secret's versions run from 1 to its head (checkGapless, for
	// all of them at once).
	var gap []byte
	var gapHead int
	err = v.db.QueryRow(`SELECT s.id, s.head FROM secrets s
		WHERE (SELECT count(*) FROM versions v WHERE v.secret_id = s.id AND v.version BETWEEN 1 AND s.head) != s.head LIMIT 1`).Scan(&gap, &gapHead)
	if err == nil {
		r, name, rerr := v.rowByID(v.db, gap)
		if rerr != nil {
			return nil, &TamperError{fmt.Sprintf("a version of secret %x is missing (deleted outside hush; restore the vault from a backup)", gap)}
		}
		if err := v.checkGapless(v.db, name, r); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, dbErr("read vault", err)
	}
	return out, nil
}

// RestartAudit starts a new, empty audit log when the old one is missing
// (deleted, or not copied along with the vault) or no longer matches the
// vault (cut, replaced, or the vault went back in time). A broken log is
// kept beside the new one, renamed NAME.audit.db.broken-UNIXTIME. The new
// log's first entry says why it was started; the vault's change counter
// carries on.
//
// The new anchor takes the secrets as they are, so first they are
// compared with the anchor the vault has, which does not depend on the
// log: a secret's row put back from an older copy, or deleted, does not
// match its digest, an older vault does not hold its last change. Such a
// vault, or one whose anchor is gone, is restarted only when takeAsIs
// says so, and the first entry says what was taken unchecked (outside
// attack attack25 #3: a restart made a rolled-back secret the vault's
// for good, and `ls` and `audit --verify` passed from then on).
func (v *Vault) RestartAudit(takeAsIs bool) error {
	if v.keys == nil {
		return ErrLocked
	}
	if v.memory {
		return errors.New("a memory vault's audit log is never broken")
	}
	unchecked, err := v.secretsUnchecked()
	if err != nil {
		return err
	}
	if unchecked != "" && !takeAsIs {
		return fmt.Errorf("%w: %s; a new log would take them as they are: restore the vault from a backup, or take them as they are with `hush audit --restart --take-as-is`", ErrUnverified, unchecked)
	}
	path := AuditPath(v.path)
	reason := "the previous audit log was missing"
	if _, err := os.Stat(path); err == nil {
		_, verr := v.Audit()
		if verr == nil {
			return fmt.Errorf("the audit log %s is intact: only a missing or broken log is restarted", path)
		}
		if !errors.Is(verr, ErrTampered) {
			return verr
		}
		reason = "the previous audit log was broken: " + verr.Error()
		if v.auditAttached {
			if _, err := v.db.Exec(`DETACH DATABASE audit`); err != nil {
				return dbErr("close the audit log", err)
			}
			v.auditAttached = false
		}
		if err := os.Rename(path, fmt.Sprintf("%s.broken-%d", path, time.Now().Unix())); err != nil {
			return fmt.Errorf("failed to move the broken audit log aside: %w", err)
		}
	}
	var changes int64
	if a, err := v.readAnchor(v.db); err != nil && !errors.Is(err, ErrTampered) {
		return err
	} else if a != nil {
		changes = a.changes
	}
	if _, err := v.db.Exec(`DELETE FROM audit_anchor; DELETE FROM anchor`); err != nil {
		return dbErr("write vault", err)
	}
	if err := v.attachAudit(); err != nil {
		return err
	}
	if v.anchored() {
		// The new anchor takes the vault as it is (what the person asked
		// for): its rows, policies, and a counter no row is newer than.
		var newest int64
		if err := v.db.QueryRow(`SELECT coalesce(max(changed), 0) FROM secrets`).Scan(&newest); err != nil {
			return dbErr("read vault", err)
		}
		if err := v.rebuildAnchor(v.db, anchor{changes: max(changes, newest)}); err != nil {
			return err
		}
	}
	// The restart's entry is a change of its own: the anchor names it and
	// keeps it, so that deleting it (and with it the trace of the lost
	// history) is refused like any other cut (attack24 F3).
	if unchecked != "" {
		reason += "; the secrets were taken as they are, unchecked: " + unchecked
	}
	e := AuditEntry{Time: time.Now().UTC(), Device: device(), Action: "audit-restart", Result: reason}
	return v.commit(nil, true, &e)
}

// secretsUnchecked says why the vault's secrets cannot be vouched for by
// its anchor ("" when they match it): the checks of the anchor that do not
// read the log (its digest of every row, the last change it names, its
// header, the policies).
func (v *Vault) secretsUnchecked() (string, error) {
	if !v.anchored() {
		return "", nil
	}
	a, err := v.readAnchor(v.db)
	if errors.Is(err, ErrTampered) {
		return "the vault's anchor is missing or damaged, so nothing says whether its secrets were changed outside hush", nil
	}
	if err != nil {
		return "", err
	}
	err = v.checkContents(v.db, a)
	if err == nil {
		err = v.checkDigest(v.db, a)
	}
	if err == nil && v.hdr.format >= 5 {
		err = v.checkPolicySet(v.db)
	}
	if te := (*TamperError)(nil); errors.As(err, &te) {
		return te.What, nil
	}
	return "", err
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

// CheckFile is what `audit --verify` adds to reading the log: every live
// secret and folder count checked as `ls` checks them, every secret's
// sync bookkeeping authenticated (markmac.go), and SQLite's own
// integrity check of both files, which compares each index with its
// table (an index rebuilt outside hush would otherwise hand back rows it
// should not, and hide others).
func (v *Vault) CheckFile() error {
	if _, err := v.List(""); err != nil {
		return err
	}
	// Each secret's sync bookkeeping: a device in a team.
	if err := v.checkAllMarks(v.db); err != nil {
		return err
	}
	for _, schema := range []string{"main", "audit"} {
		var res string
		if err := v.db.QueryRow(`PRAGMA ` + schema + `.integrity_check(1)`).Scan(&res); err != nil {
			return dbErr("check the vault file", err)
		}
		if res != "ok" {
			file := "vault file"
			if schema == "audit" {
				file = "audit log"
			}
			return &TamperError{fmt.Sprintf("SQLite's integrity check of the %s says %q: restore it from a backup", file, res)}
		}
	}
	return nil
}
