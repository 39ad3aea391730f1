package wire

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	scopeA = strings.Repeat("a1", 16)
	scopeB = strings.Repeat("b2", 16)
)

// linkedChain writes pushes by d, each a list of scope ids (one entry
// each, "" the root), linked as a client links them, after the unlinked
// entries before (which it follows too).
func linkedChain(t testing.TB, d *chainDev, before []ChainEntry, pushes ...[]string) []ChainEntry {
	t.Helper()
	heads := ScopeHeads{}
	var at ChainCursor
	for i := range before {
		at = before[i].Next(testTeam)
		heads.Follow(&before[i], at.Hash)
	}
	es := append([]ChainEntry(nil), before...)
	n := len(before)
	for _, scopes := range pushes {
		push := make([]ChainEntry, len(scopes))
		for i, sc := range scopes {
			n++
			r := Record{ID: strings.Repeat(string("0123456789abcdef"[n%16]), 31) + string("0123456789abcdef"[n/16%16]), Version: 1, Epoch: 1,
				Sealed: []byte{byte(n), 9}, Author: d.id, LogSeq: 3, Scope: sc}
			push[i] = NextEntry(ChainCursor{Pos: at.Pos + int64(i)}, &r, time.Date(2026, 12, 7, 6, 0, n%60, 0, time.UTC))
			push[i].InPush(at, len(scopes))
		}
		LinkPush(push)
		for i := range push {
			e := &push[i]
			e.Prev = at.PrevHash()
			heads.LinkNext(e)
			e.Sign(testTeam, d.id, d.key)
			at = e.Next(testTeam)
			heads.Follow(e, at.Hash)
		}
		es = append(es, push...)
	}
	return es
}

func ofScopes(es []ChainEntry, scopes ...string) []ChainEntry {
	var out []ChainEntry
	for _, e := range es {
		for _, s := range scopes {
			if e.Scope == s {
				out = append(out, e)
			}
		}
	}
	return out
}

func holding(scopes ...string) func(string) bool {
	return func(s string) bool {
		for _, h := range scopes {
			if h == s {
				return true
			}
		}
		return false
	}
}

func faultOf(err error) ChainFault {
	var ce *ChainError
	if errors.As(err, &ce) {
		return ce.Fault
	}
	return ""
}

// A scope's entries, taken out of the whole chain, verify as a chain of
// their own, in one page or in several, and a device that holds two
// scopes verifies both.
func TestScopedPullVerifies(t *testing.T) {
	ann := newChainDev(1, ChainRecord)
	signers := signersOf(ann)
	es := linkedChain(t, ann, nil, []string{scopeA, "", scopeA}, []string{scopeB}, []string{"", scopeA, scopeB, scopeA}, []string{scopeA})
	a := ofScopes(es, scopeA)
	var p ScopedPull
	if err := p.Page(testTeam, a, holding(scopeA), signers); err != nil {
		t.Fatal(err)
	}
	if err := p.Done(); err != nil {
		t.Fatal(err)
	}
	last := a[len(a)-1]
	if p.After != last.Pos || !bytes.Equal(p.Heads[scopeA].Hash, last.Hash(testTeam)) {
		t.Fatalf("stopped at %d, heads %v", p.After, p.Heads)
	}
	// Page after page, a page ending inside a push's part of the scope.
	var q ScopedPull
	for i := range a {
		if err := q.Page(testTeam, a[i:i+1], holding(scopeA), signers); err != nil {
			t.Fatalf("entry %d alone: %v", a[i].Pos, err)
		}
	}
	if err := q.Done(); err != nil || q.After != p.After {
		t.Fatalf("one by one: %v at %d", err, q.After)
	}
	ab := ofScopes(es, scopeA, scopeB)
	var r ScopedPull
	if err := r.Page(testTeam, ab, holding(scopeA, scopeB), signers); err != nil || r.Done() != nil {
		t.Fatalf("two scopes: %v", err)
	}
	// And the root's entries alone.
	var root ScopedPull
	if err := root.Page(testTeam, ofScopes(es, ""), holding(""), signers); err != nil || root.Done() != nil {
		t.Fatalf("the root: %v", err)
	}
}

