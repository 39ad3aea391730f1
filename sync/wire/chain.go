package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/internal/par"
)

// The change chain (sync v2, docs/sync.md "The change chain"): every
// accepted change extends one team-wide hash chain; each entry commits to
// the previous entry's hash and to the record it names, and is signed by
// the device that wrote it. A client checks that what it pulls extends the
// position and hash it verified, entry by entry, so that order and
// completeness are signed by writers, not asserted by the server.
//
// This file is the format, the wire messages of the v2 endpoints (POST
// /v2/push, GET /v2/chain) and the verifier the client runs.

// Kinds of chain entries.
const (
	ChainRecord = "record" // a record's new version
	ChainBase   = "base"   // entry 1 of a team that migrated from v1: a snapshot
)

// ChainEntry is one signed entry of the change chain.
type ChainEntry struct {
	Pos        int64     `json:"pos"`  // 1, 2, 3, … team-wide, no gaps
	Prev       []byte    `json:"prev"` // hash of entry Pos-1 (32 zero bytes at 1)
	Kind       string    `json:"kind"`
	ID         string    `json:"id,omitempty"` // record
	Version    int64     `json:"version,omitempty"`
	Epoch      int64     `json:"epoch,omitempty"`
	SealedHash []byte    `json:"sealed_hash"` // SHA-256 of the sealed record, or of the snapshot (base)
	LogSeq     int64     `json:"log_seq"`     // the membership log position the author wrote at
	Time       time.Time `json:"time"`        // the author's clock, whole seconds
	// PushFirst and PushLast are the positions of the first and the last
	// entry of the push this entry came in (docs/sync.md, "Whole
	// pushes"): every entry of a push names them, signed, so that a
	// client knows when it holds a whole push and applies none of one
	// cut short. Both 0 in an entry written before push marks: a push of
	// its own.
	PushFirst int64  `json:"push_first,omitempty"`
	PushLast  int64  `json:"push_last,omitempty"`
	Author    string `json:"author"`
	Sig       []byte `json:"sig"`
	// Scope: the record's folder scope id ("": the root), signed only
	// when set so that entries before scopes keep their hashes. A device
	// expects the record of an entry only for a scope it holds.
	Scope string `json:"scope,omitempty"`
	// ScopePrev and ScopeLast link the entry into its scope's own chain
	// (docs/sync.md, "Scope links"): ScopePrev is the position and hash
	// of the previous entry of the same scope (position 0: the first of
	// it), ScopeLast the position of the last entry of the same scope in
	// this push. A device that holds some scopes fetches only their
	// entries and verifies them as a chain of their own, whole push by
	// whole push. Nil and 0 in an entry written before scope links
	// (unlinked); signed when set, so a link can be neither stripped nor
	// added.
	ScopePrev *ChainCursor `json:"scope_prev,omitempty"`
	ScopeLast int64        `json:"scope_last,omitempty"`
}

// Linked reports whether the entry carries a scope link.
func (e *ChainEntry) Linked() bool { return e.ScopePrev != nil }

// ChainCursor is a position in the chain and the hash of the entry there,
// as a device verified them. The zero cursor is before entry 1.
type ChainCursor struct {
	Pos  int64  `json:"pos"`
	Hash []byte `json:"hash,omitempty"`
}

// prevHash is what the entry after c names as its predecessor.
func (c ChainCursor) prevHash() []byte {
	if c.Pos == 0 {
		return make([]byte, sha256.Size)
	}
	return c.Hash
}

func (e *ChainEntry) signed(team string) []byte {
	var b []byte
	if e.PushLast != 0 || e.PushFirst != 0 {
		// An entry with push marks signs them under another label: a
		// signature of one form never verifies as the other, so marks can
		// be neither stripped nor added.
		b = crypto.AD("hush/v2/chain-entry/pushes", team, e.Pos, e.Prev, e.Kind, e.ID, e.Version, e.Epoch, e.SealedHash,
			e.LogSeq, e.Time.UTC().Format(time.RFC3339), e.PushFirst, e.PushLast, e.Author)
	} else {
		b = crypto.AD("hush/v2/chain-entry", team, e.Pos, e.Prev, e.Kind, e.ID, e.Version, e.Epoch, e.SealedHash,
			e.LogSeq, e.Time.UTC().Format(time.RFC3339), e.Author)
	}
	if e.Scope != "" {
		// A folder scope's entry signs its scope id after the rest (the
		// encoding is length-prefixed parts: two more parts, never equal
		// to an entry without them).
		b = append(b, crypto.AD("scope", e.Scope)...)
	}
	if e.ScopePrev != nil {
		// The scope link, after the rest for the same reason: an entry
		// written before links keeps its exact encoding and hash.
		b = append(b, crypto.AD("scope-link", e.ScopePrev.Pos, e.ScopePrev.prevHash(), e.ScopeLast)...)
	}
	return b
}

