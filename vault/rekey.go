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
	"path/filepath"

	"github.com/hush-secrets/hush/crypto"
)

// rekeyStep, when set (by tests), is called at each step of RotateKey, so
// that a test can kill the process there.
var rekeyStep func(step string)

func step(name string) {
	if rekeyStep != nil {
		rekeyStep(name)
	}
}

// rekeyPath is where RotateKey writes the re-sealed audit log before the
// vault's transaction commits; it replaces the log after (see finishRekey).
func rekeyPath(vaultPath string) string { return AuditPath(vaultPath) + ".rekey" }

// RotateKey replaces the vault key with a new random one, in a new key
// epoch, wrapped under newPassphrase (with new salt and the given KDF
// parameters; zero keeps the current ones). Every version of every secret,
// the lookups, policies, leases, sync settings, the anchor and the audit
// log are re-sealed under the new key; keys remembered for the old one no
// longer open the vault. So an old copy of the file and a leaked old
// passphrase open nothing written afterwards, and putting the old header
// back does not open the new data.
//
// It is crash-safe: the vault changes in one SQLite transaction, so a
// process killed at any point leaves the old vault (old passphrase) or the
// new one (new passphrase). The audit log is re-sealed into a file beside
// it first and renamed over the old log after the commit; whichever open
// comes next finishes or discards that step (finishRekey).
func (v *Vault) RotateKey(newPassphrase []byte, params crypto.KDFParams) error {
	if v.keys == nil {
		return ErrLocked
	}
	if len(newPassphrase) == 0 {
		return errors.New("the new passphrase is empty")
	}
	if params == (crypto.KDFParams{}) {
		params = v.hdr.params
	}
	if err := params.Validate(); err != nil {
		return err
	}
	entries, err := v.Audit()
	if err != nil {
		return fmt.Errorf("the audit log must be intact to re-seal it: %w", err)
	}
	nk, nh, err := v.newHeader(newPassphrase, params)
	if err != nil {
		return err
	}
	old, oldHdr := v.keys, v.hdr
	restore := func() { v.keys, v.hdr = old, oldHdr; nk.wipe() }

	tx, err := v.db.Begin()
	if err != nil {
		restore()
		return dbErr("write vault", err)
	}
	fail := func(err error) error {
		tx.Rollback()
		os.Remove(rekeyPath(v.path))
		restore()
		return err
	}
	anc, err := v.readAnchor(tx)
	if err != nil {
		return fail(err)
	}
	if err := v.checkPolicySet(tx); err != nil {
		return fail(err)
	}
	if err := v.checkAllMarks(tx); err != nil { // under the old key
		return fail(err)
	}
	macs, err := v.writeRekeyedLog(tx, nk, len(entries))
	if err != nil {
		return fail(err)
	}
	step("log-written")
	if err := v.resealAll(tx, old, nk, oldHdr.epoch, nh.epoch); err != nil {
		return fail(err)
	}
	step("resealed")
	_, err = tx.Exec(`UPDATE header SET epoch = ?, kdf_memory = ?, kdf_passes = ?, kdf_lanes = ?, salt = ?, check_mac = ?, wrapped_key = ?, header_mac = ? WHERE id = 1`,
		nh.epoch, nh.params.MemoryKiB, nh.params.Passes, nh.params.Lanes, nh.salt, nh.checkMAC, nh.wrappedKey, nh.headerMAC)
	if err != nil {
		return fail(dbErr("write vault header", err))
	}
	v.keys, v.hdr = nk, nh
	if anc != nil {
		v.changeNo = anc.changes + 1
	}
	defer func() { v.changeNo = 0 }()
	if err := v.sealAllRows(tx); err != nil {
		return fail(err)
	}
	if err := v.sealAllMarks(tx); err != nil {
		return fail(err)
	}
	if err := v.sealPolicySet(tx); err != nil {
		return fail(err)
	}
	if anc != nil {
		a := anchor{seq: anc.seq, changes: anc.changes + 1}
		if a.seq > 0 {
			a.mac = macs[a.seq-1]
		}
		if err := v.rebuildAnchor(tx, a); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(dbErr("write vault", err))
	}
	old.wipe()
	// The listing cache sealed under the old key: it would no longer
	// open, and a leaked old key should not read it.
	v.dropListCache()
	step("committed")
	if err := v.finishRekey(); err != nil {
		return err
	}
	// The rotation's own entry (the command's intent) is a change of its
	// own under the new key: the anchor names and keeps it, so that a log
	// without it is refused or gets it back like any change's
	// (outside attack attack24 F1: it was written after the anchor, and
	// deleting it went unseen).
	if i := v.intent; i != nil && !i.done && !i.read {
		return v.commit(nil, true, nil)
	}
	return nil
}

