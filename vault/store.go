package vault

import (
	"bytes"
	"crypto/hmac"
	"crypto/subtle"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	Exec(query string, args ...any) (sql.Result, error)
	Query(query string, args ...any) (*sql.Rows, error)
	QueryRow(query string, args ...any) *sql.Row
}

func notFound(name string) error { return fmt.Errorf("secret %s %w", name, ErrNotFound) }

func (v *Vault) nameMAC(name string) []byte {
	return v.keys.lookup.MAC(crypto.AD("name", name))
}

func (v *Vault) folderMAC(folder string) []byte {
	return v.keys.lookup.MAC(crypto.AD("folder", folder))
}

// ad binds a sealed field to its vault, secret, field, version and epoch:
// crypto.AD("hush/v1/secret", vault id, id, field, version, epoch), built
// here without boxing its parts into interfaces (it is built for every
// field sealed or opened, three per secret; TestSecretADIsCryptoAD
// compares the bytes).
func (v *Vault) ad(id []byte, field string, version, epoch int) []byte {
	return v.appendAD(make([]byte, 0, v.adLen(id, field)), id, field, version, epoch)
}

const secretADLabel = "hush/v1/secret"

// adLen is the length of [Vault.ad]'s bytes.
func (v *Vault) adLen(id []byte, field string) int {
	return 6*4 + len(secretADLabel) + len(v.hdr.vaultID) + len(id) + len(field) + 2*8
}

// appendAD appends [Vault.ad]'s bytes to b.
func (v *Vault) appendAD(b, id []byte, field string, version, epoch int) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(secretADLabel)))
	b = append(b, secretADLabel...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(v.hdr.vaultID)))
	b = append(b, v.hdr.vaultID...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	b = append(b, id...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(field)))
	b = append(b, field...)
	b = binary.BigEndian.AppendUint32(b, 8)
	b = binary.BigEndian.AppendUint64(b, uint64(version))
	b = binary.BigEndian.AppendUint32(b, 8)
	return binary.BigEndian.AppendUint64(b, uint64(epoch))
}

type sealed struct{ name, meta, value []byte }

// seal seals one version's three fields, each under its own associated
// data. The three ADs and the name's bytes share one allocation (they
// were four, for every secret an import writes); nothing in it outlives
// the call but garbage.
func (v *Vault) seal(id []byte, version int, name string, meta Meta, value []byte) (sealed, error) {
	epoch := v.hdr.epoch
	mj, err := v.metaJSON(meta)
	if err != nil {
		return sealed{}, err
	}
	buf := make([]byte, 0, v.adLen(id, "name")+v.adLen(id, "meta")+v.adLen(id, "value")+len(name))
	adPart := func(field string) []byte {
		start := len(buf)
		buf = v.appendAD(buf, id, field, version, epoch)
		return buf[start:len(buf):len(buf)]
	}
	nameAD, metaAD, valueAD := adPart("name"), adPart("meta"), adPart("value")
	start := len(buf)
	buf = append(buf, name...)
	nameBytes := buf[start:len(buf):len(buf)]
	var s sealed
	if s.name, err = crypto.Seal(v.keys.name, nameBytes, nameAD); err != nil {
		return s, err
	}
	if s.meta, err = crypto.Seal(v.keys.value, mj, metaAD); err != nil {
		return s, err
	}
	if s.value, err = crypto.Seal(v.keys.value, value, valueAD); err != nil {
		return s, err
	}
	return s, nil
}

// metaMemo keeps the JSON of the last metadata sealed whose fields are
// all comparable (no tags, revocation, exposure or dynamic source): an
// import seals the same metadata for every secret, and encoding/json was
// 3 % of its CPU. Equal keys give equal JSON, so the memo never changes
// what is sealed (TestMetaJSONMemo).
type metaMemo struct {
	mu   sync.Mutex
	key  metaKey
	json []byte
	ok   bool
}

// metaKey is Meta without its slice and pointer fields.
type metaKey struct {
	typ                           Type
	note, rotator, summary        string
	rotateEvery                   time.Duration
	expires, notAfter, valueSince time.Time
}

func (v *Vault) metaJSON(m Meta) ([]byte, error) {
	if m.Tags != nil || m.Revoked != nil || m.Exposed != nil || m.Dynamic != nil {
		return json.Marshal(m)
	}
	k := metaKey{typ: m.Type, note: m.Note, rotator: m.Rotator, summary: m.Summary,
		rotateEvery: m.RotateEvery, expires: m.Expires, notAfter: m.NotAfter, valueSince: m.ValueSince}
	v.metaMemo.mu.Lock()
	defer v.metaMemo.mu.Unlock()
	if v.metaMemo.ok && v.metaMemo.key == k {
		return v.metaMemo.json, nil
	}
	j, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	v.metaMemo.key, v.metaMemo.json, v.metaMemo.ok = k, j, true
	return j, nil
}

func (v *Vault) checkEpoch(epoch int) error {
	if epoch != v.hdr.epoch {
		return &TamperError{fmt.Sprintf("a version is sealed under key epoch %d, but this vault holds epoch %d", epoch, v.hdr.epoch)}
	}
	return nil
}

func (v *Vault) openName(id []byte, version, epoch int, ct []byte) (string, error) {
	if err := v.checkEpoch(epoch); err != nil {
		return "", err
	}
	b, err := crypto.Open(v.keys.name, ct, v.ad(id, "name", version, epoch))
	if err != nil {
		return "", &TamperError{fmt.Sprintf("name of secret %x version %d", id, version)}
	}
	return string(b), nil
}

func (v *Vault) openMeta(name string, id []byte, version, epoch int, ct []byte) (Meta, error) {
	var m Meta
	b, err := crypto.Open(v.keys.value, ct, v.ad(id, "meta", version, epoch))
	if err != nil {
		return m, &TamperError{fmt.Sprintf("metadata of %s version %d", name, version)}
	}
	if err := decodeMeta(b, &m); err != nil {
		return m, &TamperError{fmt.Sprintf("metadata of %s version %d is not readable", name, version)}
	}
	return m, nil
}

func (v *Vault) openValue(name string, id []byte, version, epoch int, ct []byte) ([]byte, error) {
	b, err := crypto.Open(v.keys.value, ct, v.ad(id, "value", version, epoch))
	if err != nil {
		return nil, &TamperError{fmt.Sprintf("value of %s version %d", name, version)}
	}
	return b, nil
}

// row is one secret's bookkeeping, found by its name's MAC, with its head
// version's sealed fields (read in the same query: a get is one query).
type row struct {
	id      []byte
	head    int
	created int64
	updated int64
	deleted sql.NullInt64
	folder  []byte // folder_mac
	headVer verRow
	// st is the row's authenticated state as [Vault.lookup] read and
	// checked it (nil from other readers): [Vault.addVersion] then writes
	// the new state with its MAC in one statement instead of reading the
	// row back to seal it.
	st *rowState
}

// verRow is one version's stored columns.
type verRow struct {
	epoch             int
	created           int64
	name, meta, value []byte
}

// boundOnce is a join's one parameter, compared as "col = "+boundOnce
// instead of "col = ?": SQLite plans a join whose WHERE compares a column
// with a bound parameter for that parameter's value, and so prepares the
// statement again (parsing the SQL) at every new binding, which tripled
// the cost of a cached lookup by name or id (about 25 µs of 35 on this
// machine; a sync applies one of each per record). Wrapped in a scalar
// subquery, the value is computed once per run and the plan (the same
// index seeks: EXPLAIN QUERY PLAN) no longer depends on it.
const boundOnce = `(SELECT ?)`

// lookup finds a secret by name, live or removed, and checks that the name
// sealed in its head version is the name asked for: a swapped lookup MAC
// must not hand out another secret's value.
func (v *Vault) lookup(q querier, name string) (*row, error) {
	var r row
	h := &r.headVer
	var epoch, created sql.NullInt64
	var st rowState
	err := q.QueryRow(`SELECT `+rowColumns+`, v.epoch, v.created, v.name, v.meta, v.value
		FROM secrets s LEFT JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.name_mac = `+boundOnce, v.writeNameMAC(name)).
		Scan(append(st.dest(), &epoch, &created, &h.name, &h.meta, &h.value)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(name)
	}
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	return v.checkedRow(q, name, &r, st, epoch, created)
}