// Every lie a server can tell about a scope's entries is refused with its
// class, and moves nothing.
func TestScopedPullRefuses(t *testing.T) {
	ann, eve := newChainDev(1, ChainRecord), newChainDev(5)
	signers := signersOf(ann)
	es := linkedChain(t, ann, nil, []string{scopeA, "", scopeA}, []string{scopeB, scopeA}, []string{"", scopeA, scopeB, scopeA}, []string{scopeA})
	a := ofScopes(es, scopeA) // positions 1, 3, 5, 7, 9, 10
	without := func(i int) []ChainEntry { return append(append([]ChainEntry(nil), a[:i]...), a[i+1:]...) }
	forged := append([]ChainEntry(nil), a...)
	forged[2].Sig = bytes.Repeat([]byte{7}, len(forged[2].Sig))
	other := append([]ChainEntry(nil), a...)
	other[1].SealedHash = bytes.Repeat([]byte{9}, 32) // another history at 3, signed by its author
	other[1].Sign(testTeam, ann.id, ann.key)
	stripped := append([]ChainEntry(nil), a...)
	stripped[2].ScopePrev, stripped[2].ScopeLast = nil, 0
	relinked := append([]ChainEntry(nil), a...)
	relinked[3].ScopePrev = &ChainCursor{Pos: a[1].Pos, Hash: a[1].Hash(testTeam)} // skips entry 5
	byEve := append([]ChainEntry(nil), a...)
	byEve[4].Sign(testTeam, ann.id, eve.key)
	backdated := linkedChain(t, ann, nil, []string{scopeA}, []string{scopeA})
	backdated[0].LogSeq = 4
	backdated[0].Sign(testTeam, ann.id, ann.key)
	backdated[1].ScopePrev.Hash = backdated[0].Hash(testTeam)
	backdated[1].Sign(testTeam, ann.id, ann.key)
	// An author that names itself its scope's last in a push, then
	// writes another entry of it in the same push.
	marks := linkedChain(t, ann, nil, []string{scopeA, scopeA})
	marks[0].ScopeLast = marks[0].Pos
	marks[0].Sign(testTeam, ann.id, ann.key)
	marks[1].Prev, marks[1].ScopePrev.Hash = marks[0].Hash(testTeam), marks[0].Hash(testTeam)
	marks[1].Sign(testTeam, ann.id, ann.key)
	old, _ := chainOf(t, ChainCursor{}, 2, ann)
	for i := range old {
		old[i].Scope = scopeA
		old[i].Sign(testTeam, ann.id, ann.key)
		if i > 0 {
			old[i].Prev = old[i-1].Hash(testTeam)
			old[i].Sign(testTeam, ann.id, ann.key)
		}
	}
	afterOld := ofScopes(linkedChain(t, ann, old, []string{scopeA}), scopeA)

	for _, c := range []struct {
		name    string
		entries []ChainEntry
		hold    []string
		fault   ChainFault
		err     error
	}{
		{"a middle entry left out", without(2), []string{scopeA}, FaultGap, nil},
		{"the first entry left out", without(0), []string{scopeA}, FaultGap, nil},
		{"two entries swapped", append([]ChainEntry{a[1], a[0]}, a[2:]...), []string{scopeA}, FaultGap, nil},
		{"an entry twice", append(append([]ChainEntry(nil), a[:2]...), a[1:]...), []string{scopeA}, FaultReorder, nil},
		{"a forged signature", forged, []string{scopeA}, FaultSignature, nil},
		{"another history", other, []string{scopeA}, FaultReplaced, nil},
		{"a link stripped", stripped, []string{scopeA}, "", ErrUnlinked},
		{"a link moved", relinked, []string{scopeA}, FaultReplaced, nil},
		{"signed by a device not in the team", byEve, []string{scopeA}, FaultSignature, nil},
		{"an entry of a scope not held", ofScopes(es, scopeA, scopeB), []string{scopeA}, FaultMalformed, nil},
		{"a backdated entry", ofScopes(backdated, scopeA), []string{scopeA}, FaultBackdated, nil},
		{"a scope's part of a push named twice", marks, []string{scopeA}, FaultPushMark, nil},
		{"entries from before scope links", afterOld, []string{scopeA}, "", ErrUnlinked},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p ScopedPull
			err := p.Page(testTeam, c.entries, holding(c.hold...), signers)
			if c.err != nil && !errors.Is(err, c.err) || c.err == nil && faultOf(err) != c.fault {
				t.Fatalf("got %v, want %s%v", err, c.fault, c.err)
			}
			if p.After != 0 || len(p.Heads) != 0 {
				t.Fatalf("a refused page moved the pull to %d", p.After)
			}
		})
	}
}

// A server that stops inside a push's part of a scope is refused at the
// end of the pull; the page before it verified.
func TestScopedPullPushCut(t *testing.T) {
	ann := newChainDev(1, ChainRecord)
	es := linkedChain(t, ann, nil, []string{scopeA}, []string{scopeA, scopeB, scopeA, scopeA})
	a := ofScopes(es, scopeA) // 1 | 2, 4, 5 in one push
	var p ScopedPull
	if err := p.Page(testTeam, a[:2], holding(scopeA), signersOf(ann)); err != nil {
		t.Fatal(err)
	}
	if p.Open() != 2 {
		t.Fatalf("open push part from %d, want 2", p.Open())
	}
	if err := p.Done(); faultOf(err) != FaultPushCut {
		t.Fatalf("a push cut short: %v", err)
	}
	if err := p.Page(testTeam, a[2:], holding(scopeA), signersOf(ann)); err != nil || p.Done() != nil || p.Open() != 0 {
		t.Fatalf("the rest of the push: %v", err)
	}
}

// A scope link is signed: an entry signed without one does not verify
// with one added, and the JSON form keeps it.
func TestScopeLinkSigned(t *testing.T) {
	ann := newChainDev(1, ChainRecord)
	es := linkedChain(t, ann, nil, []string{scopeA, scopeA})
	if !es[1].SignedBy(testTeam, ann.key.Public().(ed25519.PublicKey)) {
		t.Fatal("a linked entry does not verify")
	}
	e := es[1]
	e.ScopeLast = 1
	if e.SignedBy(testTeam, ann.key.Public().(ed25519.PublicKey)) {
		t.Fatal("a changed ScopeLast still verifies")
	}
	old, _ := chainOf(t, ChainCursor{}, 1, ann)
	o := old[0]
	o.ScopePrev, o.ScopeLast, o.PushFirst, o.PushLast = &ChainCursor{}, 1, 1, 1
	if o.SignedBy(testTeam, ann.key.Public().(ed25519.PublicKey)) {
		t.Fatal("an unlinked entry verifies with a link added")
	}
	if msg := es[0].check(); msg != "" {
		t.Fatalf("a first entry of its scope: %s", msg)
	}
	bad := es[1]
	bad.ScopePrev = &ChainCursor{Pos: 5, Hash: make([]byte, 32)}
	if bad.check() == "" {
		t.Fatal("a link to a later entry passes the shape check")
	}
	bad = es[1]
	bad.ScopeLast = 9
	if bad.check() == "" {
		t.Fatal("a scope's last entry past its push passes the shape check")
	}
}
