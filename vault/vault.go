// Package vault is hush's local store: one SQLite file per vault holding
// secrets, their versions and a header, all sealed so that the file alone
// reveals no name, value, note or tag.
//
// # Opening and unlocking
//
// [Create] makes a new vault file; [Open] opens an existing one, checks its
// permissions, applies schema migrations and reads its header. A [Vault] is
// locked until [Vault.Unlock] (passphrase) or [Vault.UnlockWithKey] (a vault
// key remembered elsewhere) succeeds. [Vault.Close] wipes every key.
//
// # Keys
//
// The passphrase is stretched with Argon2id into a key-encryption key, which
// unwraps the random vault key of the current epoch. From the vault key come
// per-purpose subkeys (names, values, name lookups, header MAC). docs/format.md
// is the byte-level description.
//
// # Errors
//
// Callers test errors with errors.Is against [ErrNoVault], [ErrVaultExists],
// [ErrWrongPassphrase], [ErrNotFound], [ErrExists], [ErrLocked] and
// [ErrTampered]; a [*NameError] or [*PermissionError] carries details.
package vault

import (
	"bytes"
	"crypto/hmac"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// Format is the record format this build writes and reads. Format 2 adds
// the anchor of the audit log (anchor.go), format 3 the MAC of each
// secret's row (rowmac.go), format 4 the MAC of the set of folder
// policies (policy.go), format 5 the anchor's commitment to the vault's
// contents (anchor.go), format 6 the MAC of each secret's sync
// bookkeeping (markmac.go); an older vault is upgraded at its first
// unlock by passphrase.
const Format = 6

var (
	ErrNoVault         = errors.New("no vault")
	ErrVaultExists     = errors.New("vault already exists")
	ErrWrongPassphrase = errors.New("wrong passphrase")
	ErrWrongKey        = errors.New("key does not open this vault")
	ErrLocked          = errors.New("vault is locked")
	ErrNotFound        = errors.New("not found")
	ErrExists          = errors.New("already exists")
	// ErrTampered means stored data did not authenticate: the file was
	// changed outside hush, or damaged. It is wrapped in a [*TamperError].
	ErrTampered = errors.New("vault data failed authentication")
	// ErrUnverified: `audit --restart` found secrets it cannot vouch for
	// (they do not match the vault's anchor, or the anchor is gone) and
	// was not told to take them as they are.
	ErrUnverified = errors.New("the vault's secrets cannot be checked against its anchor")
	// ErrDamaged means the file is not a well-formed vault any more (a
	// disk error, a cut copy): SQLite or hush found a number or a page that
	// makes no sense. It is wrapped in a [*DamagedError].
	ErrDamaged = errors.New("vault file damaged")
	// ErrBusy means another process held the vault's write lock for longer
	// than [BusyTimeout].
	ErrBusy = errors.New("the vault is busy (another hush is writing); try again")
	// ErrNoSQLite: this binary was built without cgo, so it has no SQLite
	// (go-sqlite3 is C). Only a type-checking build is made that way.
	ErrNoSQLite = errors.New("this hush was built without cgo and has no SQLite: build it with CGO_ENABLED=1 and a C compiler")
)

// BusyTimeout is how long a command waits for another process's write to
// finish before it gives up with [ErrBusy]. SQLite's busy handler retries
// with a growing pause (1 ms up to 100 ms) until then.
const BusyTimeout = 30 * time.Second

// busyTimeout is BusyTimeout, shortened by tests.
var busyTimeout = BusyTimeout

// What an error from SQLite means for the person (sqliteKind).
const (
	sqliteOther = iota
	sqliteDamaged
	sqliteBusy
)

// DamagedError says what in the file made no sense.
type DamagedError struct{ What string }

func (e *DamagedError) Error() string {
	return ErrDamaged.Error() + ": " + e.What + " (restore it from a backup)"
}
func (e *DamagedError) Unwrap() error { return ErrDamaged }

// dbErr turns SQLite's "database disk image is malformed", "file is not a
// database" and "database is locked" into [ErrDamaged] and [ErrBusy], and
// wraps any other error as "failed to what: ...".
func dbErr(what string, err error) error {
	if err == nil {
		return nil
	}
	switch sqliteKind(err) {
	case sqliteDamaged:
		return &DamagedError{err.Error()}
	case sqliteBusy:
		return ErrBusy
	}
	return fmt.Errorf("failed to %s: %w", what, err)
}

// TamperError says which stored item failed authentication.
type TamperError struct{ What string }

func (e *TamperError) Error() string { return ErrTampered.Error() + ": " + e.What }
func (e *TamperError) Unwrap() error { return ErrTampered }

// PermissionError is returned for a vault file other users can read.
type PermissionError struct {
	Path string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("vault file %s is readable or writable by other users (mode %04o): run `chmod 600 %s`", e.Path, e.Mode.Perm(), e.Path)
}

// header is the vault's one row of public parameters.
type header struct {
	vaultID    []byte
	format     int
	kdf        string
	params     crypto.KDFParams
	salt       []byte
	epoch      int
	created    int64
	checkMAC   []byte
	wrappedKey []byte
	headerMAC  []byte
}

// bytes is the canonical encoding of every header field that the wrapped
// key and the header MAC authenticate.
func (h *header) bytes() []byte {
	return crypto.AD("hush/v1/header", h.vaultID, h.format, h.kdf,
		int64(h.params.MemoryKiB), int64(h.params.Passes), int64(h.params.Lanes),
		h.salt, h.epoch, h.created)
}

// Vault is an open vault file. It is safe for one goroutine at a time.
type Vault struct {
	db   *sql.DB
	path string
	hdr  header
	keys *keyring // nil while locked

	auditAttached bool
	// restoring is the log entry restoreEntry put back in the transaction
	// under way; putBack the one that went in for good (PutBackEntry).
	restoring, putBack int
	memory             bool // CreateMemory: no file at all (memory.go)

	// pendingFolders, while a batch write ([Vault.SetMany]) runs, collects
	// the folders whose authenticated live count must be sealed before it
	// commits: sealed once per folder at the end rather than after every
	// row (each seal counts the folder's rows, which made an import into
	// one folder quadratic).
	pendingFolders map[string][]byte
	// checkedFolders, while a batch write runs, holds the folders whose
	// live count was compared with its sealed count at the write's start,
	// before the write changed anything: the write holds the vault's
	// write lock, so no one else changes them meanwhile, and a lookup in
	// the same write need not count them again (counting at every lookup
	// made re-importing into one folder quadratic).
	checkedFolders map[string]bool
	// wmacs, while a batch write runs, computes its new rows' MACs
	// (writemacs.go); nil otherwise.
	wmacs  *writeMACs
	intent *intent // the command's pending audit entry
	anch   *anchor // the anchor, during a commit
	// changed counts the changes this Vault committed (Span compares it);
	// spans, the spans open (one inside another adds nothing).
	changed int64
	spans   int
	// changeNo is the change number the rows written now get (the
	// anchor's counter after this change); maxSeen the highest change
	// number of a row read outside a commit, compared with the anchor by
	// the next check (anchor.go).
	changeNo    int64
	maxSeen     int64
	maxSeenName string
	seenMu      sync.Mutex // maxSeen while rows are checked in parallel

	keptAudit string // Create: where an earlier vault's audit log was kept

	metaMemo metaMemo // the last metadata sealed, as JSON (store.go)
	// noPacking makes insertRows bind every value on its own, as before
	// it packed them (tests compare the rows written both ways).
	noPacking bool

	// held are the vault's own files opened to read their bytes (the
	// listing cache's digest, listcache.go), one per file, closed only
	// after SQLite: on Unix, closing any descriptor of a file drops every
	// POSIX lock this process holds on it, SQLite's included.
	held []*os.File
}

// keyring holds the vault key of the current epoch and its subkeys.
type keyring struct {
	vault  *crypto.Key
	name   *crypto.Key // seals names
	value  *crypto.Key // seals values and metadata
	lookup *crypto.Key // HMAC of names and folders
	hmac   *crypto.Key // authenticates the header
	audit  *crypto.Key // seals audit entries
	chain  *crypto.Key // chains audit entries
	row    *crypto.Key // authenticates each secret's row state
	rowSet *crypto.Key // the elements of the anchor's digest of all rows
}

func newKeyring(vaultKey *crypto.Key, vaultID []byte) *keyring {
	sub := vaultKey.Subkeys(vaultID, "hush/v1/name", "hush/v1/value", "hush/v1/name-lookup", "hush/v1/header",
		"hush/v1/audit", "hush/v1/audit-chain", "hush/v1/row", "hush/v1/row-set")
	return &keyring{
		vault:  vaultKey,
		name:   sub[0],
		value:  sub[1],
		lookup: sub[2],
		hmac:   sub[3],
		audit:  sub[4],
		chain:  sub[5],
		row:    sub[6],
		rowSet: sub[7],
	}
}

func (k *keyring) wipe() {
	if k == nil {
		return
	}
	for _, key := range []*crypto.Key{k.vault, k.name, k.value, k.lookup, k.hmac, k.audit, k.chain, k.row, k.rowSet} {
		key.Wipe()
	}
}

// CalibrationTarget is what one unlock of a new vault should cost on the
// machine that creates it: slow for a guesser, bearable for a person.
const CalibrationTarget = 500 * time.Millisecond

// CreateOptions configure a new vault.
type CreateOptions struct {
	// KDF is the passphrase's key derivation cost. Zero means
	// crypto.DefaultKDF with its passes raised until one unlock takes
	// about CalibrationTarget here.
	KDF crypto.KDFParams
	Now time.Time // zero means time.Now
}

func dsn(path string, create bool) string {
	mode := "rw"
	if create {
		mode = "rwc"
	}
	q := url.Values{}
	q.Set("mode", mode)
	q.Set("_txlock", "immediate")                                           // take the write lock at BEGIN: no deadlock on upgrade
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond))) // wait for other writers instead of failing
	q.Set("_synchronous", "FULL")                                           // a committed secret survives a power cut
	q.Set("_secure_delete", "on")                                           // overwritten and deleted ciphertext is zeroed
	q.Set("_foreign_keys", "on")                                            // purging a secret removes its versions
	q.Set("_stmt_cache_size", "32")                                         // a sync applies thousands of rows with the same few statements
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func openDB(path string, create bool) (*sql.DB, error) {
	if !haveSQLite {
		return nil, ErrNoSQLite
	}
	db, err := sql.Open("sqlite3", dsn(path, create))
	if err != nil {
		return nil, err
	}
	// One connection: a CLI process never needs more, and every PRAGMA
	// above then holds for every statement.
	db.SetMaxOpenConns(1)
	// temp_store: no temporary files, ever. journal_size_limit: the WAL
	// file is kept between commands (below), but cut back to 1 MiB after
	// each checkpoint, so that a big import does not leave every later
	// open reading a large file. cache_size: up to 32 MiB of pages (SQLite's
	// default is 2 MiB), so that a large transaction (an import, a first
	// sync) does not spill dirty pages to the WAL before it commits; the
	// pages hold only ciphertext, and memory is taken only as pages are read.
	// trusted_schema OFF: SQL in the file's schema may not call functions
	// with side effects (defence in depth: the schema check refuses any
	// trigger or view anyway).
	pragmas := "PRAGMA trusted_schema = OFF; PRAGMA temp_store = MEMORY; PRAGMA journal_size_limit = 1048576; PRAGMA cache_size = -32768"
	if create {
		// WAL (readers never block the writer) is stored in the file, so it
		// is set once, when the vault is made.
		pragmas += "; PRAGMA journal_mode = WAL"
	}
	if _, err := db.Exec(pragmas); err != nil {
		db.Close()
		return nil, dbErr("open vault "+path, err)
	}
	// Keep the WAL file between commands rather than deleting it at every
	// close and creating it again at the next open: a command then costs
	// fewer file operations and fsyncs. Set after the first statement, when
	// SQLite has opened the file. A failure only costs speed.
	persistWAL(db)
	return db, nil
}