// checkedRow is the rest of [Vault.lookup] once its query has read the
// row's state st and its head version (into r.headVer, with the head's
// epoch and time): every check lookup makes.
func (v *Vault) checkedRow(q querier, name string, r *row, st rowState, epoch, created sql.NullInt64) (*row, error) {
	h := &r.headVer
	if err := v.check(&st, name); err != nil {
		return nil, err
	}
	r.id, r.head, r.created, r.updated, r.deleted, r.folder = st.id, st.head, st.created, st.updated, st.deleted, st.folderMAC
	r.st = &st
	if !epoch.Valid {
		return nil, &TamperError{fmt.Sprintf("current version of %s is missing", name)}
	}
	h.epoch, h.created = int(epoch.Int64), created.Int64
	if err := checkUpdated(name, r.updated, h.created); err != nil {
		return nil, err
	}
	stored, err := v.openName(r.id, r.head, h.epoch, h.name)
	if err != nil {
		return nil, err
	}
	if stored != name {
		return nil, &TamperError{fmt.Sprintf("the lookup for %s points at another secret", name)}
	}
	if err := v.checkFolderOf(q, Folder(name), r.folder); err != nil {
		return nil, err
	}
	return r, nil
}

// prefetched is what [Vault.lookup] and [Vault.revokedValue] read of an
// existing secret, read for many secrets at once by [Vault.prefetch].
type prefetched struct {
	r              row
	st             rowState
	epoch, created sql.NullInt64
	versions       []sealedMeta // every version stored, in no order
}

// sealedMeta is one stored version's number, epoch and sealed metadata.
type sealedMeta struct {
	n, epoch int
	meta     []byte
}

// prefetchBatch is how many secrets one query of [Vault.prefetch] reads.
const prefetchBatch = 256

