package vault

import (
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
)

// CreateMemory makes a vault that lives only in this process's memory: an
// SQLite database with no file (its audit log too), under a random vault
// key no passphrase wraps. Nothing it holds touches the disk, and it is
// gone at Close. hush uses it to read a team with a machine token and no
// vault of its own: the ordinary sync fills it, every command reads it as
// any vault, and nothing is left behind.
//
// It is unlocked from the start and cannot be locked and unlocked again
// (no passphrase opens it); Path is empty.
func CreateMemory() (*Vault, error) {
	if !haveSQLite {
		return nil, ErrNoSQLite
	}
	// A private in-memory database per open: the name only keeps two
	// memory vaults of one process apart; mode=memory never opens a file.
	name, err := crypto.Random(8)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:hush-memory-"+hex.EncodeToString(name)+"?mode=memory&_txlock=immediate&_foreign_keys=on&_secure_delete=on&_stmt_cache_size=32")
	if err != nil {
		return nil, err
	}
	// One connection, kept for the vault's life: the database is that
	// connection's, and would be gone with it.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if _, err := db.Exec("PRAGMA trusted_schema = OFF; PRAGMA temp_store = MEMORY"); err != nil {
		db.Close()
		return nil, dbErr("open memory vault", err)
	}
	vaultID, vk, err := newSchema(db)
	if err != nil {
		return nil, err
	}
	v := &Vault{db: db, memory: true}
	v.hdr = header{vaultID: vaultID, format: Format, kdf: crypto.KDFName, epoch: 1, params: crypto.FloorKDF}
	v.keys = newKeyring(vk, vaultID)
	h := &v.hdr
	// No passphrase wraps the key: the header only makes the schema whole.
	h.salt, h.checkMAC, h.wrappedKey = make([]byte, crypto.SaltSize), []byte{}, []byte{}
	h.headerMAC = v.keys.hmac.MAC(h.bytes())
	if err := v.start(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// Memory reports whether the vault lives only in memory (CreateMemory).
func (v *Vault) Memory() bool { return v.memory }

// attachMemoryAudit attaches an in-memory audit log.
func (v *Vault) attachMemoryAudit() error {
	if _, err := v.db.Exec(`ATTACH DATABASE ':memory:' AS audit`); err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	if _, err := v.db.Exec(auditSchema); err != nil {
		return fmt.Errorf("failed to open the audit log: %w", err)
	}
	v.auditAttached = true
	return nil
}