// Create makes a new vault at path, with a random vault key wrapped under
// the passphrase. The folder is created with mode 0700 and the file with 0600.
func Create(path string, passphrase []byte, opts CreateOptions) (*Vault, error) {
	params := opts.KDF
	if params == (crypto.KDFParams{}) {
		params = crypto.Calibrate(crypto.DefaultKDF, CalibrationTarget)
	}
	if err := params.Validate(); err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	path, err := realPath(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("failed to create vault folder: %w", err)
	}
	// Again, now that every folder exists: one made meanwhile by someone
	// else, or a link put where a folder was missing, is refused.
	if path, err = realPath(path); err != nil {
		return nil, err
	}
	if err := restrictFolder(filepath.Dir(path)); err != nil {
		return nil, err
	}
	if err := checkLayout(path); err != nil {
		return nil, err
	}
	// O_EXCL makes two concurrent inits safe and sets the mode before
	// SQLite writes a byte.
	f, err := private.Open(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("%w at %s", ErrVaultExists, path)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to create vault file: %w", err)
	}
	f.Close()
	// An audit log left by an earlier vault of this name opens only with
	// that vault's key: with a backup of that vault (the file emptied or
	// lost, say), it tells what happened since. So it is kept aside, with
	// its journal, never deleted. A -wal left beside the vault would be
	// replayed into the new file by SQLite: that goes.
	kept, err := keepAuditAside(path, now)
	if err != nil {
		Remove(path)
		return nil, err
	}
	for _, p := range companions(path)[1:] {
		os.Remove(p)
	}
	v, err := create(path, passphrase, params, now)
	if err != nil {
		Remove(path)
		return nil, err
	}
	v.keptAudit = kept
	return v, nil
}