// newHeader makes a new vault key and the header of the next epoch,
// wrapped under the passphrase.
func (v *Vault) newHeader(passphrase []byte, params crypto.KDFParams) (*keyring, header, error) {
	vk, err := crypto.NewKey()
	if err != nil {
		return nil, header{}, err
	}
	nk := newKeyring(vk, v.hdr.vaultID)
	h := v.hdr
	h.epoch++
	if h.salt, err = crypto.Random(crypto.SaltSize); err != nil {
		return nil, h, err
	}
	h.params = params
	kek, err := crypto.DeriveKey(passphrase, h.salt, params)
	if err != nil {
		nk.wipe()
		return nil, h, err
	}
	defer kek.Wipe()
	h.checkMAC = kek.MAC([]byte("hush/v1/passphrase-check"))
	hb := h.bytes()
	if h.wrappedKey, err = crypto.Seal(kek, nk.vault[:], hb); err != nil {
		nk.wipe()
		return nil, h, err
	}
	h.headerMAC = nk.hmac.MAC(hb)
	return nk, h, nil
}

// writeRekeyedLog writes the log, re-sealed and re-chained under nk, to
// its own file (durable when this returns), while tx holds the vault's
// write lock so that no other hush appends meanwhile. It returns the new
// chain MACs, entry 1 first.
func (v *Vault) writeRekeyedLog(tx *sql.Tx, nk *keyring, want int) ([][]byte, error) {
	rows, err := tx.Query(`SELECT seq, entry FROM audit.audit ORDER BY seq`)
	if err != nil {
		return nil, dbErr("read the audit log", err)
	}
	type ent struct {
		seq int
		js  []byte
	}
	var es []ent
	for rows.Next() {
		var e ent
		var ct []byte
		if err := rows.Scan(&e.seq, &ct); err != nil {
			rows.Close()
			return nil, dbErr("read the audit log", err)
		}
		if e.js, err = crypto.Open(v.keys.audit, ct, v.auditAD(e.seq)); err != nil || e.seq != len(es)+1 {
			rows.Close()
			return nil, &AuditError{e.seq, "it does not authenticate"}
		}
		es = append(es, e)
	}
	rows.Close()
	if len(es) != want {
		return nil, fmt.Errorf("the audit log changed while the key was being rotated: %w", ErrBusy)
	}
	path := rekeyPath(v.path)
	os.Remove(path)
	f, err := private.Open(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("failed to write the re-sealed audit log: %w", err)
	}
	f.Close()
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_synchronous=FULL")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ltx, err := db.Begin()
	if err != nil {
		return nil, dbErr("write the re-sealed audit log", err)
	}
	defer ltx.Rollback()
	if _, err := ltx.Exec(bytesReplaceSchema()); err != nil {
		return nil, dbErr("write the re-sealed audit log", err)
	}
	var macs [][]byte
	var prev []byte
	for _, e := range es {
		ct, err := crypto.Seal(nk.audit, e.js, v.auditAD(e.seq))
		crypto.Wipe(e.js)
		if err != nil {
			return nil, err
		}
		mac := chainMAC(nk.chain, prev, e.seq, ct)
		if _, err := ltx.Exec(`INSERT INTO audit (seq, entry, mac) VALUES (?, ?, ?)`, e.seq, ct, mac); err != nil {
			return nil, dbErr("write the re-sealed audit log", err)
		}
		macs, prev = append(macs, mac), mac
	}
	if len(es) > 0 {
		if _, err := ltx.Exec(`INSERT INTO audit_head (id, seq, mac) VALUES (1, ?, ?)`, len(es), headMAC(nk.chain, len(es), prev)); err != nil {
			return nil, dbErr("write the re-sealed audit log", err)
		}
	}
	if err := ltx.Commit(); err != nil {
		return nil, dbErr("write the re-sealed audit log", err)
	}
	return macs, nil
}

// bytesReplaceSchema is the audit schema for a file opened on its own.
func bytesReplaceSchema() string {
	return string(bytes.ReplaceAll([]byte(auditSchema), []byte("audit.audit"), []byte("audit")))
}