// Hash is what the next entry's Prev names: it covers the content and the
// signature, as the membership log's hash does.
func (e *ChainEntry) Hash(team string) []byte {
	h := sha256.New()
	h.Write(e.signed(team))
	h.Write(e.Sig)
	return h.Sum(nil)
}

// Sign signs the entry as author. One signature costs least without a
// base-point table (crypto.SignEd25519); a push of many entries pays for
// one once and each signature then costs a fraction
// (crypto.SignEd25519Many): see SignOneOf. Both give the same signature.
func (e *ChainEntry) Sign(team, author string, key ed25519.PrivateKey) {
	e.Author = author
	e.Sig = crypto.SignEd25519(key.Seed(), e.signed(team))
}

// SignOneOf signs the entry as author, as one of n signed together.
func (e *ChainEntry) SignOneOf(n int, team, author string, key ed25519.PrivateKey) {
	if n < 32 {
		e.Sign(team, author, key)
		return
	}
	e.Author = author
	e.Sig = crypto.SignEd25519Many(key, e.signed(team))
}

// NextEntry is the record entry that extends the chain at c with r, at the
// author's time t (signed afterwards with Sign), without push marks: a
// push of one written before them. A push names its marks with InPush.
func NextEntry(c ChainCursor, r *Record, t time.Time) ChainEntry {
	h := sha256.Sum256(r.Sealed)
	return ChainEntry{Pos: c.Pos + 1, Prev: c.prevHash(), Kind: ChainRecord, ID: r.ID, Version: r.Version, Epoch: r.Epoch,
		SealedHash: h[:], LogSeq: r.LogSeq, Time: t.UTC().Truncate(time.Second), Author: r.Author, Scope: r.Scope}
}

// InPush marks e as one of the n entries of a push on the chain at prev
// (before it is signed).
func (e *ChainEntry) InPush(prev ChainCursor, n int) {
	e.PushFirst, e.PushLast = prev.Pos+1, prev.Pos+int64(n)
}

// check validates an entry's shape (not its place or signature).
func (e *ChainEntry) check() string {
	if msg := e.checkLink(); msg != "" {
		return msg
	}
	switch {
	case e.Pos < 1:
		return "its position is not positive"
	case len(e.Prev) != sha256.Size:
		return "its link to the previous entry is not a SHA-256 hash"
	case len(e.SealedHash) != sha256.Size:
		return "its content hash is not a SHA-256 hash"
	case !ValidID(e.Author):
		return "its author is not a device id"
	case len(e.Sig) != ed25519.SignatureSize:
		return "it is not signed"
	case e.LogSeq < 1:
		return "it names no membership log position"
	case (e.PushFirst != 0 || e.PushLast != 0) && (e.PushFirst < 1 || e.PushFirst > e.Pos || e.PushLast < e.Pos):
		return fmt.Sprintf("it names a push from entry %d to %d, which does not hold it", e.PushFirst, e.PushLast)
	case e.PushLast-e.PushFirst >= MaxPushRecords:
		return fmt.Sprintf("it names a push of %d entries (at most %d)", e.PushLast-e.PushFirst+1, MaxPushRecords)
	}
	switch e.Kind {
	case ChainRecord:
		if !ValidID(e.ID) || e.Version < 1 || e.Epoch < 1 || e.Scope != "" && !ValidID(e.Scope) {
			return "it names no valid record"
		}
	case ChainBase:
		if e.Pos != 1 || e.ID != "" || e.Version != 0 || e.Epoch != 0 || e.PushLast > 1 || e.Scope != "" {
			return "a base entry is entry 1 and names no record"
		}
	default:
		return fmt.Sprintf("its kind %q is unknown", e.Kind)
	}
	return ""
}