// prefetch reads the rows and versions of the secrets whose lookup MACs
// are macs, prefetchBatch at a time, with the same queries lookup and
// revokedValue make for one secret: a write of thousands of existing
// names (a second import) then costs two queries per 256 names instead
// of three per name. Nothing is checked here: [Vault.set] checks each as
// lookup does, when it comes to it. The rows are read before the write
// changes any of them, and the write changes only the secret it is at,
// so each is what lookup would read at that point.
func (v *Vault) prefetch(tx *sql.Tx, macs [][]byte) (map[string]*prefetched, error) {
	out := make(map[string]*prefetched, len(macs))
	for start := 0; start < len(macs); start += prefetchBatch {
		chunk := macs[start:min(start+prefetchBatch, len(macs))]
		args := make([]any, len(chunk))
		for i, mac := range chunk {
			args[i] = mac
		}
		rows, err := tx.Query(`SELECT `+rowColumns+`, v.epoch, v.created, v.name, v.meta, v.value
			FROM secrets s LEFT JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.name_mac IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, dbErr("read vault", err)
		}
		byID := make(map[string]*prefetched, len(chunk))
		for rows.Next() {
			p := &prefetched{}
			h := &p.r.headVer
			if err := rows.Scan(append(p.st.dest(), &p.epoch, &p.created, &h.name, &h.meta, &h.value)...); err != nil {
				rows.Close()
				return nil, dbErr("read vault", err)
			}
			out[string(p.st.nameMAC)] = p
			byID[string(p.st.id)] = p
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, dbErr("read vault", err)
		}
		if len(byID) == 0 {
			continue
		}
		args = args[:0]
		for id := range byID {
			args = append(args, []byte(id))
		}
		rows, err = tx.Query(`SELECT secret_id, version, epoch, meta FROM versions WHERE secret_id IN (?`+strings.Repeat(`, ?`, len(args)-1)+`)`, args...)
		if err != nil {
			return nil, dbErr("read vault", err)
		}
		for rows.Next() {
			var id []byte
			var m sealedMeta
			if err := rows.Scan(&id, &m.n, &m.epoch, &m.meta); err != nil {
				rows.Close()
				return nil, dbErr("read vault", err)
			}
			if p := byID[string(id)]; p != nil {
				p.versions = append(p.versions, m)
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, dbErr("read vault", err)
		}
	}
	return out, nil
}

// version reads and opens one version of a secret; the head version comes
// from what lookup already read.
func (v *Vault) version(q querier, name string, r *row, n int, withValue bool) (*Secret, error) {
	vr := r.headVer
	if n != r.head {
		err := q.QueryRow(`SELECT epoch, created, name, meta, value FROM versions WHERE secret_id = ? AND version = ?`, r.id, n).
			Scan(&vr.epoch, &vr.created, &vr.name, &vr.meta, &vr.value)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("secret %s has no version %d (the latest is %d): %w", name, n, r.head, ErrNotFound)
		}
		if err != nil {
			return nil, dbErr("read vault", err)
		}
	}
	s := &Secret{ID: idString(r.id), Version: n, Head: r.head, Epoch: vr.epoch,
		Created: time.Unix(0, r.created), Updated: time.Unix(0, vr.created)}
	if r.deleted.Valid {
		s.Deleted = time.Unix(0, r.deleted.Int64)
	}
	var err error
	if n == r.head {
		s.Name = name // lookup opened and checked it
	} else if s.Name, err = v.openName(r.id, n, vr.epoch, vr.name); err != nil {
		return nil, err
	}
	if s.Meta, err = v.openMeta(name, r.id, n, vr.epoch, vr.meta); err != nil {
		return nil, err
	}
	if withValue {
		if s.Value, err = v.openValue(name, r.id, n, vr.epoch, vr.value); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (v *Vault) unlocked(names ...string) error {
	if v.keys == nil {
		return ErrLocked
	}
	for _, n := range names {
		if err := ValidName(n); err != nil {
			return err
		}
	}
	return nil
}

// Get returns the current version of a live secret, with its value.
func (v *Vault) Get(name string) (*Secret, error) {
	return v.GetVersion(name, 0)
}

// GetVersion returns version n of a live secret (0: the current one).
func (v *Vault) GetVersion(name string, n int) (*Secret, error) {
	if err := v.unlocked(name); err != nil {
		return nil, err
	}
	r, err := v.lookup(v.db, name)
	if err != nil {
		return nil, err
	}
	if r.deleted.Valid {
		return nil, notFound(name)
	}
	if n == 0 {
		n = r.head
	} else if n != r.head {
		if err := v.checkGapless(v.db, name, r); err != nil {
			return nil, err
		}
	}
	s, err := v.version(v.db, name, r, n, true)
	if err != nil {
		return nil, err
	}
	if n == r.head {
		if err := s.RevokedErr(); err != nil {
			clear(s.Value)
			return nil, err
		}
	}
	if err := v.served(); err != nil {
		clear(s.Value)
		return nil, err
	}
	return s, nil
}

// Revoke retires a leaked secret: a new version with the same value,
// marked revoked with the reason. Its current value is then refused by
// get, run, references and export, until a new value is set.
func (v *Vault) Revoke(name, reason string) (SetResult, error) {
	if err := v.unlocked(name); err != nil {
		return SetResult{}, err
	}
	if len(reason) > MaxNoteSize {
		return SetResult{}, fmt.Errorf("reason is longer than %d bytes", MaxNoteSize)
	}
	var res SetResult
	err := v.write(func(tx *sql.Tx) error {
		r, cur, err := v.current(tx, name)
		if err != nil {
			return err
		}
		defer clear(cur.Value)
		// A new version on a history with a hole would hide the hole.
		if err := v.checkGapless(tx, name, r); err != nil {
			return err
		}
		if cur.Revoked != nil {
			return cur.RevokedErr()
		}
		meta := cur.Meta
		meta.Revoked = &Revocation{At: time.Now().UTC().Truncate(time.Second), Reason: reason}
		keepClock(&meta, cur.Meta, r)
		if err := v.addVersion(tx, r, name, meta, cur.Value, time.Now().UnixNano()); err != nil {
			return err
		}
		res = SetResult{Name: name, Version: r.head, Changed: true}
		return nil
	})
	return res, err
}

// Update says which metadata a Set changes; nil fields keep what the
// secret had (or the defaults, for a new secret).
type Update struct {
	Type        *Type
	Note        *string
	Tags        *[]string
	RotateEvery *time.Duration
	Expires     *time.Time
	Rotator     *string
	// Dynamic, with Type set to TypeDynamicPostgres, makes a dynamic
	// source (hush dynamic add).
	Dynamic *DynamicSource
	// Describe, when set, reads the new value and returns its summary and
	// (for certificates) its end, or an error when the value is not of the
	// secret's type. The vault package does not parse values itself.
	Describe func(typ Type, value []byte) (summary string, notAfter time.Time, err error)
}

func (u Update) apply(m Meta) Meta {
	if u.Type != nil {
		m.Type = *u.Type
	}
	if u.Note != nil {
		m.Note = *u.Note
	}
	if u.Tags != nil {
		m.Tags = slices.Clone(*u.Tags)
	}
	if u.RotateEvery != nil {
		m.RotateEvery = *u.RotateEvery
	}
	if u.Expires != nil {
		m.Expires = *u.Expires
	}
	if u.Rotator != nil {
		m.Rotator = *u.Rotator
	}
	if u.Dynamic != nil {
		d := *u.Dynamic
		m.Dynamic = &d
	}
	return m
}

// describe fills the value-derived metadata for a new version.
func (u Update) describe(name string, m *Meta, value []byte) error {
	m.Summary, m.NotAfter = "", time.Time{}
	if u.Describe == nil {
		return nil
	}
	summary, notAfter, err := u.Describe(m.Type, value)
	if err != nil {
		return fmt.Errorf("secret %s: %w (use --type other to store it anyway)", name, err)
	}
	m.Summary, m.NotAfter = summary, notAfter
	return nil
}

// SetRequest is one secret to write.
type SetRequest struct {
	Name  string
	Value []byte
	// Create refuses, with [ErrExists], a name that a live secret already
	// has, instead of adding a version to it (a removed one is revived).
	Create bool
	// Existing refuses, with [ErrNotFound], a name that has no live
	// secret, instead of creating one (hush rotate must not turn a typo
	// into a new secret).
	Existing bool
	Update
}

// SetResult says what a Set did.
type SetResult struct {
	Name    string
	Version int
	Created bool // a new secret
	Changed bool // false: the value and metadata were already so; no version added
}

// Tally counts what a SetMany did: new secrets, new versions, unchanged.
func Tally(res []SetResult) (created, updated, same int) {
	for _, r := range res {
		switch {
		case !r.Changed:
			same++
		case r.Created:
			created++
		default:
			updated++
		}
	}
	return created, updated, same
}

// Set writes a value under name: a new secret at version 1, or a new version
// of an existing one (reviving it if it was removed). Writing exactly what
// the current version holds adds no version.
func (v *Vault) Set(name string, value []byte, u Update) (SetResult, error) {
	res, err := v.SetMany([]SetRequest{{Name: name, Value: value, Update: u}}, time.Time{})
	if err != nil {
		return SetResult{}, err
	}
	return res[0], nil
}

// SetMany writes several secrets in one transaction: all or none. now is
// the time recorded (zero: time.Now).
func (v *Vault) SetMany(reqs []SetRequest, now time.Time) ([]SetResult, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		if err := ValidName(r.Name); err != nil {
			return nil, err
		}
		if seen[r.Name] {
			return nil, fmt.Errorf("secret %s is given twice", r.Name)
		}
		seen[r.Name] = true
		if len(r.Value) > MaxValueSize {
			return nil, fmt.Errorf("value of %s is %d bytes: the limit is %d", r.Name, len(r.Value), MaxValueSize)
		}
		m := r.Update.apply(Meta{Type: TypeOther})
		if err := m.validate(); err != nil {
			return nil, fmt.Errorf("secret %s: %w", r.Name, err)
		}
	}
	if now.IsZero() {
		now = time.Now()
	}
	out := make([]SetResult, 0, len(reqs))
	err := v.write(func(tx *sql.Tx) error {
		// Folder counts are sealed once per folder, after every row is
		// written, in the same transaction.
		v.pendingFolders = map[string][]byte{}
		v.checkedFolders = map[string]bool{}
		v.wmacs = v.newWriteMACs()
		defer func() { v.pendingFolders, v.checkedFolders, v.wmacs = nil, nil, nil }()
		// An import puts every name in a few folders: each folder's MAC
		// is computed once.
		folderMACs := macCache{v: v, m: map[string][]byte{}}
		macs := make([][]byte, len(reqs))
		for i, r := range reqs {
			macs[i] = v.wmacs.nameMAC(r.Name)
		}
		// Every folder written is compared with its sealed count once,
		// here, before anything is written (a removed secret's row put
		// back from an older copy is one live secret more than the count
		// says). The lookups of existing secrets below then skip the
		// count: nothing but this write changes the folder meanwhile.
		for _, r := range reqs {
			folder := Folder(r.Name)
			if err := v.checkFolderOf(tx, folder, folderMACs.get(folder)); err != nil {
				return err
			}
		}
		have, err := v.existing(tx, macs)
		if err != nil {
			return err
		}
		// New secrets are written sortedRun at a time, in the order of
		// their ids: the B-trees keyed by id (the secrets' id index, the
		// versions, and the versions' lookup of their secret) then take
		// them page by page instead of at random. The folder counts were
		// checked above, so the batch need not be written before an
		// existing secret is read: it is written when full and at the end.
		batch := make([]newRow, 0, min(len(reqs), sortedRun))
		var ins rowSorter
		flush := func() error {
			err := v.insertRows(tx, ins.byID(batch))
			batch = batch[:0]
			return err
		}
		// Existing secrets are read prefetchBatch at a time, ahead of
		// their turn (prefetch).
		pre := map[string]*prefetched{}
		readAhead := func(from int) error {
			clear(pre)
			var ahead [][]byte
			for j := from; j < len(reqs) && len(ahead) < prefetchBatch; j++ {
				if have[string(macs[j])] {
					ahead = append(ahead, macs[j])
				}
			}
			got, err := v.prefetch(tx, ahead)
			pre = got
			return err
		}
		for i, r := range reqs {
			var res SetResult
			var err error
			switch {
			case have[string(macs[i])]:
				p, ok := pre[string(macs[i])]
				if !ok {
					if err := readAhead(i); err != nil {
						return err
					}
					p = pre[string(macs[i])] // nil (lookup reads it) if it was not found
				}
				delete(pre, string(macs[i]))
				res, err = v.set(tx, r, now.UnixNano(), p)
			case r.Existing:
				err = notFound(r.Name) // Existing never creates
			default:
				var nr newRow
				res, nr, err = v.prepareCreate(r, macs[i], folderMACs.get(Folder(r.Name)), now.UnixNano())
				if err == nil {
					batch = append(batch, nr)
					if len(batch) == sortedRun {
						err = flush()
					}
				}
			}
			if err != nil {
				return err
			}
			out = append(out, res)
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
	return out, err
}

// sortedRun is how many new secrets SetMany sorts by id and writes
// together (a few MB of sealed rows held at once).
const sortedRun = 4096

// rowSorter puts a batch of new rows in the order of their ids. It sorts
// pointers and copies the rows once into a buffer it keeps for the next
// batch: sorting the rows themselves moved each ~170-byte row a dozen
// times, 4 % of an import's CPU.
type rowSorter struct {
	ptrs []*newRow
	out  []newRow
}

// byID returns the rows of batch sorted by id, in a slice that is valid
// until the next call (batch itself is not reordered).
func (s *rowSorter) byID(batch []newRow) []newRow {
	if cap(s.out) < len(batch) {
		s.ptrs, s.out = make([]*newRow, 0, len(batch)), make([]newRow, 0, len(batch))
	}
	s.ptrs = s.ptrs[:0]
	for i := range batch {
		s.ptrs = append(s.ptrs, &batch[i])
	}
	slices.SortFunc(s.ptrs, func(a, b *newRow) int { return bytes.Compare(a.id, b.id) })
	s.out = s.out[:0]
	for _, r := range s.ptrs {
		s.out = append(s.out, *r)
	}
	clear(s.ptrs)
	return s.out
}

// existingBatch is how many lookup MACs one query of [Vault.existing] asks
// about (SQLite allows 32,766 parameters).
const existingBatch = 500

// existing returns those of the names' lookup MACs (as strings) that have
// a row, live or removed, asking 500 at a time: an import of
// thousands of new names then costs a query per 500 names instead of a
// lookup per name. A name found here still goes through [Vault.lookup],
// with its check that the row's sealed name is the name asked for.
//
// A vault that holds no more rows than names asked (an import into a new
// or small vault) is read whole instead, in one query of the name index:
// reading at most len(macs)+1 MACs costs less than binding every MAC asked
// into 500-name queries.
func (v *Vault) existing(tx *sql.Tx, macs [][]byte) (map[string]bool, error) {
	have := map[string]bool{}
	if all, ok, err := v.allNameMACs(tx, len(macs)); err != nil {
		return nil, err
	} else if ok {
		for _, mac := range macs {
			if all[string(mac)] {
				have[string(mac)] = true
			}
		}
		return have, nil
	}
	for start := 0; start < len(macs); start += existingBatch {
		chunk := macs[start:min(start+existingBatch, len(macs))]
		args := make([]any, len(chunk))
		for i, mac := range chunk {
			args[i] = mac
		}
		rows, err := tx.Query(`SELECT name_mac FROM secrets WHERE name_mac IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		for rows.Next() {
			var mac []byte
			if err := rows.Scan(&mac); err != nil {
				rows.Close()
				return nil, fmt.Errorf("failed to read vault: %w", err)
			}
			have[string(mac)] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
	}
	return have, nil
}

// allNameMACs returns every row's name MAC (as strings) when the vault
// holds at most limit rows; ok is false when it holds more.
func (v *Vault) allNameMACs(tx *sql.Tx, limit int) (all map[string]bool, ok bool, err error) {
	rows, err := tx.Query(`SELECT name_mac FROM secrets LIMIT ?`, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	all = map[string]bool{}
	for rows.Next() {
		var mac []byte
		if err := rows.Scan(&mac); err != nil {
			return nil, false, fmt.Errorf("failed to read vault: %w", err)
		}
		all[string(mac)] = true
	}
	if err := rows.Err(); err != nil {
		return nil, false, fmt.Errorf("failed to read vault: %w", err)
	}
	return all, len(all) <= limit, nil
}

// macCache remembers folder lookup MACs within one write.
type macCache struct {
	v *Vault
	m map[string][]byte
}

func (c macCache) get(folder string) []byte {
	mac, ok := c.m[folder]
	if !ok {
		mac = c.v.folderMAC(folder)
		c.m[folder] = mac
	}
	return mac
}

// create writes req as a new secret, version 1, under its lookup MACs.
func (v *Vault) create(tx *sql.Tx, req SetRequest, nameMAC, folderMAC []byte, now int64) (SetResult, error) {
	res, r, err := v.prepareCreate(req, nameMAC, folderMAC, now)
	if err != nil {
		return res, err
	}
	return res, v.insertRows(tx, []newRow{r})
}

// prepareCreate seals req as a new secret, version 1, for insertRows.
func (v *Vault) prepareCreate(req SetRequest, nameMAC, folderMAC []byte, now int64) (SetResult, newRow, error) {
	res := SetResult{Name: req.Name, Changed: true, Created: true, Version: 1}
	meta := req.Update.apply(Meta{Type: TypeOther})
	if err := req.Update.describe(req.Name, &meta, req.Value); err != nil {
		return res, newRow{}, err
	}
	r, err := v.newRow(req.Name, nameMAC, folderMAC, meta, req.Value, now)
	return res, r, err
}

// set writes req over an existing secret (or creates it). pre, when not
// nil, is what [Vault.prefetch] read of it: lookup's checks are made on
// that instead of reading it again.
func (v *Vault) set(tx *sql.Tx, req SetRequest, now int64, pre *prefetched) (SetResult, error) {
	res := SetResult{Name: req.Name, Changed: true}
	var r *row
	var err error
	if pre != nil {
		r, err = v.checkedRow(tx, req.Name, &pre.r, pre.st, pre.epoch, pre.created)
	} else {
		r, err = v.lookup(tx, req.Name)
	}
	if req.Existing && (errors.Is(err, ErrNotFound) || err == nil && r.deleted.Valid) {
		return res, notFound(req.Name)
	}
	if errors.Is(err, ErrNotFound) {
		return v.create(tx, req, v.nameMAC(req.Name), v.folderMAC(Folder(req.Name)), now)
	}
	if err != nil {
		return res, err
	}
	if req.Create && !r.deleted.Valid {
		return res, fmt.Errorf("secret %s %w", req.Name, ErrExists)
	}
	cur, err := v.version(tx, req.Name, r, r.head, true)
	if err != nil {
		return res, err
	}
	meta := req.Update.apply(cur.Meta)
	if err := meta.validate(); err != nil {
		return res, fmt.Errorf("secret %s: %w", req.Name, err)
	}
	var versions []sealedMeta
	if pre != nil {
		versions = pre.versions
	}
	if err := v.revokedValueIn(tx, req.Name, r, req.Value, &cur.Meta, pre != nil, versions); err != nil {
		return res, err
	}
	meta.Revoked = nil // a new value replaces a revoked one
	if !bytes.Equal(cur.Value, req.Value) {
		meta.Exposed = nil // a new value is the rotation an exposure asked for
	}
	if err := req.Update.describe(req.Name, &meta, req.Value); err != nil {
		return res, err
	}
	if !r.deleted.Valid && bytes.Equal(cur.Value, req.Value) && metaEqual(cur.Meta, meta) {
		res.Changed, res.Version = false, r.head
		return res, nil
	}
	if bytes.Equal(cur.Value, req.Value) && !r.deleted.Valid {
		keepClock(&meta, cur.Meta, r) // metadata only: the clock runs on
	} else {
		meta.ValueSince = time.Time{} // a new value starts the clock
	}
	res.Version = r.head + 1
	return res, v.addVersion(tx, r, req.Name, meta, req.Value, now)
}

func metaEqual(a, b Meta) bool {
	aj, _ := json.Marshal(a)
	bj, _ := json.Marshal(b)
	return bytes.Equal(aj, bj)
}

func (v *Vault) insert(tx *sql.Tx, name string, meta Meta, value []byte, now int64) error {
	return v.insertWithMACs(tx, name, v.nameMAC(name), v.folderMAC(Folder(name)), meta, value, now)
}

// insertWithMACs is insert with the name's and folder's lookup MACs
// already computed.
func (v *Vault) insertWithMACs(tx *sql.Tx, name string, nameMAC, folderMAC []byte, meta Meta, value []byte, now int64) error {
	r, err := v.newRow(name, nameMAC, folderMAC, meta, value, now)
	if err != nil {
		return err
	}
	return v.insertRows(tx, []newRow{r})
}

// newRow is a new secret's version 1, sealed, with its row MAC, ready for
// [Vault.insertRows].
type newRow struct {
	name               string
	id                 []byte
	nameMAC, folderMAC []byte
	now                int64
	s                  sealed
	mac                []byte
	changed            int64
}

func (v *Vault) newRow(name string, nameMAC, folderMAC []byte, meta Meta, value []byte, now int64) (newRow, error) {
	id, err := crypto.Random(16)
	if err != nil {
		return newRow{}, err
	}
	return v.newRowID(id, name, nameMAC, folderMAC, meta, value, now)
}

// newRowID is newRow under a given id (a teammate's secret, ApplyRemote).
func (v *Vault) newRowID(id []byte, name string, nameMAC, folderMAC []byte, meta Meta, value []byte, now int64) (newRow, error) {
	s, err := v.seal(id, 1, name, meta, value)
	if err != nil {
		return newRow{}, err
	}
	// The row MAC is computed from the very values the INSERT stores (what
	// sealRow would read back): a new row is written sealed, in one
	// statement.
	st := rowState{id: id, head: 1, created: now, updated: now, nameMAC: nameMAC, folderMAC: folderMAC}
	if v.hdr.format >= 5 {
		st.changed = v.changeNo
	}
	var mac []byte
	if v.wmacs != nil {
		mac = v.wmacs.rowMAC(&st)
	} else {
		mac = v.rowMAC(&st)
	}
	return newRow{name: name, id: id, nameMAC: nameMAC, folderMAC: folderMAC, now: now, s: s, mac: mac, changed: st.changed}, nil
}

// insertBatch is how many new secrets one INSERT statement writes (4
// parameters a row and each table; SQLite allows 32,766).
const insertBatch = 128

// The INSERTs of insertRows: the values every row of one write shares
// (its time, key epoch and change number) are bound once, as ?1, ?2 and
// ?3, and each row binds only its own four. Each parameter is a call into
// SQLite, and binding was a tenth of an import's CPU. OR ROLLBACK: a row
// that breaks a constraint (a name or id already there, which SetMany has
// ruled out) ends the whole transaction, as the error does anyway, so
// SQLite keeps no statement journal (a copy of every page a multi-row
// INSERT touches, to undo the statement alone).
const (
	insertSecrets  = `INSERT OR ROLLBACK INTO secrets (id, name_mac, folder_mac, head, created, updated, row_mac, changed) VALUES `
	insertVersions = `INSERT OR ROLLBACK INTO versions (secret_id, version, epoch, created, name, meta, value) VALUES `
	insertShared   = 3
)

// insertSQL is the INSERTs for n rows: secrets with their own parameters
// and packed (below), and versions; the full batch's text is built once
// per process.
func insertSQL(n int) insertTexts {
	if n == insertBatch {
		insertSQLOnce.Do(func() { insertSQLFull = buildInsertSQL(n) })
		return insertSQLFull
	}
	return buildInsertSQL(n)
}

type insertTexts struct{ secrets, secretsPacked, versions string }

var (
	insertSQLOnce sync.Once
	insertSQLFull insertTexts
)

// packedRow is the size of one secrets row's own values packed into ?4:
// id, name MAC, folder MAC, row MAC.
const packedRow = 16 + 3*32

func buildInsertSQL(n int) insertTexts {
	var sb, pb, vb strings.Builder
	sb.WriteString(insertSecrets)
	pb.WriteString(insertSecrets)
	vb.WriteString(insertVersions)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
			pb.WriteString(", ")
			vb.WriteString(", ")
		}
		p := insertShared + 4*i
		fmt.Fprintf(&sb, "(?%d, ?%d, ?%d, 1, ?1, ?1, ?%d, ?3)", p+1, p+2, p+3, p+4)
		o := 1 + packedRow*i
		fmt.Fprintf(&pb, "(substr(?4, %d, 16), substr(?4, %d, 32), substr(?4, %d, 32), 1, ?1, ?1, substr(?4, %d, 32), ?3)", o, o+16, o+48, o+80)
		fmt.Fprintf(&vb, "(?%d, 1, ?2, ?1, ?%d, ?%d, ?%d)", p+1, p+2, p+3, p+4)
	}
	return insertTexts{sb.String(), pb.String(), vb.String()}
}

// packable reports whether every row of chunk has a 16-byte id and
// 32-byte MACs, so that its secrets rows can be bound packed.
func packable(chunk []newRow) bool {
	for i := range chunk {
		r := &chunk[i]
		if len(r.id) != 16 || len(r.nameMAC) != 32 || len(r.folderMAC) != 32 || len(r.mac) != 32 {
			return false
		}
	}
	return true
}

// insertRows writes new secrets, insertBatch rows per statement, and
// seals (or, in a batch, marks) their folders' counts. Every row is of
// the same write: one time and one change number.
//
// The secrets rows' own values (id and three MACs, fixed sizes) are
// bound packed, as one blob for the whole statement that substr() cuts
// into the columns: one bind instead of 512 (each bind is a call into
// SQLite that copies its value, and binding was a tenth of an import's
// CPU). substr of a blob is a blob of those bytes: the stored rows are
// byte for byte the same (TestInsertRowsPackedIsUnpacked).
func (v *Vault) insertRows(tx *sql.Tx, rows []newRow) error {
	if len(rows) == 0 {
		return nil
	}
	now, changed := rows[0].now, rows[0].changed
	sargs := make([]any, 0, insertShared+4*min(len(rows), insertBatch))
	vargs := make([]any, 0, cap(sargs))
	var packed []byte
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), insertBatch)]
		rows = rows[len(chunk):]
		sargs = append(sargs[:0], now, v.hdr.epoch, changed)
		vargs = append(vargs[:0], now, v.hdr.epoch, changed)
		pack := packable(chunk) && !v.noPacking
		if pack {
			packed = make([]byte, 0, packedRow*len(chunk))
		}
		for i := range chunk {
			r := &chunk[i]
			if r.now != now || r.changed != changed {
				return fmt.Errorf("failed to write %s: rows of different writes in one batch", r.name) // a bug, never the user's
			}
			if pack {
				packed = append(append(append(append(packed, r.id...), r.nameMAC...), r.folderMAC...), r.mac...)
			} else {
				sargs = append(sargs, r.id, r.nameMAC, r.folderMAC, r.mac)
			}
			vargs = append(vargs, r.id, r.s.name, r.s.meta, r.s.value)
		}
		what := chunk[0].name
		if len(chunk) > 1 {
			what = fmt.Sprintf("%d secrets (%s, ...)", len(chunk), what)
		}
		q := insertSQL(len(chunk))
		sq := q.secrets
		if pack {
			sq = q.secretsPacked
			sargs = append(sargs, packed)
		}
		if _, err := tx.Exec(sq, sargs...); err != nil {
			return fmt.Errorf("failed to write %s: %w", what, err)
		}
		if v.anch != nil {
			for i := range chunk {
				v.anch.rowChanged(v, chunk[i].id, nil, chunk[i].mac)
			}
		}
		if _, err := tx.Exec(q.versions, vargs...); err != nil {
			return fmt.Errorf("failed to write %s: %w", what, err)
		}
		for i := range chunk {
			if err := v.sealFolder(tx, chunk[i].folderMAC); err != nil {
				return err
			}
		}
	}
	return nil
}