// Remove deletes the vault at path with every file that belongs to it:
// SQLite's -wal and -shm files, the audit log and the sealed caches. It is for a vault that
// was just made and is not wanted after all (a team join that failed):
// what it holds is gone. A file that does not exist is not an error.
func Remove(path string) error {
	audit := AuditPath(path)
	var errs []error
	for _, f := range append(companions(path), audit+"-wal", audit+"-shm", rekeyPath(path), NameCachePath(path), ListCachePath(path)) {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("failed to remove the vault at %s: %w", path, err)
	}
	return nil
}

// newSchema gives a new vault's database its tables, and makes the
// vault's id and key; it closes db when it fails.
func newSchema(db *sql.DB) (vaultID []byte, vk *crypto.Key, err error) {
	if err := migrate(db); err != nil {
		db.Close()
		return nil, nil, err
	}
	if vaultID, err = crypto.Random(16); err == nil {
		vk, err = crypto.NewKey()
	}
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return vaultID, vk, nil
}

func create(path string, passphrase []byte, params crypto.KDFParams, now time.Time) (*Vault, error) {
	db, err := openDB(path, true)
	if err != nil {
		return nil, err
	}
	vaultID, vk, err := newSchema(db)
	if err != nil {
		return nil, err
	}
	v := &Vault{db: db, path: path}
	v.hdr = header{vaultID: vaultID, format: Format, kdf: crypto.KDFName, epoch: 1, created: now.Unix()}
	v.keys = newKeyring(vk, vaultID)
	if err := v.wrap(passphrase, params); err != nil {
		v.Close()
		return nil, err
	}
	if err := v.start(); err != nil {
		v.Close()
		return nil, err
	}
	return v, nil
}