func (e *ChainEntry) checkLink() string {
	if e.ScopePrev == nil {
		if e.ScopeLast != 0 {
			return "it names the end of its scope's part of a push without a scope link"
		}
		return ""
	}
	p := e.ScopePrev
	switch {
	case e.Kind != ChainRecord:
		return "only a record entry has a scope link"
	case p.Pos < 0 || p.Pos >= e.Pos:
		return fmt.Sprintf("its scope link names entry %d, which is not before it", p.Pos)
	case p.Pos == 0 && len(p.Hash) != 0 && !bytes.Equal(p.Hash, make([]byte, sha256.Size)):
		return "its scope link names no entry but carries a hash"
	case p.Pos > 0 && len(p.Hash) != sha256.Size:
		return "its scope link is not a SHA-256 hash"
	case e.PushLast == 0:
		return "it has a scope link but no push marks"
	case e.ScopeLast < e.Pos || e.ScopeLast > e.PushLast:
		return fmt.Sprintf("it names entry %d as its scope's last in a push of entries %d to %d", e.ScopeLast, e.PushFirst, e.PushLast)
	}
	return ""
}

// ScopeHeads is the last entry of each scope (by scope id; "" is the
// root) in a chain as a device verified it: what the next entry of that
// scope links to.
type ScopeHeads map[string]ChainCursor

// Clone is a copy of h that can be changed without changing h.
func (h ScopeHeads) Clone() ScopeHeads {
	c := make(ScopeHeads, len(h))
	for k, v := range h {
		c[k] = v
	}
	return c
}

// Follow moves the head of e's scope to e (whose hash is hash).
func (h ScopeHeads) Follow(e *ChainEntry, hash []byte) {
	if e.Kind == ChainRecord {
		h[e.Scope] = ChainCursor{Pos: e.Pos, Hash: hash}
	} else {
		h[""] = ChainCursor{Pos: e.Pos, Hash: hash} // a base: the root's records
	}
}

// LinkPush sets the scope links of a push's entries (positions set, not
// yet signed): each links to the head of its scope in h, or to the entry
// of its scope before it in the push, whose hash is only known once it is
// signed; so entries are linked, signed and followed one by one with
// LinkNext. LinkPush sets each entry's ScopeLast, which needs the whole
// push.
func LinkPush(entries []ChainEntry) {
	last := map[string]int64{}
	for i := range entries {
		last[entries[i].Scope] = entries[i].Pos
	}
	for i := range entries {
		entries[i].ScopeLast = last[entries[i].Scope]
	}
}

// LinkNext sets e's scope link to the head of its scope in h.
func (h ScopeHeads) LinkNext(e *ChainEntry) {
	c := h[e.Scope]
	e.ScopePrev = &ChainCursor{Pos: c.Pos, Hash: c.Hash}
	if c.Pos == 0 {
		e.ScopePrev.Hash = nil
	}
}

// CheckLink checks e's scope link against the head of its scope in h:
// the FaultGap, FaultReplaced or FaultReorder it shows, or nil.
func (h ScopeHeads) CheckLink(e *ChainEntry) error {
	if e.ScopePrev == nil {
		return nil
	}
	c := h[e.Scope]
	p := e.ScopePrev
	switch {
	case p.Pos > c.Pos:
		return &ChainError{FaultGap, e.Pos, fmt.Sprintf("it follows entry %d of its scope, but the last entry of its scope this device has is %d: the entries between were not sent", p.Pos, c.Pos)}
	case p.Pos < c.Pos:
		return &ChainError{FaultReplaced, e.Pos, fmt.Sprintf("it follows entry %d of its scope, but entry %d of its scope came before it: another history", p.Pos, c.Pos)}
	case p.Pos > 0 && !bytes.Equal(p.Hash, c.Hash):
		return &ChainError{FaultReplaced, e.Pos, "it does not follow the entry of its scope this device verified before it"}
	}
	return nil
}

// Matches reports whether r is the record e names, byte for byte.
func (e *ChainEntry) Matches(r *Record) bool {
	h := sha256.Sum256(r.Sealed)
	return e.Kind == ChainRecord && r.ID == e.ID && r.Version == e.Version && r.Epoch == e.Epoch &&
		r.Author == e.Author && r.LogSeq == e.LogSeq && r.Scope == e.Scope && bytes.Equal(h[:], e.SealedHash)
}

// ChainFault is the class of a chain check that failed.
type ChainFault string