// addVersion writes version head+1 of r under name (which may be a new
// name: a rename is a version too, so a sync can carry it).
func (v *Vault) addVersion(tx *sql.Tx, r *row, name string, meta Meta, value []byte, now int64) error {
	n := r.head + 1
	s, err := v.seal(r.id, n, name, meta, value)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO versions (secret_id, version, epoch, created, name, meta, value) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		r.id, n, v.hdr.epoch, now, s.name, s.meta, s.value); err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	nameMAC, newFolder := v.writeNameMAC(name), v.writeFolderMAC(Folder(name))
	sealed, err := v.updateSealed(tx, r, n, now, nameMAC, newFolder)
	if err != nil {
		return fmt.Errorf("failed to write %s: %w", name, err)
	}
	if !sealed {
		if _, err := tx.Exec(`UPDATE secrets SET head = ?, updated = ?, deleted = NULL, name_mac = ?, folder_mac = ? WHERE id = ?`,
			n, now, nameMAC, newFolder, r.id); err != nil {
			return fmt.Errorf("failed to write %s: %w", name, err)
		}
		if err := v.sealRow(tx, r.id); err != nil {
			return err
		}
		r.st = nil // no longer the stored state
	}
	r.head = n
	if !bytes.Equal(newFolder, r.folder) {
		if err := v.sealFolder(tx, r.folder); err != nil { // renamed out of it
			return err
		}
		r.folder = newFolder
	}
	return nil
}

