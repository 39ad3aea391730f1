package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// The change chain (sync v2, docs/sync.md "The change chain"): every
// accepted change extends one team-wide hash chain; each entry commits to
// the previous entry's hash and to the record it names, and is signed by
// the device that wrote it. A client checks that what it pulls extends the
// position and hash it verified, entry by entry, so that order and
// completeness are signed by writers, not asserted by the server.
//
// This file is the format and its verifier; the server, the stores and
// the client do not use them yet.

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
	Author     string    `json:"author"`
	Sig        []byte    `json:"sig"`
}

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
	return crypto.AD("hush/v2/chain-entry", team, e.Pos, e.Prev, e.Kind, e.ID, e.Version, e.Epoch, e.SealedHash,
		e.LogSeq, e.Time.UTC().Format(time.RFC3339), e.Author)
}

// Hash is what the next entry's Prev names: it covers the content and the
// signature, as the membership log's hash does.
func (e *ChainEntry) Hash(team string) []byte {
	h := sha256.New()
	h.Write(e.signed(team))
	h.Write(e.Sig)
	return h.Sum(nil)
}

// Sign signs the entry as author.
func (e *ChainEntry) Sign(team, author string, key ed25519.PrivateKey) {
	e.Author = author
	e.Sig = crypto.SignEd25519(key.Seed(), e.signed(team))
}

// NextEntry is the record entry that extends the chain at c with r, at the
// author's time t (signed afterwards with Sign).
func NextEntry(c ChainCursor, r *Record, t time.Time) ChainEntry {
	h := sha256.Sum256(r.Sealed)
	return ChainEntry{Pos: c.Pos + 1, Prev: c.prevHash(), Kind: ChainRecord, ID: r.ID, Version: r.Version, Epoch: r.Epoch,
		SealedHash: h[:], LogSeq: r.LogSeq, Time: t.UTC().Truncate(time.Second), Author: r.Author}
}

// check validates an entry's shape (not its place or signature).
func (e *ChainEntry) check() string {
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
	}
	switch e.Kind {
	case ChainRecord:
		if !ValidID(e.ID) || e.Version < 1 || e.Epoch < 1 {
			return "it names no valid record"
		}
	case ChainBase:
		if e.Pos != 1 || e.ID != "" || e.Version != 0 || e.Epoch != 0 {
			return "a base entry is entry 1 and names no record"
		}
	default:
		return fmt.Sprintf("its kind %q is unknown", e.Kind)
	}
	return ""
}

// Matches reports whether r is the record e names, byte for byte.
func (e *ChainEntry) Matches(r *Record) bool {
	h := sha256.Sum256(r.Sealed)
	return e.Kind == ChainRecord && r.ID == e.ID && r.Version == e.Version && r.Epoch == e.Epoch &&
		r.Author == e.Author && r.LogSeq == e.LogSeq && bytes.Equal(h[:], e.SealedHash)
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
	FaultMismatch  ChainFault = "a record that is not its entry" // a record that differs from the entry that names it
	FaultWithheld  ChainFault = "a withheld record"              // an entry whose record never came
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
	return fmt.Sprintf("the team server's change chain has %s%s: %s. Nothing was applied; run `hush team verify` and compare with a teammate", e.Fault, at, e.Msg)
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
	at := from
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
			return from, &ChainError{fault, at.Pos + 1, fmt.Sprintf("expected entry %d, got entry %d", at.Pos+1, e.Pos)}
		}
		if msg := e.check(); msg != "" {
			return from, &ChainError{FaultMalformed, e.Pos, msg}
		}
		if !bytes.Equal(e.Prev, at.prevHash()) {
			return from, &ChainError{FaultReplaced, e.Pos, "it does not follow the entry this device verified before it"}
		}
		key := signers(e.Author, e.LogSeq, e.Kind)
		if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, e.signed(team), e.Sig) {
			return from, &ChainError{FaultSignature, e.Pos, "it is not signed by a device of the team that could write there"}
		}
		at = ChainCursor{Pos: e.Pos, Hash: e.Hash(team)}
	}
	return at, nil
}

// ChainRecords checks the records of a pull against its verified entries,
// page by page: each record is exactly what the newest entry of its id
// names, and no record an entry names is left out. Records overwritten by
// a later entry (in a later page) are not expected.
type ChainRecords struct {
	pending map[string]*ChainEntry // id: the newest entry whose record has not come
}

// Page checks one page's records against its entries (already verified).
func (c *ChainRecords) Page(entries []ChainEntry, records []Record) error {
	if c.pending == nil {
		c.pending = map[string]*ChainEntry{}
	}
	for i := range entries {
		if entries[i].Kind == ChainRecord {
			c.pending[entries[i].ID] = &entries[i] // a later entry replaces an earlier expectation
		}
	}
	for i := range records {
		r := &records[i]
		e, ok := c.pending[r.ID]
		switch {
		case !ok:
			return &ChainError{FaultMismatch, 0, fmt.Sprintf("record %s came with no entry naming it", r.ID)}
		case !e.Matches(r):
			return &ChainError{FaultMismatch, e.Pos, fmt.Sprintf("record %s at version %d is not what the entry names", r.ID, r.Version)}
		}
		delete(c.pending, r.ID)
	}
	return nil
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