// What a chain check can find.
const (
	FaultGap       ChainFault = "a gap"             // an entry is missing
	FaultReorder   ChainFault = "a reorder"         // entries out of order, or one already verified again
	FaultReplaced  ChainFault = "a replaced entry"  // an entry that does not link to the one before: another history
	FaultSignature ChainFault = "an unsigned entry" // not signed by a device that could write there
	FaultMalformed ChainFault = "a malformed entry"
	FaultMismatch  ChainFault = "a record that is not its entry"           // a record that differs from the entry that names it
	FaultWithheld  ChainFault = "a withheld record"                        // an entry whose record never came
	FaultPushMark  ChainFault = "a forged push mark"                       // entries of one push that name different pushes
	FaultPushCut   ChainFault = "a push cut short"                         // the server stops inside a push
	FaultBackdated ChainFault = "an entry dated before the one it follows" // a membership log position below the previous entry's
)

// ErrChain matches every *ChainError with errors.Is.
var ErrChain = errors.New("the team server's change chain does not verify")

// ChainError says which chain check failed, and where.
type ChainError struct {
	Fault ChainFault
	Pos   int64 // the entry's position (0: not about one position)
	Msg   string
}

func (e *ChainError) Error() string {
	at := ""
	if e.Pos > 0 {
		at = fmt.Sprintf(" at position %d", e.Pos)
	}
	return fmt.Sprintf("the team server's change chain has %s%s: %s. Nothing of this answer was applied (pages before it that checked out were); run `hush team verify` and compare with a teammate", e.Fault, at, e.Msg)
}

func (e *ChainError) Is(target error) bool { return target == ErrChain }

// ChainSigners gives the signing key of a device that could write records
// at membership log position logSeq (nil: none could), and, for a base
// entry, of one that was an admin there.
type ChainSigners func(author string, logSeq int64, kind string) ed25519.PublicKey

// VerifyChain checks that entries extend the chain at from, entry by entry
// (position, link, shape, signature), and returns the cursor at the last
// one. On failure it returns from and the first fault.
func VerifyChain(team string, from ChainCursor, entries []ChainEntry, signers ChainSigners) (ChainCursor, error) {
	return VerifyChainKnown(team, from, entries, signers, nil)
}

// VerifyChainKnown is VerifyChain, except that an entry whose hash is the
// one known names for its position needs no signature check: the device
// signed exactly that entry itself. Links are checked in order;
// signatures, most of the cost, on every core; the fault reported is the
// one at the lowest position either way.
func VerifyChainKnown(team string, from ChainCursor, entries []ChainEntry, signers ChainSigners, known map[int64][]byte) (ChainCursor, error) {
	at := from
	var linkErr error
	n := len(entries)
	hashes := make([][]byte, n)
	for i := range entries {
		e := &entries[i]
		if e.Pos != at.Pos+1 {
			fault := FaultGap
			if e.Pos <= at.Pos {
				fault = FaultReorder
			}
			for j := i + 1; j < len(entries); j++ {
				if entries[j].Pos == at.Pos+1 {
					fault = FaultReorder
				}
			}
			linkErr, n = &ChainError{fault, at.Pos + 1, fmt.Sprintf("expected entry %d, got entry %d", at.Pos+1, e.Pos)}, i
			break
		}
		if msg := e.check(); msg != "" {
			linkErr, n = &ChainError{FaultMalformed, e.Pos, msg}, i
			break
		}
		if !bytes.Equal(e.Prev, at.prevHash()) {
			linkErr, n = &ChainError{FaultReplaced, e.Pos, "it does not follow the entry this device verified before it"}, i
			break
		}
		hashes[i] = e.Hash(team)
		at = ChainCursor{Pos: e.Pos, Hash: hashes[i]}
	}
	// The entries before the first broken link: a bad signature among
	// them is the first fault.
	if err := par.Do(n, func(i int) error {
		e := &entries[i]
		if h, ok := known[e.Pos]; ok && bytes.Equal(h, hashes[i]) {
			return nil
		}
		key := signers(e.Author, e.LogSeq, e.Kind)
		if len(key) != ed25519.PublicKeySize || !crypto.VerifyEd25519(key, e.signed(team), e.Sig) {
			return &ChainError{FaultSignature, e.Pos, "it is not signed by a device of the team that could write there"}
		}
		return nil
	}); err != nil {
		return from, err
	}
	if linkErr != nil {
		return from, linkErr
	}
	return at, nil
}