// updateSealed writes a secret's row as addVersion leaves it (version n
// current, updated now, live, under the name's and folder's lookup MACs)
// together with its row MAC, in one statement: the MAC is computed from
// the state lookup read and authenticated, changed as the statement
// changes it, which is what sealRow would read back. It writes only if
// the stored row MAC is still the one lookup checked (the row is as it
// was read) and reports whether it wrote; when it did not (a row from
// another reader, a row without a MAC, or one changed since), the
// caller writes and seals the row as before.
func (v *Vault) updateSealed(tx *sql.Tx, r *row, n int, now int64, nameMAC, folderMAC []byte) (bool, error) {
	if r.st == nil || r.st.mac == nil || !bytes.Equal(r.st.id, r.id) {
		return false, nil
	}
	st := *r.st
	st.head, st.updated, st.deleted, st.nameMAC, st.folderMAC = n, now, sql.NullInt64{}, nameMAC, folderMAC
	if v.hdr.format >= 5 && v.changeNo != 0 {
		st.changed = v.changeNo // outside a change, the row keeps its number (as sealRow)
	}
	var mac []byte
	if v.wmacs != nil {
		mac = v.wmacs.rowMAC(&st)
	} else {
		mac = v.rowMAC(&st)
	}
	var res sql.Result
	var err error
	if !r.st.deleted.Valid && bytes.Equal(nameMAC, r.st.nameMAC) && bytes.Equal(folderMAC, r.st.folderMAC) {
		// Live, same name: the columns left out hold these values already
		// (the row MAC matched), and SQLite then leaves the name's and the
		// folders' indexes alone instead of rewriting their entries.
		res, err = tx.Exec(`UPDATE secrets SET head = ?, updated = ?, row_mac = ?, changed = ? WHERE id = ? AND row_mac = ?`,
			n, now, mac, st.changed, r.id, r.st.mac)
	} else {
		res, err = tx.Exec(`UPDATE secrets SET head = ?, updated = ?, deleted = NULL, name_mac = ?, folder_mac = ?, row_mac = ?, changed = ? WHERE id = ? AND row_mac = ?`,
			n, now, nameMAC, folderMAC, mac, st.changed, r.id, r.st.mac)
	}
	if err != nil {
		return false, err
	}
	if k, err := res.RowsAffected(); err != nil || k != 1 {
		return false, err
	}
	if v.anch != nil {
		v.anch.rowChanged(v, r.id, r.st.mac, mac)
	}
	st.mac = mac
	r.st = &st
	return true, v.sealFolder(tx, folderMAC)
}

// write runs fn in one immediate transaction that changes the vault, with
// the audit entry of the command's [Vault.Intend] when it has not been
// written yet, and moves the vault's anchor (see anchor.go).
func (v *Vault) write(fn func(*sql.Tx) error) error {
	return v.commit(fn, true, nil)
}

