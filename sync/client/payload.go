package client

import (
	"cmp"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// payload is a record's plaintext: one secret's state.
type payload struct {
	Deleted bool // with no Name: a removal without content
	Name    string
	Meta    vault.Meta
	Value   []byte
	// was: a removal's last name here, if known (not sent): its record
	// goes into that name's folder scope.
	was string
	// old: opened with PrevKey (a record of the epoch before, taken in to
	// be sealed again); not sent.
	old bool
}

const payloadVersion = 1

// encode writes: version byte, flags byte, then name, meta JSON and value,
// each with a 4-byte length; then 0x80 and zeros up to a size bucket, so
// the server learns a size class, not a length.
func (p *payload) encode() ([]byte, error) {
	var meta []byte
	if p.Name != "" {
		var err error
		if meta, err = json.Marshal(p.Meta); err != nil {
			return nil, err
		}
	}
	b := []byte{payloadVersion, 0}
	if p.Deleted {
		b[1] = 1
	}
	for _, f := range [][]byte{[]byte(p.Name), meta, p.Value} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	b = append(b, 0x80)
	size := bucket(len(b))
	return append(b, make([]byte, size-len(b))...), nil
}

// bucket is the padded size for n bytes: powers of two from 256 bytes to
// 64 KiB, then multiples of 64 KiB.
func bucket(n int) int {
	size := 256
	for size < n && size < 64<<10 {
		size *= 2
	}
	if n > size {
		size = (n + 64<<10 - 1) / (64 << 10) * (64 << 10)
	}
	return size
}

var errPayload = errors.New("record payload is malformed")

func decodePayload(b []byte) (*payload, error) {
	// Strip the padding: the last 0x80 after trailing zeros.
	end := len(b) - 1
	for end >= 0 && b[end] == 0 {
		end--
	}
	if end < 2 || b[end] != 0x80 || b[0] != payloadVersion || b[1] > 1 {
		return nil, errPayload
	}
	p := &payload{Deleted: b[1] == 1}
	rest := b[2:end]
	var fields [3][]byte
	for i := range fields {
		if len(rest) < 4 {
			return nil, errPayload
		}
		n := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(n) > uint64(len(rest)) {
			return nil, errPayload
		}
		fields[i], rest = rest[:n], rest[n:]
	}
	if len(rest) != 0 {
		return nil, errPayload
	}
	p.Name = string(fields[0])
	if p.Name != "" {
		if err := json.Unmarshal(fields[1], &p.Meta); err != nil {
			return nil, errPayload
		}
		if err := vault.ValidName(p.Name); err != nil {
			return nil, fmt.Errorf("%w: %v", errPayload, err)
		}
	} else if !p.Deleted || len(fields[1]) != 0 || len(fields[2]) != 0 {
		return nil, errPayload
	}
	p.Value = append([]byte(nil), fields[2]...)
	return p, nil
}

// seal builds and signs a record of p at version.
func (st *State) seal(id string, version int64, p *payload) (*wire.Record, error) {
	return st.sealWith(id, version, p, st.signer())
}

// sealWith is seal with this device's signing key already derived from its
// seed (a push derives it once, not once per record).
func (st *State) sealWith(id string, version int64, p *payload, signer ed25519.PrivateKey) (*wire.Record, error) {
	// The record's scope: the deepest above its name (a removal's, the
	// name it had here; unknown: the root).
	scope := ""
	folders, err := st.scopeFolders()
	if err != nil {
		return nil, err
	}
	if name := cmp.Or(p.Name, p.was); folders != nil && name != "" {
		scope = wire.DeepestScope(folders, name)
	}
	key, epoch, err := st.sealKey(scope)
	if err != nil {
		return nil, err
	}
	defer key.Wipe()
	if scope == "" {
		epoch = st.Epoch
	} else {
		epoch = st.ScopeKeys[scope].Epoch
	}
	pt, err := p.encode()
	if err != nil {
		return nil, err
	}
	defer crypto.Wipe(pt)
	r := &wire.Record{ID: id, Version: version, Epoch: epoch, Author: st.Device.ID, Scope: scope}
	if st.Members != nil {
		r.LogSeq = st.Members.Seq
	}
	if r.Sealed, err = crypto.Seal(key, pt, wire.ScopedRecordAD(st.Team, scope, id, version, epoch)); err != nil {
		return nil, err
	}
	r.Sig = crypto.SignEd25519Many(signer, wire.RecordSigned(st.Team, r))
	return r, nil
}

// open authenticates and decrypts a record: its signature by a device the
// verified membership log lists, which could write at the log position the
// record was written at; its place (team, id, version, epoch); its payload.
// A record sealed under another than the current epoch is refused: after
// a member left, only what was sealed again under the new key counts.
func (st *State) open(r *wire.Record) (*payload, error) { return st.openRecord(r, false) }

// openRecord is open; vouched means the record is exactly what a chain
// entry names whose signature by the same author, over the same id,
// version, epoch, ciphertext hash and log position, was verified: the
// record's own signature then says nothing more, and is not checked again
// (half of a pull's signature checks).
func (st *State) openRecord(r *wire.Record, vouched bool) (*payload, error) {
	if err := r.Check(); err != nil {
		return nil, &BadRecordError{r.ID, err.Error()}
	}
	m := st.Members
	if m == nil {
		return nil, &BadRecordError{r.ID, "this device has not verified the team's members yet"}
	}
	a, ok := m.Devices[r.Author]
	if !ok {
		return nil, &BadRecordError{r.ID, "signed by a device that is not in the team's membership log"}
	}
	if r.LogSeq > m.Seq {
		return nil, &logAheadError{BadRecordError{r.ID, "written at a membership log position this device has not seen"}}
	}
	if r.Scope != "" {
		return st.openScoped(r, a, vouched)
	}
	if role, in := a.RoleAt(r.LogSeq); !in || !wire.CanWrite(role) {
		return nil, &BadRecordError{r.ID, fmt.Sprintf("written by %s, who could not write at that point", a.Name)}
	}
	if len(m.RootOff) > 0 {
		if _, in := m.RoleOn(a.Member, "", r.LogSeq); !in {
			return nil, &BadRecordError{r.ID, fmt.Sprintf("written by %s, who did not hold the team's root scope at that point", a.Name)}
		}
	}
	if !vouched && !verifyRecord(st, a.SignKey, r) {
		return nil, &BadRecordError{r.ID, "its signature does not check out"}
	}
	if r.Epoch != m.Epoch {
		if pk := st.PrevKey; pk != nil && r.Epoch == pk.Epoch && m.Epoch == pk.Next && r.LogSeq < m.EpochSeq && !a.Expired(st.now()) {
			// Written under the epoch before, before this one began, by
			// a device that could write then: this device (the admin
			// that began this epoch) takes it in and seals it again.
			key, _, err := recordKey(st.Team, pk.Key)
			if err != nil {
				return nil, err
			}
			defer key.Wipe()
			p, err := st.openPayload(r, key, a)
			if p != nil {
				p.old = true
			}
			return p, err
		}
		return nil, &StaleRecordError{r.ID, r.Epoch, m.Epoch}
	}
	if a.Expired(st.now()) {
		return nil, &expiredAuthorError{StaleRecordError{r.ID, r.Epoch, m.Epoch}, a.Name}
	}
	// A record sealed under this epoch was written after it began: a
	// demoted writer who still holds the key cannot backdate a record to
	// when it could write (demotion starts a new epoch).
	if r.LogSeq < m.EpochSeq {
		return nil, &BadRecordError{r.ID, fmt.Sprintf("it claims log position %d, before its key epoch began at %d", r.LogSeq, m.EpochSeq)}
	}
	keyBytes, ok := st.Keys[r.Epoch]
	if !ok {
		return nil, &BadRecordError{r.ID, fmt.Sprintf("sealed under key epoch %d, which this device does not hold", r.Epoch)}
	}
	key, _, err := recordKey(st.Team, keyBytes)
	if err != nil {
		return nil, err
	}
	defer key.Wipe()
	return st.openPayload(r, key, a)
}

// openScoped is openRecord for a record of a folder scope: its author
// could write that scope at its log position, it is sealed under the
// scope's current epoch, begun before it was written, with the scope's key
// this device holds.
func (st *State) openScoped(r *wire.Record, a *wire.LogDevice, vouched bool) (*payload, error) {
	m := st.Members
	s, ok := m.Scopes[r.Scope]
	if !ok {
		return nil, &BadRecordError{r.ID, "it belongs to a scope the team's membership log does not have"}
	}
	if role, in := m.RoleOn(a.Member, r.Scope, r.LogSeq); !in || !wire.CanWrite(role) {
		return nil, &BadRecordError{r.ID, fmt.Sprintf("written by %s, who could not write its scope at that point", a.Name)}
	}
	if !vouched && !verifyRecord(st, a.SignKey, r) {
		return nil, &BadRecordError{r.ID, "its signature does not check out"}
	}
	if r.Epoch != s.Epoch {
		return nil, &StaleRecordError{r.ID, r.Epoch, s.Epoch}
	}
	if a.Expired(st.now()) {
		return nil, &expiredAuthorError{StaleRecordError{r.ID, r.Epoch, s.Epoch}, a.Name}
	}
	if r.LogSeq < s.EpochSeq {
		return nil, &BadRecordError{r.ID, fmt.Sprintf("it claims log position %d, before its scope's key epoch began at %d", r.LogSeq, s.EpochSeq)}
	}
	sk, ok := st.ScopeKeys[r.Scope]
	if !ok || sk.Epoch != r.Epoch {
		return nil, &BadRecordError{r.ID, "sealed under the key of a scope this device does not hold"}
	}
	key, _, err := recordKey(st.Team, sk.Key)
	if err != nil {
		return nil, err
	}
	defer key.Wipe()
	return st.openPayload(r, key, a)
}

// openPayload decrypts a record whose place is checked, and checks that
// it belongs to the scope it was served as: the deepest scope above its
// name as the log stood when it was written. (The server cannot serve a
// record of one scope as another's: the key would not open it, and if
// it did the name would not match.)
//
// From here on the author's signature (or the chain entry's that vouches
// for the record) covers the ciphertext's hash and the scope: what fails
// now is what its author wrote, not something the server changed
// (UnreadableRecordError).
func (st *State) openPayload(r *wire.Record, key *crypto.Key, a *wire.LogDevice) (*payload, error) {
	pt, err := crypto.Open(key, r.Sealed, wire.ScopedRecordAD(st.Team, r.Scope, r.ID, r.Version, r.Epoch))
	if err != nil {
		return nil, &UnreadableRecordError{BadRecordError{r.ID, "its ciphertext failed authentication"}, a.Name, a.Member, 0}
	}
	defer crypto.Wipe(pt)
	p, err := decodePayload(pt)
	if err != nil {
		return nil, &UnreadableRecordError{BadRecordError{r.ID, err.Error()}, a.Name, a.Member, 0}
	}
	if p.Name != "" && (r.Scope != "" || len(st.Members.Scopes) > 0) {
		folders, err := st.scopeFolders()
		if err != nil {
			return nil, err
		}
		if want := wire.DeepestScope(foldersAt(st.Members, folders, r.LogSeq), p.Name); want != r.Scope {
			clear(p.Value)
			return nil, &UnreadableRecordError{BadRecordError{r.ID, "it was served as a record of another scope than its name's"}, a.Name, a.Member, 0}
		}
		// Its name has been carved into a deeper scope since it was
		// written: the carve's re-seal, by the admin who made the scope,
		// is the version to take (the server serves a record's newest
		// version, so an honest one comes only in the moment before that
		// re-seal). Taken, it would let a writer of the folder, dating a
		// record before the carve, plant a secret in the scope carved out
		// of it and taken from her (attack22 B2): it is skipped, as a
		// record of an old key is.
		if now := wire.DeepestScope(folders, p.Name); now != r.Scope {
			clear(p.Value)
			return nil, &carvedError{StaleRecordError{r.ID, r.Epoch, r.Epoch}, a.Name, a.Member}
		}
	}
	return p, nil
}

// BadRecordError is a record from the server that does not authenticate:
// the server or the network changed it. Nothing of it is applied.
type BadRecordError struct {
	ID     string
	Reason string
}

func (e *BadRecordError) Error() string {
	return fmt.Sprintf("the server sent record %s that cannot be trusted: %s", e.ID, e.Reason)
}

// StaleRecordError is a record sealed under an old key epoch: not applied
// (a re-sealed version follows once an admin's sync has run).
type StaleRecordError struct {
	ID          string
	Epoch, Want int64
}

func (e *StaleRecordError) Error() string {
	return fmt.Sprintf("record %s is sealed under key epoch %d, but the team is at epoch %d", e.ID, e.Epoch, e.Want)
}

// carvedError: a record dated before a deeper scope was carved out of
// its folder for its name, which the carve's re-seal supersedes (skipped
// as a stale record, and said apart).
type carvedError struct {
	StaleRecordError
	device, member string // its author
}

func (e *carvedError) Error() string {
	return fmt.Sprintf("record %s: written by %s before its name's folder became a scope of its own", e.ID, e.device)
}

func (e *carvedError) Unwrap() error { return &e.StaleRecordError }

// logAheadError is a record written after a membership change this device
// has not fetched yet: an honest race (the log moved between this sync's
// log fetch and its pull), or a lie. Sync fetches the log once more.
type logAheadError struct{ BadRecordError }

// UnreadableRecordError is a record its author signed (its signature, or
// its chain entry's, covers the ciphertext's hash and its scope) that does
// not open under the epoch's key, or holds a name outside its scope: the
// author wrote it so, a broken or hostile device of the team. On the
// chain it is skipped and reported (Report.Unreadable), not a reason to
// stop: one writer must not be able to stop the team's sync.
type UnreadableRecordError struct {
	BadRecordError
	Device, Member string // the author
	// Version is the version its author signed, when that is not the
	// record's (a bad move hidden behind later versions): 0 otherwise.
	Version int64
}

func (e *UnreadableRecordError) Unwrap() error { return &e.BadRecordError }