// CheckLogOrder checks that entries (verified by VerifyChain, in order)
// never name a membership log position below the one before them; floor
// is the log position of the entry at the cursor they extend (0: none
// known). An honest server takes a push only at the current log position,
// which only grows: an entry dated before the one it follows was written
// on another history, or by a device that claims a time when it could
// still write (a removed member's key).
func CheckLogOrder(floor int64, entries []ChainEntry) error {
	for i := range entries {
		e := &entries[i]
		if e.LogSeq < floor {
			return &ChainError{FaultBackdated, e.Pos, fmt.Sprintf("it names membership log position %d, but the entry before it was written at %d", e.LogSeq, floor)}
		}
		floor = e.LogSeq
	}
	return nil
}

// PushMarks follows the pushes of a chain as a client verifies it, page
// after page: every entry of a push names the same first and last
// position and the same author, the first entry of a push names itself as
// the first, and an entry without marks (written before them) is a push
// of its own. The zero PushMarks is at the end of a push, where a
// client's saved cursor always is.
type PushMarks struct {
	first, last int64 // the push open after the entries checked so far (0: none)
	author      string
}

// Check checks the marks of entries that VerifyChain verified, in order,
// right after those checked before.
func (m *PushMarks) Check(entries []ChainEntry) error {
	for i := range entries {
		e := &entries[i]
		if m.last > 0 {
			if e.PushFirst != m.first || e.PushLast != m.last || e.Author != m.author {
				return &ChainError{FaultPushMark, e.Pos, fmt.Sprintf("the push of entries %d to %d by one device is not what it names (%s)", m.first, m.last, e.marks())}
			}
		} else if e.PushLast != 0 && e.PushFirst != e.Pos {
			return &ChainError{FaultPushMark, e.Pos, fmt.Sprintf("it names a push that began at entry %d, but the push before it ended at entry %d", e.PushFirst, e.Pos-1)}
		}
		if e.PushLast > e.Pos {
			m.first, m.last, m.author = e.PushFirst, e.PushLast, e.Author
		} else {
			m.first, m.last, m.author = 0, 0, ""
		}
	}
	return nil
}

func (e *ChainEntry) marks() string {
	if e.PushLast == 0 {
		return "it names no push"
	}
	return fmt.Sprintf("it names a push from entry %d to %d", e.PushFirst, e.PushLast)
}

// Open is the push the entries checked so far end inside (first and last
// position; 0, 0: they end at the end of a push). A client applies none
// of it until the rest comes.
func (m *PushMarks) Open() (first, last int64) { return m.first, m.last }

// ChainRecords checks the records of a pull against its verified entries,
// page by page: each record is exactly what the newest entry of its id
// names, and no record an entry names is left out. Records overwritten by
// a later entry (in a later page) are not expected.
type ChainRecords struct {
	pending map[string]*ChainEntry // id: the newest entry whose record has not come
	came    map[string]bool        // ids whose record came for their newest entry
	// Holds says whether the device holds a folder scope (nil: every
	// one): the record of an entry of a scope it does not hold is not
	// expected, and not accepted.
	Holds func(scope string) bool
}

// Page checks one page's records against its entries (already verified).
func (c *ChainRecords) Page(entries []ChainEntry, records []Record) error {
	if c.pending == nil {
		c.pending = map[string]*ChainEntry{}
	}
	if c.came == nil { // Base may have made pending alone
		c.came = map[string]bool{}
	}
	for i := range entries {
		if entries[i].Kind == ChainRecord {
			delete(c.came, entries[i].ID)
			if c.Holds != nil && !c.Holds(entries[i].Scope) {
				delete(c.pending, entries[i].ID) // out of this device's scopes now
				continue
			}
			c.pending[entries[i].ID] = &entries[i] // a later entry replaces an earlier expectation
		}
	}
	for i := range records {
		r := &records[i]
		e, ok := c.pending[r.ID]
		switch {
		case !ok && c.came[r.ID]:
			return &ChainError{FaultMismatch, 0, fmt.Sprintf("record %s came twice for the same entry", r.ID)}
		case !ok:
			return &ChainError{FaultMismatch, 0, fmt.Sprintf("record %s came with no entry naming it", r.ID)}
		case !e.Matches(r):
			return &ChainError{FaultMismatch, e.Pos, fmt.Sprintf("record %s at version %d is not what the entry names", r.ID, r.Version)}
		}
		delete(c.pending, r.ID)
		c.came[r.ID] = true
	}
	return nil
}

