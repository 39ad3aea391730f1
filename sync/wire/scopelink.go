package wire

import (
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/internal/par"
)

// Scope links (docs/sync.md, "Scope links"): every entry written since
// they came also links to the previous entry of its own folder scope and
// names the last entry of its scope in its push, both signed. A device
// that holds some scopes (a machine token for app/prod) can then fetch
// only their entries and verify them as a chain of their own: a missing
// entry of its scopes breaks a link, another history breaks a hash, and
// a push is applied only when its part in each scope is whole. What it
// cannot see is the chain of other scopes, so it cannot tell a server
// that stops showing its scopes' newest entries from one with nothing
// newer (a frozen view, as a whole-chain device cannot either); and the
// parts of one push in two scopes are each whole, not both.

// ErrUnlinked: an entry of the device's scopes was written before scope
// links, so the scope's entries do not form a chain of their own: the
// device must fetch and link the whole chain.
var ErrUnlinked = errors.New("an entry of this device's scopes was written before scope links")

// ChainScoped is GET /v2/chain's query parameter (scoped=1) by which a
// device asks for its scopes' entries only (ScopedPull).
const ChainScoped = "scoped"

// ChainMoves is the query parameter (moves=1, with scoped=1) by which a
// device that keeps what it read (a running agent) asks, on the first
// page of a read that goes on from an earlier one, for the entries that
// took the records it read then out of its scopes since (ChainPage.Moved):
// else it would go on serving a record that left them.
const ChainMoves = "moves"

// ScopedPull verifies, page after page, the entries of a device's scopes
// as a GET /v2/chain?scoped=1 answer gives them: only entries of its
// scopes, in position order, each linked to the one of its scope before
// it. The zero ScopedPull starts before entry 1.
type ScopedPull struct {
	Heads ScopeHeads // the last entry verified of each scope
	After int64      // the position of the last entry verified
	// LogFloor is the membership log position of the last entry
	// verified: the next may not name one below it.
	LogFloor int64
	open     map[string]ChainEntry // a scope's part of a push, begun but not whole
}

// Page checks one page's entries, which must extend what was verified
// before (Heads, After), and moves past them. On error nothing moves.
// holds says which scopes the device holds; an entry of another is
// refused (the server sends none), one written before scope links is
// ErrUnlinked.
func (p *ScopedPull) Page(team string, entries []ChainEntry, holds func(string) bool, signers ChainSigners) error {
	heads := p.Heads.Clone()
	if heads == nil {
		heads = ScopeHeads{}
	}
	open := map[string]ChainEntry{}
	for k, v := range p.open {
		open[k] = v
	}
	after, floor := p.After, p.LogFloor
	var linkErr error
	n := len(entries)
	for i := range entries {
		e := &entries[i]
		if msg := e.check(); msg != "" {
			linkErr, n = &ChainError{FaultMalformed, e.Pos, msg}, i
			break
		}
		if e.Pos <= after {
			linkErr, n = &ChainError{FaultReorder, e.Pos, fmt.Sprintf("it comes after entry %d", after)}, i
			break
		}
		if e.Kind == ChainBase && holds("") {
			// A migrated team's entry 1 is the root's, from before links.
			linkErr, n = ErrUnlinked, i
			break
		}
		if e.Kind != ChainRecord || !holds(e.Scope) {
			linkErr, n = &ChainError{FaultMalformed, e.Pos, "it is not of a scope this device holds"}, i
			break
		}
		if !e.Linked() {
			linkErr, n = ErrUnlinked, i
			break
		}
		if err := heads.CheckLink(e); err != nil {
			linkErr, n = err, i
			break
		}
		if o, ok := open[e.Scope]; ok {
			if e.PushFirst != o.PushFirst || e.PushLast != o.PushLast || e.Author != o.Author || e.ScopeLast != o.ScopeLast {
				linkErr, n = &ChainError{FaultPushMark, e.Pos, fmt.Sprintf("the part of its scope in the push of entries %d to %d is not what it names (%s)", o.PushFirst, o.PushLast, e.marks())}, i
				break
			}
		} else if e.ScopePrev.Pos >= e.PushFirst {
			// The entry of its scope before it is in the same push, which
			// named itself the last of its scope there.
			linkErr, n = &ChainError{FaultPushMark, e.Pos, fmt.Sprintf("entry %d of its push named itself the last of its scope in the push", e.ScopePrev.Pos)}, i
			break
		}
		if e.LogSeq < floor {
			linkErr, n = &ChainError{FaultBackdated, e.Pos, fmt.Sprintf("it names membership log position %d, but the entry before it was written at %d", e.LogSeq, floor)}, i
			break
		}
		heads.Follow(e, e.Hash(team))
		after, floor = e.Pos, e.LogSeq
		if e.ScopeLast > e.Pos {
			open[e.Scope] = *e
		} else {
			delete(open, e.Scope)
		}
	}
	if err := par.Do(n, func(i int) error {
		e := &entries[i]
		key := signers(e.Author, e.LogSeq, e.Kind)
		if len(key) != ed25519.PublicKeySize || !crypto.VerifyEd25519(key, e.signed(team), e.Sig) {
			return &ChainError{FaultSignature, e.Pos, "it is not signed by a device of the team that could write there"}
		}
		return nil
	}); err != nil {
		return err
	}
	if linkErr != nil {
		return linkErr
	}
	p.Heads, p.open, p.After, p.LogFloor = heads, open, after, floor
	return nil
}

// Done checks, after the last page, that no push was cut short in one of
// the device's scopes.
func (p *ScopedPull) Done() error {
	var first *ChainEntry
	for _, o := range p.open {
		if first == nil || o.Pos < first.Pos {
			first = &o
		}
	}
	if first != nil {
		return &ChainError{FaultPushCut, first.Pos + 1, fmt.Sprintf(
			"the server sent entries of this scope up to %d, inside one device's push of entries %d to %d whose part in the scope ends at %d: it is withholding the rest of that push, so none of it was applied",
			first.Pos, first.PushFirst, first.PushLast, first.ScopeLast)}
	}
	return nil
}

// Open is the lowest position of a push part begun but not whole (0:
// none): records named from there on wait for the rest.
func (p *ScopedPull) Open() int64 {
	var low int64
	for _, o := range p.open {
		if low == 0 || o.PushFirst < low {
			low = o.PushFirst
		}
	}
	return low
}