// IndexEntry is a live secret as the index knows it: its name (decrypted)
// and bookkeeping, with its metadata still sealed until [Vault.Meta].
type IndexEntry struct {
	ID      string
	Name    string
	Version int
	Created time.Time
	Updated time.Time

	id    []byte
	epoch int
}

// Index returns every live secret, sorted by name, decrypting only names:
// the cheapest full listing, for a browser that opens metadata row by row.
func (v *Vault) Index() ([]IndexEntry, error) {
	return v.index(-1)
}

// IndexHead is the first n live secrets SQLite finds (in its order, not the
// names'), sorted by name, and how many live secrets there are: enough for
// a browser to draw its first screen of a large vault while [Vault.Index]
// reads the rest. Only names are decrypted, as in Index.
func (v *Vault) IndexHead(n int) ([]IndexEntry, int, error) {
	if err := v.unlocked(); err != nil {
		return nil, 0, err
	}
	var total int
	if err := v.db.QueryRow(`SELECT count(*) FROM secrets WHERE deleted IS NULL`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("failed to read vault: %w", err)
	}
	head, err := v.index(n)
	return head, total, err
}

// index reads up to limit live secrets (all when limit < 0).
func (v *Vault) index(limit int) ([]IndexEntry, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	if err := v.checkCurrent(); err != nil {
		return nil, err
	}
	if limit < 0 {
		// A current listing cache was written by a List that checked
		// every row Index checks, and more (listcache.go).
		if !v.memory {
			if es, _, ok := v.cachedList(); ok {
				return v.indexFromList(es)
			}
		}
		return v.indexAll()
	}
	rows, err := v.db.Query(`SELECT `+rowColumns+`, v.created, v.epoch, v.name
		FROM secrets s LEFT JOIN versions v ON v.secret_id = s.id AND v.version = s.head
		WHERE s.deleted IS NULL LIMIT ?`, limit)
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	var bad []damagedRow
	out, err := openRows(rows, func(rows *sql.Rows) (r liveRow, err error) {
		var updated, epoch sql.NullInt64
		err = rows.Scan(append(r.st.dest(), &updated, &epoch, &r.nameCT)...)
		if err == nil && r.nameCT == nil { // the current version is gone
			bad = append(bad, damagedRow{r.st.id, r.st.head})
		}
		r.updated, r.epoch = updated.Int64, int(epoch.Int64)
		return r, err
	}, v.indexEntry)
	if err != nil {
		return nil, err
	}
	if err := v.damaged(bad, nil); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// indexEntry opens and checks one live row's name for the index; a row
// whose current version is gone is left out here (its caller lists it as
// damaged).
func (v *Vault) indexEntry(r *liveRow) (IndexEntry, bool, error) {
	e := IndexEntry{id: r.st.id, Version: r.st.head, epoch: r.epoch}
	if r.nameCT == nil {
		return e, false, nil // in bad
	}
	var err error
	if e.Name, err = v.openName(e.id, e.Version, e.epoch, r.nameCT); err != nil {
		return e, false, err
	}
	if err := v.check(&r.st, e.Name); err != nil {
		return e, false, err
	}
	if r.st.deleted.Valid { // an index of live rows rebuilt outside hush
		return e, false, &TamperError{fmt.Sprintf("the index of live secrets holds %s, which was removed: an index of the vault file was rebuilt outside hush", e.Name)}
	}
	if err := checkUpdated(e.Name, r.st.updated, r.updated); err != nil {
		return e, false, err
	}
	e.ID, e.Created, e.Updated = idString(e.id), time.Unix(0, r.st.created), time.Unix(0, r.updated)
	return e, true, nil
}

// indexFromList is the index of a full listing: the same secrets in the
// same order (by name), their metadata left out.
func (v *Vault) indexFromList(es []Entry) ([]IndexEntry, error) {
	out := make([]IndexEntry, len(es))
	for i := range es {
		e := &es[i]
		id, err := hex.DecodeString(e.ID)
		if err != nil {
			return nil, err
		}
		out[i] = IndexEntry{ID: e.ID, Name: e.Name, Version: e.Version, Created: e.Created, Updated: e.Updated,
			id: id, epoch: v.hdr.epoch}
	}
	return out, nil
}

// indexAll is the whole index, from [Vault.scanLive]'s two sequential
// scans (the query of index() seeks three times per secret), with the
// same checks.
func (v *Vault) indexAll() ([]IndexEntry, error) {
	live, _, err := v.scanLive(false)
	if err != nil {
		return nil, err
	}
	var bad []damagedRow
	for i := range live {
		if live[i].nameCT == nil { // the current version is gone
			bad = append(bad, damagedRow{live[i].st.id, live[i].st.head})
		}
	}
	out, err := openSlice(live, v.indexEntry)
	if err != nil {
		return nil, err
	}
	if err := v.damaged(bad, nil); err != nil {
		return nil, err
	}
	return sortByName(out, func(e *IndexEntry) string { return e.Name }), nil
}

// Meta reads and opens the metadata of an entry from [Vault.Index].
func (v *Vault) Meta(e *IndexEntry) (Meta, error) {
	if err := v.unlocked(); err != nil {
		return Meta{}, err
	}
	var ct []byte
	err := v.db.QueryRow(`SELECT meta FROM versions WHERE secret_id = ? AND version = ?`, e.id, e.Version).Scan(&ct)
	if errors.Is(err, sql.ErrNoRows) {
		return Meta{}, fmt.Errorf("secret %s changed since it was listed: %w", e.Name, ErrNotFound)
	}
	if err != nil {
		return Meta{}, dbErr("read vault", err)
	}
	return v.openMeta(e.Name, e.id, e.Version, e.epoch, ct)
}

// List returns the live secrets in folder and below it ("" for all),
// sorted by name, without values. Unlike [Vault.Index] it opens every
// listed secret's metadata, in the same pass. When some of them are
// damaged, it returns the others and a [*DamagedSecretsError] naming those.
//
// A vault file keeps the last full listing in its sealed listing cache
// (listcache.go), which List returns while the vault's bytes are those it
// was checked against; the anchor is compared with the audit log either way.
func (v *Vault) List(folder string) ([]Entry, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	if v.memory {
		return v.list(folder)
	}
	if err := v.checkCurrent(); err != nil {
		return nil, err
	}
	clean, err := CleanFolder(folder)
	if err != nil {
		return nil, err
	}
	es, before, ok := v.cachedList()
	if ok {
		return inFolder(es, clean), nil
	}
	seen := v.maxSeen
	v.maxSeen = 0 // the highest change number of the rows listed, to cache
	all, err := v.list("")
	listed := v.maxSeen
	v.maxSeen = max(seen, listed)
	if err != nil {
		// Damaged secrets, or a row that does not open: the listing of
		// folder alone says what it says today (it opens no metadata
		// outside folder, and names only the damaged secrets in it).
		return v.list(folder)
	}
	if before != nil {
		if after, err := v.filesDigest(); err == nil && bytes.Equal(after, before) {
			_ = v.writeListCache(before, all, listed)
		}
	}
	return inFolder(all, clean), nil
}

// inFolder keeps the entries of es in folder (all for ""), in place.
func inFolder(es []Entry, folder string) []Entry {
	if folder == "" {
		return es
	}
	out := es[:0]
	for i := range es {
		if InFolder(es[i].Name, folder) {
			out = append(out, es[i])
		}
	}
	return out
}

// list is List without the cache: every row opened and checked.
func (v *Vault) list(folder string) ([]Entry, error) {
	if err := v.checkCurrentScan(true); err != nil {
		return nil, err
	}
	folder, err := CleanFolder(folder)
	if err != nil {
		return nil, err
	}
	// Every live row, its head version and the folders' authenticated
	// counts, in one snapshot: a removed secret's row put back is one more
	// than its folder's count says.
	live, counts, err := v.scanLive(true)
	if err != nil {
		return nil, err
	}
	type count struct {
		found, live int
		mac         []byte
	}
	folders := map[string]*count{}
	var bad []damagedRow
	for i := range live {
		r := &live[i]
		c := folders[string(r.st.folderMAC)]
		if c == nil {
			stored := counts[string(r.st.folderMAC)] // zero when missing: refused below
			c = &count{live: stored.live, mac: stored.mac}
			folders[string(r.st.folderMAC)] = c
		}
		c.found++
		if r.nameCT == nil { // the current version is gone
			bad = append(bad, damagedRow{r.st.id, r.st.head})
		}
	}
	out, err := openSlice(live, func(r *liveRow) (Entry, bool, error) {
		if r.nameCT == nil {
			return Entry{}, false, nil // in bad
		}
		id, head := r.st.id, r.st.head
		name, err := v.openName(id, head, r.epoch, r.nameCT)
		if err != nil {
			return Entry{}, false, err
		}
		if err := v.check(&r.st, name); err != nil {
			return Entry{}, false, err
		}
		if err := checkUpdated(name, r.st.updated, r.updated); err != nil {
			return Entry{}, false, err
		}
		if !InFolder(name, folder) {
			return Entry{}, false, nil
		}
		meta, err := v.openMeta(name, id, head, r.epoch, r.metaCT)
		if err != nil {
			return Entry{}, false, err
		}
		return Entry{ID: idString(id), Name: name, Version: head, Meta: meta,
			Created: time.Unix(0, r.st.created), Updated: time.Unix(0, r.updated)}, true, nil
	})
	if err != nil {
		return nil, err
	}
	if v.hdr.format >= 3 {
		for fm, c := range folders {
			if c.mac == nil || !hmac.Equal(c.mac, v.folderCountMAC([]byte(fm), c.live)) {
				return nil, &TamperError{"the count of secrets in a folder"}
			}
			if c.found != c.live {
				return nil, &TamperError{fmt.Sprintf("a folder holds %d secrets but %d were found: a secret was put back or moved outside hush", c.live, c.found)}
			}
		}
	}
	out = sortByName(out, func(e *Entry) string { return e.Name })
	return out, v.damaged(bad, func(name string) bool { return InFolder(name, folder) })
}

// Children returns the live secrets directly in folder (not below it), with
// their values, sorted by name: what `run --from` and `export` hand out. It
// reads only those rows, through the folder's lookup MAC.
func (v *Vault) Children(folder string) ([]*Secret, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	folder, err := CleanFolder(folder)
	if err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT `+rowColumns+`, v.created, v.epoch, v.name, v.meta, v.value
		FROM secrets s LEFT JOIN versions v ON v.secret_id = s.id AND v.version = s.head
		WHERE s.folder_mac = ? AND s.deleted IS NULL`, v.folderMAC(folder))
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	defer rows.Close()
	var out []*Secret
	var bad []damagedRow
	for rows.Next() {
		var st rowState
		var nameCT, metaCT, valueCT []byte
		s := &Secret{}
		var updatedN, epochN sql.NullInt64
		if err := rows.Scan(append(st.dest(), &updatedN, &epochN, &nameCT, &metaCT, &valueCT)...); err != nil {
			return nil, dbErr("read vault", err)
		}
		if nameCT == nil { // the current version is gone
			bad = append(bad, damagedRow{st.id, st.head})
			continue
		}
		updated := updatedN.Int64
		s.Epoch = int(epochN.Int64)
		id := st.id
		s.Version = st.head
		s.ID, s.Head, s.Created, s.Updated = idString(id), s.Version, time.Unix(0, st.created), time.Unix(0, updated)
		if s.Name, err = v.openName(id, s.Version, s.Epoch, nameCT); err != nil {
			return nil, err
		}
		if err := v.check(&st, s.Name); err != nil {
			return nil, err
		}
		if err := checkUpdated(s.Name, st.updated, updated); err != nil {
			return nil, err
		}
		// The row says what it is (its MAC covers both): an index
		// rebuilt outside hush can hand back a removed row or another
		// folder's, and hide a live one (the count below says so).
		if Folder(s.Name) != folder || st.deleted.Valid {
			return nil, &TamperError{fmt.Sprintf("the folder lookup for %q holds %s (removed or elsewhere): an index of the vault file was rebuilt outside hush", folder, s.Name)}
		}
		if s.Meta, err = v.openMeta(s.Name, id, s.Version, s.Epoch, metaCT); err != nil {
			return nil, err
		}
		if s.Value, err = v.openValue(s.Name, id, s.Version, s.Epoch, valueCT); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("read vault", err)
	}
	rows.Close()
	if err := v.damaged(bad, nil); err != nil {
		for _, s := range out {
			clear(s.Value)
		}
		return nil, err
	}
	// A row whose folder MAC was changed is not among those selected:
	// the folder's authenticated count says one is missing.
	if err := v.checkFolder(v.db, folder, v.folderMAC(folder), len(out)); err != nil {
		for _, s := range out {
			clear(s.Value)
		}
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if err := v.served(); err != nil {
		for _, s := range out {
			clear(s.Value)
		}
		return nil, err
	}
	return out, nil
}

// History lists every version of a secret, oldest first, live or removed.
func (v *Vault) History(name string) ([]VersionInfo, *Secret, error) {
	if err := v.unlocked(name); err != nil {
		return nil, nil, err
	}
	if err := v.checkCurrent(); err != nil {
		return nil, nil, err
	}
	r, err := v.lookup(v.db, name)
	if err != nil {
		return nil, nil, err
	}
	cur, err := v.version(v.db, name, r, r.head, false)
	if err != nil {
		return nil, nil, err
	}
	if err := v.checkGapless(v.db, name, r); err != nil {
		return nil, nil, err
	}
	rows, err := v.db.Query(`SELECT version, epoch, created, name, meta, length(value) FROM versions WHERE secret_id = ? ORDER BY version`, r.id)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	defer rows.Close()
	var out []VersionInfo
	for rows.Next() {
		var n, epoch, size int
		var created int64
		var nameCT, metaCT []byte
		if err := rows.Scan(&n, &epoch, &created, &nameCT, &metaCT, &size); err != nil {
			return nil, nil, dbErr("read vault", err)
		}
		vn, err := v.openName(r.id, n, epoch, nameCT)
		if err != nil {
			return nil, nil, err
		}
		m, err := v.openMeta(name, r.id, n, epoch, metaCT)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, VersionInfo{Version: n, Name: vn, Type: m.Type, Note: m.Note, Size: max(size-crypto.Overhead, 0),
			Created: time.Unix(0, created), Current: n == r.head})
	}
	if err := rows.Err(); err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	return out, cur, nil
}

// Rollback adds a new version equal to version n (value and metadata; the
// name stays the current one). A removed secret comes back. Rolling a
// live secret back to its current version is [ErrCurrentVersion].
func (v *Vault) Rollback(name string, n int) (SetResult, error) {
	return v.rollback(name, n, false)
}

// RollbackValue is [Vault.Rollback] for the value only: the new version
// has version n's value and the metadata the secret has now (rotation,
// tags, note, type...), except what was read from the value itself (a
// certificate's end, a key's fingerprint), which comes with it when the
// type is the same. Restoring the value the secret already holds adds no
// version (Changed false).
func (v *Vault) RollbackValue(name string, n int) (SetResult, error) {
	return v.rollback(name, n, true)
}

func (v *Vault) rollback(name string, n int, valueOnly bool) (SetResult, error) {
	if err := v.unlocked(name); err != nil {
		return SetResult{}, err
	}
	var res SetResult
	err := v.write(func(tx *sql.Tx) error {
		r, err := v.lookup(tx, name)
		if err != nil {
			return err
		}
		if n == r.head && !r.deleted.Valid {
			return fmt.Errorf("version %d of %s %w", n, name, ErrCurrentVersion)
		}
		if err := v.checkGapless(tx, name, r); err != nil {
			return err // never restore across a deleted version (a revocation)
		}
		head, err := v.version(tx, name, r, r.head, valueOnly)
		if err != nil {
			return err
		}
		defer clear(head.Value)
		if err := head.RevokedErr(); err != nil {
			return err // a rollback must not bring a leaked value back
		}
		old, err := v.version(tx, name, r, n, true)
		if err != nil {
			return err
		}
		defer clear(old.Value)
		if err := v.revokedValue(tx, name, r, old.Value, &head.Meta); err != nil {
			return err // a rollback must not bring a leaked value back
		}
		meta := old.Meta
		if valueOnly {
			meta = head.Meta
			meta.Summary, meta.NotAfter = "", time.Time{}
			if old.Type == head.Type {
				meta.Summary, meta.NotAfter = old.Summary, old.NotAfter
			}
			if !r.deleted.Valid && bytes.Equal(old.Value, head.Value) && metaEqual(meta, head.Meta) {
				res = SetResult{Name: name, Version: r.head}
				return nil
			}
		}
		if !r.deleted.Valid && bytes.Equal(old.Value, head.Value) {
			keepClock(&meta, head.Meta, r)
		} else {
			meta.ValueSince = time.Time{} // another value in use: its clock starts
		}
		if err := v.addVersion(tx, r, name, meta, old.Value, time.Now().UnixNano()); err != nil {
			return err
		}
		res = SetResult{Name: name, Version: r.head, Changed: true}
		return nil
	})
	return res, err
}

// Remove hides a live secret; its history stays until [Vault.Purge].
func (v *Vault) Remove(name string) error {
	return v.RemoveMany([]string{name}, nil)
}

// RemoveMany hides several live secrets in one transaction (one change of
// the vault, under the command's one audit entry): all or none. A name
// in optional that has no live secret is passed over; any other is
// [ErrNotFound].
func (v *Vault) RemoveMany(names, optional []string) error {
	all := append(slices.Clone(names), optional...)
	if err := v.unlocked(all...); err != nil {
		return err
	}
	return v.write(func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		for i, name := range all {
			r, err := v.lookup(tx, name)
			if err == nil && r.deleted.Valid {
				err = notFound(name)
			}
			if err != nil {
				if i >= len(names) && errors.Is(err, ErrNotFound) {
					continue
				}
				return err
			}
			if _, err = tx.Exec(`UPDATE secrets SET deleted = ? WHERE id = ?`, now, r.id); err != nil {
				return dbErr("write vault", err)
			}
			if err := v.sealRow(tx, r.id); err != nil {
				return err
			}
		}
		return nil
	})
}

// Purge deletes a secret and every version of it, live or removed. With
// secure_delete on, SQLite zeroes the freed pages. The sealed name cache
// and the sealed listing cache are deleted too, so the name is not kept
// there either.
func (v *Vault) Purge(name string) error {
	return v.PurgeMany([]string{name})
}

// PurgeMany purges several secrets in one transaction: all or none.
func (v *Vault) PurgeMany(names []string) error {
	if err := v.unlocked(names...); err != nil {
		return err
	}
	if !v.memory {
		defer os.Remove(NameCachePath(v.path))
		defer v.dropListCache()
	}
	return v.write(func(tx *sql.Tx) error {
		for _, name := range names {
			r, err := v.lookup(tx, name)
			if errors.Is(err, ErrTampered) {
				// A damaged secret (its current version gone, see
				// DamagedSecretsError) can still be purged by its name's lookup
				// MAC, so the user can set it again.
				var id, folder []byte
				if tx.QueryRow(`SELECT id, folder_mac FROM secrets s WHERE name_mac = ?
					AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.secret_id = s.id AND v.version = s.head)`,
					v.nameMAC(name)).Scan(&id, &folder) == nil {
					r, err = &row{id: id, folder: folder}, nil
				}
			}
			if err != nil {
				return err
			}
			if _, err := tx.Exec(`DELETE FROM versions WHERE secret_id = ?`, r.id); err != nil {
				return dbErr("write vault", err)
			}
			if err := v.deleteRow(tx, r.id); err != nil {
				return err
			}
			if err := v.sealFolder(tx, r.folder); err != nil {
				return err
			}
			if err := v.markPurgedHere(tx, r.id); err != nil {
				return err
			}
		}
		return nil
	})
}

func (v *Vault) ensureFree(tx *sql.Tx, name string) error {
	r, err := v.lookup(tx, name)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if r.deleted.Valid {
		return fmt.Errorf("secret %s was removed but its history is kept: run `hush rm --purge %s` first, or restore it with `hush rollback`: %w", name, name, ErrExists)
	}
	return fmt.Errorf("secret %s %w", name, ErrExists)
}

// Move renames a live secret. The rename is a new version; history stays.
func (v *Vault) Move(from, to string) (SetResult, error) {
	return v.transfer(from, to, func(tx *sql.Tx, r *row, cur *Secret, now int64) (SetResult, error) {
		meta := cur.Meta
		keepClock(&meta, cur.Meta, r) // renamed, not rotated
		err := v.addVersion(tx, r, to, meta, cur.Value, now)
		return SetResult{Name: to, Version: r.head, Changed: true}, err
	})
}

// Copy makes a new secret with the current value and metadata of another.
func (v *Vault) Copy(from, to string) (SetResult, error) {
	return v.transfer(from, to, func(tx *sql.Tx, r *row, cur *Secret, now int64) (SetResult, error) {
		meta := cur.Meta
		keepClock(&meta, cur.Meta, r) // a copy of the value, as old as it
		err := v.insert(tx, to, meta, cur.Value, now)
		return SetResult{Name: to, Version: 1, Created: true, Changed: true}, err
	})
}

// current reads a live secret's row and current version, with its value.
func (v *Vault) current(q querier, name string) (*row, *Secret, error) {
	r, err := v.lookup(q, name)
	if err != nil {
		return nil, nil, err
	}
	if r.deleted.Valid {
		return nil, nil, notFound(name)
	}
	cur, err := v.version(q, name, r, r.head, true)
	if err != nil {
		return nil, nil, err
	}
	return r, cur, nil
}

// transfer runs write with the current version of the live secret from,
// once it is sure that the name to is free, in one transaction.
func (v *Vault) transfer(from, to string, write func(tx *sql.Tx, r *row, cur *Secret, now int64) (SetResult, error)) (SetResult, error) {
	if err := v.unlocked(from, to); err != nil {
		return SetResult{}, err
	}
	var res SetResult
	err := v.write(func(tx *sql.Tx) error {
		r, cur, err := v.current(tx, from)
		if err != nil {
			return err
		}
		if err := v.checkGapless(tx, from, r); err != nil {
			clear(cur.Value)
			return err
		}
		if err := v.ensureFree(tx, to); err != nil {
			clear(cur.Value)
			return err
		}
		defer clear(cur.Value)
		res, err = write(tx, r, cur, time.Now().UnixNano())
		return err
	})
	return res, err
}

// Count returns the number of live secrets. It needs no key; with one, it
// first checks that the vault did not go back in time (see checkCurrent).
func (v *Vault) Count() (int, error) {
	if err := v.checkCurrent(); err != nil {
		return 0, err
	}
	var n int
	err := v.db.QueryRow(`SELECT count(*) FROM secrets WHERE deleted IS NULL`).Scan(&n)
	return n, err
}

// revokedValue returns a *RevokedError when value equals the value of one
// of the secret's revoked versions: a leaked value must not come back as
// current, by set, rollback or a versioned reference. headMeta, when not
// nil, is the head version's metadata as the caller opened it from the
// row lookup read in this transaction (the same bytes the query below
// reads): it is not opened again.
func (v *Vault) revokedValue(q querier, name string, r *row, value []byte, headMeta *Meta) error {
	return v.revokedValueIn(q, name, r, value, headMeta, false, nil)
}

// revokedValueIn is revokedValue; with read, versions are the secret's
// stored versions as [Vault.prefetch] read them (in this transaction,
// before the write changed the secret), checked here for gaps as
// checkGapless checks them in SQL, instead of read again.
func (v *Vault) revokedValueIn(q querier, name string, r *row, value []byte, headMeta *Meta, read bool, versions []sealedMeta) error {
	if read {
		if err := gapless(name, r, versions); err != nil {
			return err
		}
	} else {
		if err := v.checkGapless(q, name, r); err != nil {
			return err // a deleted revocation must not let its value back
		}
		rows, err := q.Query(`SELECT version, epoch, meta FROM versions WHERE secret_id = ?`, r.id)
		if err != nil {
			return dbErr("read vault", err)
		}
		for rows.Next() {
			var m sealedMeta
			if err := rows.Scan(&m.n, &m.epoch, &m.meta); err != nil {
				rows.Close()
				return err
			}
			versions = append(versions, m)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return dbErr("read vault", err)
		}
	}
	type revoked struct {
		n, epoch int
		rev      Revocation
	}
	var list []revoked
	for _, sv := range versions {
		n, epoch, ct := sv.n, sv.epoch, sv.meta
		var m Meta
		var err error
		if n == r.head && headMeta != nil && epoch == r.headVer.epoch && bytes.Equal(ct, r.headVer.meta) {
			m = *headMeta
		} else if m, err = v.openMeta(name, r.id, n, epoch, ct); err != nil {
			return err
		}
		if m.Revoked != nil {
			list = append(list, revoked{n, epoch, *m.Revoked})
		}
	}
	for _, x := range list {
		s, err := v.version(q, name, r, x.n, true)
		if err != nil {
			return err
		}
		same := subtle.ConstantTimeCompare(s.Value, value) == 1
		clear(s.Value)
		if same {
			return &RevokedError{Name: name, Revocation: x.rev, OldValue: true}
		}
	}
	return nil
}

// RevokedValue reports (as a *RevokedError) whether value is one that was
// revoked for the secret name.
func (v *Vault) RevokedValue(name string, value []byte) error {
	if err := v.unlocked(name); err != nil {
		return err
	}
	r, err := v.lookup(v.db, name)
	if err != nil {
		return err
	}
	return v.revokedValue(v.db, name, r, value, nil)
}