// Expected is the entry whose record is expected for id, if one is.
func (c *ChainRecords) Expected(id string) (*ChainEntry, bool) {
	e, ok := c.pending[id]
	return e, ok
}

// MovedAway drops the expectation of e's record if e (verified by the
// caller, of a scope the device does not hold) is a newer entry of the
// same record than the one expected: the record left the device's
// scopes. It reports whether it did.
func (c *ChainRecords) MovedAway(e *ChainEntry) bool {
	p, ok := c.pending[e.ID]
	if !ok || e.Kind != ChainRecord || e.Pos <= p.Pos || e.Version <= p.Version || c.Holds == nil || c.Holds(e.Scope) {
		return false
	}
	delete(c.pending, e.ID)
	return true
}

// Done checks, after the last page, that every record an entry named came.
func (c *ChainRecords) Done() error {
	var first *ChainEntry
	for _, e := range c.pending {
		if first == nil || e.Pos < first.Pos {
			first = e
		}
	}
	if first != nil {
		return &ChainError{FaultWithheld, first.Pos, fmt.Sprintf("record %s at version %d was never sent (%d record(s) missing)", first.ID, first.Version, len(c.pending))}
	}
	return nil
}

// CheckShape validates an entry's fields (not its place or signature).
func (e *ChainEntry) CheckShape() error {
	if msg := e.check(); msg != "" {
		return errors.New("chain entry: " + msg)
	}
	return nil
}

// SignedBy reports whether key signed the entry for team.
func (e *ChainEntry) SignedBy(team string, key ed25519.PublicKey) bool {
	return len(key) == ed25519.PublicKeySize && len(e.Sig) == ed25519.SignatureSize && crypto.VerifyEd25519(key, e.signed(team), e.Sig)
}

// Next is the cursor of the chain after e (its position and hash).
func (e *ChainEntry) Next(team string) ChainCursor {
	return ChainCursor{Pos: e.Pos, Hash: e.Hash(team)}
}

// PrevHash is what the entry after c names as its predecessor (32 zero
// bytes before entry 1).
func (c ChainCursor) PrevHash() []byte { return c.prevHash() }

// Equal reports whether two cursors name the same position and hash.
func (c ChainCursor) Equal(d ChainCursor) bool {
	return c.Pos == d.Pos && (c.Pos == 0 || bytes.Equal(c.Hash, d.Hash))
}

// BaseItem is one record of a base entry's snapshot: what the record was
// when an admin started the chain of a team that had synced with v1.
type BaseItem struct {
	ID         string `json:"id"`
	Version    int64  `json:"version"`
	Epoch      int64  `json:"epoch"`
	SealedHash []byte `json:"sealed_hash"`
	Author     string `json:"author"`
	LogSeq     int64  `json:"log_seq"`
}

// BaseItemOf is r's snapshot item.
func BaseItemOf(r *Record) BaseItem {
	h := sha256.Sum256(r.Sealed)
	return BaseItem{ID: r.ID, Version: r.Version, Epoch: r.Epoch, SealedHash: h[:], Author: r.Author, LogSeq: r.LogSeq}
}

// BaseHash is the SHA-256 of a snapshot: its items sorted by id, each
// AD-encoded. A base entry's SealedHash is this hash. Items must be
// sorted by id, each id once (CheckBase).
func BaseHash(items []BaseItem) []byte {
	h := sha256.New()
	for i := range items {
		it := &items[i]
		h.Write(crypto.AD("hush/v2/chain-base-item", it.ID, it.Version, it.Epoch, it.SealedHash, it.Author, it.LogSeq))
	}
	return h.Sum(nil)
}

// CheckBase validates a snapshot's shape: ids in strictly increasing
// order, every field well formed.
func CheckBase(items []BaseItem) error {
	for i := range items {
		it := &items[i]
		if !ValidID(it.ID) || it.Version < 1 || it.Epoch < 1 || len(it.SealedHash) != sha256.Size || !ValidID(it.Author) {
			return fmt.Errorf("base snapshot item %d is malformed", i)
		}
		if i > 0 && items[i-1].ID >= it.ID {
			return errors.New("base snapshot items are not sorted by id, each once")
		}
	}
	return nil
}

// entry is the expectation a snapshot item sets for its record, as if an
// entry at pos named it.
func (it *BaseItem) entry(pos int64) ChainEntry {
	return ChainEntry{Pos: pos, Kind: ChainRecord, ID: it.ID, Version: it.Version, Epoch: it.Epoch, SealedHash: it.SealedHash,
		LogSeq: it.LogSeq, Author: it.Author}
}