// resealAll opens everything sealed under the old keys and seals it under
// the new ones, in tx.
func (v *Vault) resealAll(tx *sql.Tx, old, nk *keyring, oldEpoch, epoch int) error {
	id := v.hdr.vaultID
	ad := func(sid []byte, field string, version, ep int) []byte {
		return crypto.AD("hush/v1/secret", id, sid, field, version, ep)
	}
	// Versions: name, meta and value, and the head's name for the lookups.
	type ver struct {
		sid               []byte
		n, ep             int
		name, meta, value []byte
	}
	rows, err := tx.Query(`SELECT secret_id, version, epoch, name, meta, value FROM versions`)
	if err != nil {
		return dbErr("read vault", err)
	}
	var vs []ver
	for rows.Next() {
		var x ver
		if err := rows.Scan(&x.sid, &x.n, &x.ep, &x.name, &x.meta, &x.value); err != nil {
			rows.Close()
			return dbErr("read vault", err)
		}
		vs = append(vs, x)
	}
	rows.Close()
	names := map[string]string{} // secret id and version -> name
	for i := range vs {
		x := &vs[i]
		if x.ep != oldEpoch {
			return &TamperError{fmt.Sprintf("a version is sealed under key epoch %d, but this vault holds epoch %d", x.ep, oldEpoch)}
		}
		name, err := crypto.Open(old.name, x.name, ad(x.sid, "name", x.n, x.ep))
		if err != nil {
			return &TamperError{fmt.Sprintf("name of secret %x version %d", x.sid, x.n)}
		}
		meta, err := crypto.Open(old.value, x.meta, ad(x.sid, "meta", x.n, x.ep))
		if err != nil {
			return &TamperError{fmt.Sprintf("metadata of %s version %d", name, x.n)}
		}
		value, err := crypto.Open(old.value, x.value, ad(x.sid, "value", x.n, x.ep))
		if err != nil {
			return &TamperError{fmt.Sprintf("value of %s version %d", name, x.n)}
		}
		names[fmt.Sprintf("%x/%d", x.sid, x.n)] = string(name)
		sn, err1 := crypto.Seal(nk.name, name, ad(x.sid, "name", x.n, epoch))
		sm, err2 := crypto.Seal(nk.value, meta, ad(x.sid, "meta", x.n, epoch))
		sv, err3 := crypto.Seal(nk.value, value, ad(x.sid, "value", x.n, epoch))
		crypto.Wipe(value)
		crypto.Wipe(meta)
		if err := errors.Join(err1, err2, err3); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE versions SET epoch = ?, name = ?, meta = ?, value = ? WHERE secret_id = ? AND version = ?`,
			epoch, sn, sm, sv, x.sid, x.n); err != nil {
			return dbErr("write vault", err)
		}
		if i == len(vs)/2 {
			step("half-resealed")
		}
	}
	// Lookups: the MACs of each secret's current name and folder.
	rows, err = tx.Query(`SELECT id, head FROM secrets`)
	if err != nil {
		return dbErr("read vault", err)
	}
	type sec struct {
		id   []byte
		head int
	}
	var ss []sec
	for rows.Next() {
		var s sec
		if err := rows.Scan(&s.id, &s.head); err != nil {
			rows.Close()
			return dbErr("read vault", err)
		}
		ss = append(ss, s)
	}
	rows.Close()
	for _, s := range ss {
		name, ok := names[fmt.Sprintf("%x/%d", s.id, s.head)]
		if !ok {
			return &TamperError{fmt.Sprintf("current version of secret %x is missing", s.id)}
		}
		if _, err := tx.Exec(`UPDATE secrets SET name_mac = ?, folder_mac = ? WHERE id = ?`,
			nk.lookup.MAC(crypto.AD("name", name)), nk.lookup.MAC(crypto.AD("folder", Folder(name))), s.id); err != nil {
			return dbErr("write vault", err)
		}
	}
	// Policies are keyed by their folder's MAC.
	type blob struct {
		k     []byte
		ep    int
		value []byte
	}
	read := func(q string) ([]blob, error) {
		rows, err := tx.Query(q)
		if err != nil {
			return nil, dbErr("read vault", err)
		}
		defer rows.Close()
		var out []blob
		for rows.Next() {
			var b blob
			if err := rows.Scan(&b.k, &b.ep, &b.value); err != nil {
				return nil, dbErr("read vault", err)
			}
			out = append(out, b)
		}
		return out, rows.Err()
	}
	ps, err := read(`SELECT folder_mac, epoch, policy FROM policies`)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`DELETE FROM policies`); err != nil {
		return dbErr("write vault", err)
	}
	for _, p := range ps {
		js, err := crypto.Open(old.value, p.value, crypto.AD("hush/v1/policy", id, p.k, p.ep))
		var pol Policy
		if err != nil || json.Unmarshal(js, &pol) != nil {
			return &TamperError{"a folder policy"}
		}
		mac := nk.lookup.MAC(crypto.AD("folder", pol.Folder))
		ct, err := crypto.Seal(nk.value, js, crypto.AD("hush/v1/policy", id, mac, epoch))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`INSERT INTO policies (folder_mac, epoch, policy) VALUES (?, ?, ?)`, mac, epoch, ct); err != nil {
			return dbErr("write vault", err)
		}
	}
	ls, err := read(`SELECT id, epoch, lease FROM leases`)
	if err != nil {
		return err
	}
	for _, l := range ls {
		js, err := crypto.Open(old.value, l.value, crypto.AD("hush/v1/lease", id, l.k, l.ep))
		if err != nil {
			return &TamperError{"a lease"}
		}
		ct, err := crypto.Seal(nk.value, js, crypto.AD("hush/v1/lease", id, l.k, epoch))
		crypto.Wipe(js)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE leases SET epoch = ?, lease = ? WHERE id = ?`, epoch, ct, l.k); err != nil {
			return dbErr("write vault", err)
		}
	}
	st, err := read(`SELECT CAST(k AS BLOB), 0, v FROM sync_state`)
	if err != nil {
		return err
	}
	for _, s := range st {
		k := string(s.k)
		js, err := crypto.Open(old.value, s.value, crypto.AD("hush/v1/sync-state", id, k))
		if err != nil {
			return &TamperError{"sync settings " + k}
		}
		ct, err := crypto.Seal(nk.value, js, crypto.AD("hush/v1/sync-state", id, k))
		crypto.Wipe(js)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE sync_state SET v = ? WHERE k = ?`, ct, k); err != nil {
			return dbErr("write vault", err)
		}
	}
	return nil
}

// ErrRotated means another hush rotated the vault key while this one had
// the vault open with the old key.
var ErrRotated = errors.New("the vault's key was rotated by another hush while this one had it open: run the command again (with the new passphrase)")

// finishRekey puts a re-sealed audit log left by RotateKey in place when
// it belongs to the current key, and removes it only when its rotation is
// known not to have committed. Called with the keys, before the log is
// attached.
//
// It judges under the vault's write lock: RotateKey holds it from writing
// the file until its commit, so a file that does not check out under this
// process's key may be a rotation still under way (this process read the
// old header). Once the lock is ours, the header on disk tells: the same
// epoch as ours means the rotation rolled back or died before its commit
// (the file is removed); a newer epoch means it committed and our key is
// stale (the file is left for the next open, and [ErrRotated] returned).
func (v *Vault) finishRekey() error {
	if v.memory {
		return nil
	}
	path := rekeyPath(v.path)
	if _, err := os.Lstat(path); errors.Is(err, os.ErrNotExist) {
		return nil // the usual case: one lstat per open of the log
	}
	if err := private.File(path); err != nil {
		return err
	}
	if _, err := os.Lstat(path); err != nil {
		return nil
	}
	if v.auditAttached {
		if _, err := v.db.Exec(`DETACH DATABASE audit`); err != nil {
			return dbErr("close the audit log", err)
		}
		v.auditAttached = false
	}
	tx, err := v.db.Begin() // BEGIN IMMEDIATE: waits for a rotation under way
	if err != nil {
		return dbErr("take the vault's write lock", err)
	}
	defer tx.Rollback()
	if _, err := os.Lstat(path); err != nil {
		return nil // another hush finished it meanwhile
	}
	var epoch int
	if err := tx.QueryRow(`SELECT epoch FROM header WHERE id = 1`).Scan(&epoch); err != nil {
		return dbErr("read vault header", err)
	}
	ours := false
	if db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=ro"); err == nil {
		var seq int
		var head []byte
		var last []byte
		if db.QueryRow(`SELECT h.seq, h.mac, a.mac FROM audit_head h JOIN audit a ON a.seq = h.seq`).Scan(&seq, &head, &last) == nil {
			ours = hmac.Equal(head, headMAC(v.keys.chain, seq, last))
		}
		db.Close()
	}
	if epoch != v.hdr.epoch {
		return ErrRotated
	}
	if !ours {
		// Our epoch is the vault's and no rotation holds the lock: the
		// one that wrote this file did not commit.
		return os.Remove(path)
	}
	step("renaming")
	if err := os.Rename(path, AuditPath(v.path)); err != nil {
		return fmt.Errorf("failed to put the re-sealed audit log in place: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