// start writes a new vault's header, and starts its audit log and the
// anchor that names the log, the policies and the header (Create and
// CreateMemory).
func (v *Vault) start() error {
	h := &v.hdr
	if _, err := v.db.Exec(`INSERT INTO header (id, vault_id, format, kdf, kdf_memory, kdf_passes, kdf_lanes, salt, epoch, created, check_mac, wrapped_key, header_mac)
		VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.vaultID, h.format, h.kdf, h.params.MemoryKiB, h.params.Passes, h.params.Lanes, h.salt, h.epoch, h.created, h.checkMAC, h.wrappedKey, h.headerMAC); err != nil {
		return fmt.Errorf("failed to write vault header: %w", err)
	}
	// The log exists from the start, anchored: its absence later is
	// always noticed.
	if err := v.attachAudit(); err != nil {
		return err
	}
	// The policy set first: the anchor commits to it.
	if err := v.sealPolicySet(v.db); err != nil {
		return err
	}
	return v.startAnchor(v.db)
}

// wrap sets a new salt and parameters in the header and wraps the vault key
// under the passphrase. The header is only changed in memory.
func (v *Vault) wrap(passphrase []byte, params crypto.KDFParams) error {
	salt, err := crypto.Random(crypto.SaltSize)
	if err != nil {
		return err
	}
	kek, err := crypto.DeriveKey(passphrase, salt, params)
	if err != nil {
		return err
	}
	defer kek.Wipe()
	h := v.hdr
	h.params, h.salt = params, salt
	h.checkMAC = kek.MAC([]byte("hush/v1/passphrase-check"))
	hb := h.bytes()
	h.wrappedKey, err = crypto.Seal(kek, v.keys.vault[:], hb)
	if err != nil {
		return err
	}
	h.headerMAC = v.keys.hmac.MAC(hb)
	v.hdr = h
	return nil
}

// Open opens the vault file at path, locked. It refuses a file made by a
// newer hush, and (before opening anything) a vault whose folder, the
// folder above it (HUSH_HOME) or any of its files is a link, another
// user's, or open to other users, or that is reached through a folder or
// link another user can change: see [guard]. The vault's [Vault.Path] is
// then its real path, which every later open uses.
func Open(path string) (*Vault, error) {
	path, err := realPath(path)
	if err != nil {
		return nil, err
	}
	_, err = os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoVault, path)
	}
	if err != nil {
		// A folder hush cannot read (another user's, say) is named with
		// what is wrong with it, not as a bare "permission denied".
		if ferr := checkFolders(path); ferr != nil {
			return nil, ferr
		}
		return nil, fmt.Errorf("failed to open vault: %w", err)
	}
	if err := checkLayout(path); err != nil {
		return nil, err
	}
	if afterCheck != nil {
		afterCheck()
	}
	db, err := openDB(path, false)
	if err != nil {
		return nil, err
	}
	v := &Vault{db: db, path: path}
	if err := v.load(); err != nil {
		db.Close()
		return nil, err
	}
	return v, nil
}

func (v *Vault) load() error {
	if err := migrate(v.db); err != nil {
		var de *DamagedError
		if errors.As(err, &de) {
			return &DamagedError{v.path + ": " + de.What}
		}
		var se *SchemaTamperError
		if errors.As(err, &se) {
			return err
		}
		return fmt.Errorf("vault %s: %w", v.path, err)
	}
	h := &v.hdr
	var mem, passes, lanes int64
	err := v.db.QueryRow(`SELECT vault_id, format, kdf, kdf_memory, kdf_passes, kdf_lanes, salt, epoch, created, check_mac, wrapped_key, header_mac FROM header WHERE id = 1`).
		Scan(&h.vaultID, &h.format, &h.kdf, &mem, &passes, &lanes, &h.salt, &h.epoch, &h.created, &h.checkMAC, &h.wrappedKey, &h.headerMAC)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("vault %s has no header: it was never finished, or it was emptied or damaged. If you have a backup of it, put that back; "+
			"else move the file away and run `hush init` again (the audit log beside it is kept, renamed, not deleted: it opens with that backup)", v.path)
	}
	if err != nil {
		return dbErr("read vault header", err)
	}
	if h.format < 1 || h.epoch < 1 {
		return &DamagedError{fmt.Sprintf("header says format %d, key epoch %d", h.format, h.epoch)}
	}
	if h.format > Format {
		return fmt.Errorf("vault format %d is newer than this hush understands (%d): upgrade hush", h.format, Format)
	}
	if h.kdf != crypto.KDFName {
		return fmt.Errorf("vault header names key derivation %q: only %s is supported", h.kdf, crypto.KDFName)
	}
	if len(h.vaultID) != 16 {
		return &TamperError{"header: bad vault id"}
	}
	if mem < 0 || mem > 1<<32-1 || passes < 0 || passes > 1<<32-1 || lanes < 0 || lanes > 255 {
		return &TamperError{"header: key derivation parameters out of range"}
	}
	h.params = crypto.KDFParams{MemoryKiB: uint32(mem), Passes: uint32(passes), Lanes: uint8(lanes)}
	if err := h.params.Validate(); err != nil {
		return fmt.Errorf("vault header refused: %w", err)
	}
	return nil
}

// Path is the file the vault lives in.
func (v *Vault) Path() string { return v.path }

// ID is the vault's random id; it never changes.
func (v *Vault) ID() []byte { return bytes.Clone(v.hdr.vaultID) }

// KDF returns the Argon2id parameters the passphrase is stretched with.
func (v *Vault) KDF() crypto.KDFParams { return v.hdr.params }

// Epoch is the current key epoch.
func (v *Vault) Epoch() int { return v.hdr.epoch }

// Locked reports whether no key is loaded.
func (v *Vault) Locked() bool { return v.keys == nil }

// Unlock derives the key-encryption key from the passphrase and unwraps the
// vault key. A wrong passphrase gives [ErrWrongPassphrase]; a header changed
// behind hush's back gives an [ErrTampered] error.
func (v *Vault) Unlock(passphrase []byte) error {
	if len(passphrase) == 0 {
		return ErrWrongPassphrase
	}
	h := &v.hdr
	kek, err := crypto.DeriveKey(passphrase, h.salt, h.params)
	if err != nil {
		return err
	}
	defer kek.Wipe()
	if !hmac.Equal(kek.MAC([]byte("hush/v1/passphrase-check")), h.checkMAC) {
		return ErrWrongPassphrase
	}
	raw, err := crypto.Open(kek, h.wrappedKey, h.bytes())
	if err != nil {
		return &TamperError{"header"}
	}
	vk, err := crypto.KeyFromBytes(raw)
	crypto.Wipe(raw)
	if err != nil {
		return &TamperError{"header: wrapped key has the wrong size"}
	}
	if err := v.setKey(vk); err != nil {
		return &TamperError{"header"}
	}
	v.upgrade(kek) // best effort: a format 1 vault keeps working
	return nil
}

// UnlockWithKey unlocks with a vault key remembered from an earlier unlock.
// The key is checked against the header MAC, so a wrong key or a changed
// header is refused.
func (v *Vault) UnlockWithKey(key *crypto.Key) error {
	k := *key
	return v.setKey(&k)
}

func (v *Vault) setKey(vk *crypto.Key) error {
	keys := newKeyring(vk, v.hdr.vaultID)
	if !hmac.Equal(keys.hmac.MAC(v.hdr.bytes()), v.hdr.headerMAC) {
		keys.wipe()
		// With a key that unwrapped correctly, only a changed header can
		// fail here; with a remembered key it may also be another vault's.
		return ErrWrongKey
	}
	v.keys.wipe()
	v.keys = keys
	return nil
}

// Key returns a copy of the vault key, for a cache to remember. The caller
// must wipe it.
func (v *Vault) Key() (*crypto.Key, error) {
	if v.keys == nil {
		return nil, ErrLocked
	}
	k := *v.keys.vault
	return &k, nil
}

// Lock wipes the keys; the vault stays open.
func (v *Vault) Lock() {
	v.keys.wipe()
	v.keys = nil
}

// Close locks the vault and closes the file.
func (v *Vault) Close() error {
	v.Lock()
	err := v.db.Close()
	for _, f := range v.held {
		f.Close()
	}
	v.held = nil
	return err
}

// ChangePassphrase re-wraps the vault key under a new passphrase, with new
// salt and the given parameters (zero keeps the current ones). Nothing but
// the header changes, so remembered keys stay valid.
func (v *Vault) ChangePassphrase(newPassphrase []byte, params crypto.KDFParams) error {
	if v.keys == nil {
		return ErrLocked
	}
	if params == (crypto.KDFParams{}) {
		params = v.hdr.params
	}
	if err := params.Validate(); err != nil {
		return err
	}
	old := v.hdr
	if err := v.wrap(newPassphrase, params); err != nil {
		v.hdr = old
		return err
	}
	h := v.hdr
	// A change like any other: its audit entry (the command's Intend) and
	// the anchor move with it, and the anchor names the new header, so
	// that the older header or log put back is caught.
	err := v.write(func(tx *sql.Tx) error {
		res, err := tx.Exec(`UPDATE header SET kdf_memory = ?, kdf_passes = ?, kdf_lanes = ?, salt = ?, check_mac = ?, wrapped_key = ?, header_mac = ? WHERE id = 1`,
			h.params.MemoryKiB, h.params.Passes, h.params.Lanes, h.salt, h.checkMAC, h.wrappedKey, h.headerMAC)
		if err != nil {
			return fmt.Errorf("failed to write vault header: %w", err)
		}
		// Defence in depth (the schema check refuses triggers): a header
		// write that changed nothing must not say "passphrase changed".
		if n, err := res.RowsAffected(); err == nil && n != 1 {
			return &SchemaTamperError{File: "vault file", What: "the header's write was ignored"}
		}
		if v.anch != nil {
			v.anch.lastID, v.anch.lastMAC = lastHeader, h.headerMAC
			v.anch.header = h.headerMAC
		}
		return nil
	})
	if err != nil {
		v.hdr = old
		return err
	}
	return nil
}

// keepAuditAside renames an earlier vault's audit log beside path (and its
// journal files) to NAME.audit.db.replaced-UNIXTIME, and returns the new
// name, or "" when there was none.
func keepAuditAside(path string, now time.Time) (string, error) {
	audit := AuditPath(path)
	st, err := os.Lstat(audit)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("failed to check the earlier audit log: %w", err)
	}
	if st.Size() == 0 {
		return "", nil // nothing to keep
	}
	kept := fmt.Sprintf("%s.replaced-%d", audit, now.Unix())
	for _, suffix := range []string{"-wal", "-journal"} {
		if err := os.Rename(audit+suffix, kept+suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("failed to keep the earlier audit log aside: %w", err)
		}
	}
	if err := os.Rename(audit, kept); err != nil {
		return "", fmt.Errorf("failed to keep the earlier audit log aside: %w", err)
	}
	return kept, nil
}

// KeptAuditLog is, for a vault [Create] just made, where it kept the audit
// log an earlier vault of the same name left ("" when there was none): it
// opens only with that vault's key, so only with a backup of that vault.
func (v *Vault) KeptAuditLog() string { return v.keptAudit }