// Base adds the expectations of a verified base entry's snapshot (its
// hash checked against the entry by the caller): each record in it must
// come, unless a later entry replaces it. Call it before Page for the
// page that holds the base entry.
func (c *ChainRecords) Base(pos int64, items []BaseItem) {
	if c.pending == nil {
		c.pending = map[string]*ChainEntry{}
	}
	for i := range items {
		e := items[i].entry(pos)
		c.pending[items[i].ID] = &e
	}
}

// Known drops the expectation e set, if it is still the newest for its
// id: the caller holds e's record (it wrote it, and e is exactly the
// entry it signed), so the server need not send it.
func (c *ChainRecords) Known(e *ChainEntry) {
	if p, ok := c.pending[e.ID]; ok && p.Pos == e.Pos {
		delete(c.pending, e.ID)
	}
}

// Pending is the lowest position whose record has not come yet (0: none):
// a cursor saved past it would skip that record for good.
func (c *ChainRecords) Pending() int64 {
	var low int64
	for _, e := range c.pending {
		if low == 0 || e.Pos < low {
			low = e.Pos
		}
	}
	return low
}

// VersionV2 is the path prefix of the chain endpoints.
const VersionV2 = "v2"

// MaxPullEntries is the entries a GET /v2/chain answer holds before it
// runs on to the end of the push it is in: an honest page never ends
// inside a push, so it holds at most MaxPageEntries.
const MaxPullEntries = 1000

// MaxPageEntries bounds the entries of one GET /v2/chain answer.
const MaxPageEntries = MaxPullEntries + MaxPushRecords - 1

// PullPushes is the query parameter (pushes=1) by which a client says it
// knows push marks: a client that does not is told to upgrade, rather
// than shown entries whose signatures it cannot check.
const PullPushes = "pushes"

// PullLinks is the query parameter (links=1) by which a client says it
// knows scope links (docs/sync.md, "Scope links"): a client that does
// not is told to upgrade once the chain has linked entries.
const PullLinks = "links"

// ChainPush is POST /v2/push: entries that extend the chain at Prev, the
// device's verified head, each signed by the device, and the record each
// record entry names, in the same order. Every entry names the push's
// first and last position (InPush). A base entry (entry 1 of a team
// that synced with v1, by an admin) comes with its snapshot and no record.
// The server takes all of it or nothing.
type ChainPush struct {
	Prev    ChainCursor  `json:"prev"`
	Entries []ChainEntry `json:"entries"`
	Records []Record     `json:"records"`
	Base    []BaseItem   `json:"base,omitempty"`
}

// Chain push outcomes.
const (
	// ChainBehind: Prev is not the server's head: pull, sign again on the
	// new head, push again.
	ChainBehind = "behind"
	// ChainUnstarted: the team has synced with v1 and no admin has written
	// its base entry yet.
	ChainUnstarted = "unstarted"
)

// ChainPushResponse answers a ChainPush: Status is PushOK, ChainBehind,
// PushConflict (Conflicts: the records whose stored version is not the
// one before), PushStale or ChainUnstarted. Head is the server's word
// only: a client moves nothing on it.
type ChainPushResponse struct {
	Status    string      `json:"status"`
	Head      ChainCursor `json:"head"`
	Conflicts []string    `json:"conflicts,omitempty"`
}

// ChainPage answers GET /v2/chain?after=POS&pushes=1: up to
// MaxPullEntries entries after POS, and on to the end of the push the
// last of them is in; for each record an entry in the page names, the
// record at the version of its newest entry, unless an entry after the
// page replaces it; with the base entry, its snapshot. Head and More are the
// server's word only: a client moves its cursor only on what it verified.
// Started is false for a team that synced with v1 and has no chain yet.
type ChainPage struct {
	Entries []ChainEntry `json:"entries"`
	Records []Record     `json:"records"`
	Base    []BaseItem   `json:"base,omitempty"`
	Head    ChainCursor  `json:"head"`
	More    bool         `json:"more"`
	Started bool         `json:"started"`
	// Moved (a scoped page only, ChainScoped): for a record an entry of
	// the page names whose newest entry is of a scope the device does not
	// hold (re-sealed into a new scope, or moved there), that newest
	// entry: signed proof that its record is not the device's to expect.
	Moved []ChainEntry `json:"moved,omitempty"`
}
