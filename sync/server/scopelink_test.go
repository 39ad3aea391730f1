package server_test

import (
	"crypto/ed25519"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// Scope links on the server (docs/sync.md, "Scope links"): the server
// takes a linked push only with the links the chain needs, tells a
// client from before links to upgrade once linked entries are in, and
// serves a device that asks scoped=1 the entries of its own scopes only.

// makeScope adds a folder scope made for no member yet: the root's
// holders hold it (every device of the team so far), each given its key.
func (e *env) makeScope() string {
	e.t.Helper()
	id := wire.NewID()
	le := e.next(wire.LogGrant)
	le.Scope, le.Epoch, le.Folder = id, 1, random(e.t, 64)
	le.Sign(e.admin.ID, e.admin.key)
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []wire.WrappedKey
	for _, d := range e.members.Devices {
		if d.Active {
			keys = append(keys, e.scopeKey(&d.Device, id, key))
		}
	}
	e.appendLog(e.admin, le, keys).want(e.t, http.StatusOK, "")
	return id
}

// scopeKey is key (epoch 1 of scope) wrapped to d by the admin.
func (e *env) scopeKey(d *wire.Device, scope string, key []byte) wire.WrappedKey {
	k := e.wrapKey(e.admin, d, 1, key)
	k.Scope = scope
	k.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &k))
	return k
}

// scopedMember adds a reader that holds scopes and not the root (a
// person added with scopes, as a machine is).
func (e *env) scopedMember(name, member string, scopes ...string) *device {
	e.t.Helper()
	inv := e.invite(wire.RoleReader)
	d := e.join(inv, name, member)
	le := e.next(wire.LogAdd)
	dev := d.Device
	le.Device, le.Role, le.Scopes = &dev, wire.RoleReader, scopes
	le.Sign(e.admin.ID, e.admin.key)
	key, _ := crypto.Random(crypto.KeySize)
	sorted := slices.Sorted(slices.Values(scopes))
	a := wire.Approve{Invite: inv, Device: d.ID, Key: e.scopeKey(&d.Device, sorted[0], key), Entry: *le}
	for _, sc := range sorted[1:] {
		a.Keys = append(a.Keys, e.scopeKey(&d.Device, sc, key))
	}
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(e.t, http.StatusOK, "")
	e.took(&a.Entry)
	return d
}

// chainHead is the stored chain's head position.
func (e *env) chainHead(t *testing.T) int64 {
	p, err := e.st.Chain(t.Context(), e.team, 1<<62, 1)
	if err != nil {
		t.Fatal(err)
	}
	return p.Head.Pos
}

func random(t testing.TB, n int) []byte {
	b, err := crypto.Random(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// scopeRecord is a new record of d's in scope (its epoch 1).
func (e *env) scopeRecord(d *device, scope string) wire.Record {
	r := e.record(d, wire.NewID(), 1)
	r.Scope, r.Epoch = scope, 1
	if scope == "" {
		r.Epoch = e.members.Epoch
	}
	e.resign(d, &r)
	return r
}

// linkedPush is d's push of recs on prev, linked into their scopes from
// heads, as a client signs it; heads is moved only through the returned
// copy (the caller keeps it once the server took the push).
func (e *env) linkedPush(d *device, prev wire.ChainCursor, heads wire.ScopeHeads, recs ...wire.Record) (wire.ChainPush, wire.ChainCursor, wire.ScopeHeads) {
	p := wire.ChainPush{Prev: prev, Records: recs}
	for i := range recs {
		en := wire.NextEntry(wire.ChainCursor{Pos: prev.Pos + int64(i)}, &recs[i], e.clock.Now())
		en.InPush(prev, len(recs))
		p.Entries = append(p.Entries, en)
	}
	wire.LinkPush(p.Entries)
	heads, at := heads.Clone(), prev
	for i := range p.Entries {
		en := &p.Entries[i]
		en.Prev = at.PrevHash()
		heads.LinkNext(en)
		en.Sign(e.team, d.ID, d.key)
		at = en.Next(e.team)
		heads.Follow(en, at.Hash)
	}
	return p, at, heads
}

// signers is every device of the team's signing key (the test's, not a
// replayed log: the pages here are the server's honest answers).
func (e *env) signers(ds ...*device) wire.ChainSigners {
	return func(author string, _ int64, _ string) ed25519.PublicKey {
		for _, d := range ds {
			if d.ID == author {
				return d.SignKey
			}
		}
		return nil
	}
}

const linksQuery = "&" + wire.PullPushes + "=1&" + wire.PullLinks + "=1"

// TestChainScopeLinks: the migration (unlinked entries, then the first
// linked push), a client from before links told to upgrade on push and
// on pull, pushes linked in part or linked wrong refused with the entry
// named, and nothing of a refused push kept.
func TestChainScopeLinks(t *testing.T) {
	e := newTeam(t, server.Options{})
	P := e.makeScope()
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	head, heads := res.Head, wire.ScopeHeads{}
	heads[""] = head // the base: the root's
	// Before links: a marked push of the root and P, as today's clients.
	old := []wire.Record{e.scopeRecord(e.writer, ""), e.scopeRecord(e.writer, P)}
	p, next := e.markedPush(e.writer, head, old...)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK {
		t.Fatalf("unlinked push: %+v", res)
	}
	for i := range p.Entries {
		heads.Follow(&p.Entries[i], p.Entries[i].Hash(e.team))
	}
	head = next
	// A client from before links still pulls.
	e.call(e.reader, "GET", "/v2/chain?after=0&"+wire.PullPushes+"=1", nil).want(t, http.StatusOK, "")

	// Pushes linked in part, or linked wrong: 400, naming the entry.
	lp, _, _ := e.linkedPush(e.writer, head, heads, e.scopeRecord(e.writer, P), e.scopeRecord(e.writer, ""))
	lp.Entries[1].ScopePrev, lp.Entries[1].ScopeLast = nil, 0
	e.resignPush(&lp, e.writer, 1)
	e.call(e.writer, "POST", "/v2/push", lp).want(t, http.StatusBadRequest, "some entries of a push from entry 4 to 5 have no scope link")
	lp, _, _ = e.linkedPush(e.writer, head, heads, e.scopeRecord(e.writer, P))
	lp.Entries[0].ScopePrev = &wire.ChainCursor{Pos: 2, Hash: heads[""].Hash} // the root's head, not P's (3)
	e.resignPush(&lp, e.writer, 0)
	e.call(e.writer, "POST", "/v2/push", lp).want(t, http.StatusBadRequest, "chain entry 4 has a wrong scope link: it follows entry 2 of its scope, but the last entry of its scope before it is 3")
	lp, _, _ = e.linkedPush(e.writer, head, heads, e.scopeRecord(e.writer, P))
	lp.Entries[0].ScopePrev.Hash = random(t, 32)
	e.resignPush(&lp, e.writer, 0)
	e.call(e.writer, "POST", "/v2/push", lp).want(t, http.StatusBadRequest, "chain entry 4 has a wrong scope link: it names entry 3 of its scope with a hash that is not that entry's")
	if got := e.chainHead(t); got != 3 {
		t.Fatalf("refused pushes moved the head to %d", got)
	}

	// The first linked push: P's entry links to 3, the root's to 2.
	lp, next, nextHeads := e.linkedPush(e.writer, head, heads, e.scopeRecord(e.writer, P), e.scopeRecord(e.writer, ""))
	e.call(e.writer, "POST", "/v2/push", lp).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || lp.Entries[0].ScopePrev.Pos != 3 || lp.Entries[1].ScopePrev.Pos != 2 {
		t.Fatalf("first linked push: %+v, links %d %d", res, lp.Entries[0].ScopePrev.Pos, lp.Entries[1].ScopePrev.Pos)
	}
	head, heads = next, nextHeads

	// From now on a client from before links is told to upgrade: its
	// pulls that would show a linked entry, and its pushes (marked or a
	// single unmarked entry), with nothing taken.
	e.call(e.reader, "GET", "/v2/chain?after=0&"+wire.PullPushes+"=1", nil).want(t, http.StatusUpgradeRequired, server.ErrNoScopeLinks)
	e.call(e.reader, "GET", "/v2/chain?after=3&"+wire.PullPushes+"=1", nil).want(t, http.StatusUpgradeRequired, server.ErrNoScopeLinks)
	e.call(e.reader, "GET", "/v2/chain?after=5&"+wire.PullPushes+"=1", nil).want(t, http.StatusOK, "")
	up, _ := e.markedPush(e.writer, head, e.scopeRecord(e.writer, P), e.scopeRecord(e.writer, P))
	e.call(e.writer, "POST", "/v2/push", up).want(t, http.StatusUpgradeRequired, server.ErrNoScopeLinks)
	one, _ := e.chainPush(e.writer, head, e.scopeRecord(e.writer, ""))
	e.call(e.writer, "POST", "/v2/push", one).want(t, http.StatusUpgradeRequired, server.ErrNoScopeLinks)
	if got := e.chainHead(t); got != 5 {
		t.Fatalf("refused pushes moved the head to %d", got)
	}
	// A new client pulls everything and links on.
	var pg wire.ChainPage
	e.call(e.reader, "GET", "/v2/chain?after=0"+linksQuery, nil).want(t, http.StatusOK, "").decode(t, &pg)
	if len(pg.Entries) != 5 || pg.More {
		t.Fatalf("a new client's pull: %d entries, more %v", len(pg.Entries), pg.More)
	}
	lp, _, _ = e.linkedPush(e.writer, head, heads, e.scopeRecord(e.writer, P))
	e.call(e.writer, "POST", "/v2/push", lp).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK {
		t.Fatalf("linked push: %+v", res)
	}
	e.call(e.reader, "GET", "/v2/chain?after=0&scoped=2"+linksQuery, nil).want(t, http.StatusBadRequest, "scoped must be 1 or absent")
}

// TestChainScopedPull: scoped=1 gives a device the entries and records of
// the scopes the replayed log says it holds, and nothing of any other
// scope, whatever it asks; a device that holds every scope (an admin)
// gets the whole chain. Each answer is what the client's verifier of a
// scope's chain takes, page after page.
func TestChainScopedPull(t *testing.T) {
	e := newTeam(t, server.Options{PullEntries: 2})
	P, Q := e.makeScope(), e.makeScope()
	carol := e.scopedMember("ci", "carol", P)
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	head, heads := res.Head, wire.ScopeHeads{"": res.Head}
	// 2-4 root, P, Q; 5-9 P Q P Q P; 10 root; 11 P.
	for _, scopes := range [][]string{{"", P, Q}, {P, Q, P, Q, P}, {""}, {P}} {
		var recs []wire.Record
		for _, sc := range scopes {
			recs = append(recs, e.scopeRecord(e.writer, sc))
		}
		p, next, nextHeads := e.linkedPush(e.writer, head, heads, recs...)
		e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
		if res.Status != wire.PushOK {
			t.Fatalf("push: %+v", res)
		}
		head, heads = next, nextHeads
	}
	m := e.storedLog(t)
	signers := e.signers(e.admin, e.writer)
	pull := func(d *device, scoped bool) (pos []int64, recScopes map[string]bool, pages int) {
		t.Helper()
		holds := func(sc string) bool { return m.Holds(d.ID, sc) }
		var sp wire.ScopedPull
		recScopes = map[string]bool{}
		q := linksQuery
		if scoped {
			q += "&" + wire.ChainScoped + "=1"
		}
		for after := int64(0); ; {
			pages++
			var pg wire.ChainPage
			e.call(d, "GET", "/v2/chain?after="+strconv.FormatInt(after, 10)+q, nil).want(t, http.StatusOK, "").decode(t, &pg)
			if !pg.Head.Equal(head) {
				t.Fatalf("page head %d, want the chain's %d", pg.Head.Pos, head.Pos)
			}
			for _, en := range pg.Entries {
				pos = append(pos, en.Pos)
			}
			for _, r := range pg.Records {
				recScopes[r.Scope] = true
			}
			if scoped && !holds("") {
				// The client's verifier of its scopes' chain.
				if err := sp.Page(e.team, pg.Entries, holds, signers); err != nil {
					t.Fatalf("%s, page after %d: %v", d.Name, after, err)
				}
				if sp.Open() != 0 {
					t.Fatalf("%s: a page ends inside a scope's part of a push", d.Name)
				}
				after = sp.After
			} else if len(pg.Entries) > 0 {
				after = pg.Entries[len(pg.Entries)-1].Pos
			}
			if !pg.More {
				break
			}
		}
		if scoped && !holds("") {
			if err := sp.Done(); err != nil {
				t.Fatal(err)
			}
		}
		return pos, recScopes, pages
	}
	// carol holds P only: P's entries, P's records; the page of limit 2
	// runs on to the end of P's part of the push 5-9.
	pos, recs, pages := pull(carol, true)
	if want := []int64{3, 5, 7, 9, 11}; !slices.Equal(pos, want) || len(recs) != 1 || !recs[P] || pages != 2 {
		t.Fatalf("carol's scoped pull: entries %v, record scopes %v, %d pages; want %v, P's only, 2 pages", pos, recs, pages, want)
	}
	// The admin holds every scope: the whole chain, scoped or not.
	all := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	for _, scoped := range []bool{true, false} {
		if pos, recs, _ := pull(e.admin, scoped); !slices.Equal(pos, all) || len(recs) != 3 {
			t.Fatalf("the admin's pull (scoped %v): entries %v, record scopes %v", scoped, pos, recs)
		}
	}
	// carol's unscoped pull: every entry (the whole chain verifies), but
	// records of P only, as before links.
	if pos, recs, _ := pull(carol, false); !slices.Equal(pos, all) || len(recs) != 1 || !recs[P] {
		t.Fatalf("carol's whole pull: entries %v, record scopes %v", pos, recs)
	}
	// Nothing in carol's request can widen it: mine= and after only
	// narrow, and an old client's request is told to upgrade.
	var pg wire.ChainPage
	e.call(carol, "GET", "/v2/chain?after=0&scoped=1&mine=1"+linksQuery, nil).want(t, http.StatusOK, "").decode(t, &pg)
	for _, en := range pg.Entries {
		if en.Scope != P {
			t.Fatalf("carol was sent entry %d of another scope", en.Pos)
		}
	}
	e.call(carol, "GET", "/v2/chain?after=0&scoped=1&"+wire.PullPushes+"=1", nil).want(t, http.StatusUpgradeRequired, server.ErrNoScopeLinks)
	// The verifier refuses an entry of another scope: a server that sent
	// Q's entries to carol would be caught.
	var sp wire.ScopedPull
	e.call(e.admin, "GET", "/v2/chain?after=0&scoped=1"+linksQuery, nil).want(t, http.StatusOK, "").decode(t, &pg)
	var cerr *wire.ChainError
	if err := sp.Page(e.team, pg.Entries, func(sc string) bool { return sc == P }, signers); !errors.As(err, &cerr) {
		t.Fatalf("the admin's page checked as carol's: %v", err)
	}
}

// BenchmarkChainScopedPull: what a machine holding one scope pays the
// server for its records, through HTTP on a real SQLite store: GET
// /v2/chain?scoped=1 on a chain of 10,000 entries of which 50 are its
// scope's (one page: the entries, their records), beside the first of
// the ten whole-chain pages a device without scoped pages reads.
//
//	go test -run '^$' -bench ChainScopedPull -benchtime 100x ./sync/server/
func BenchmarkChainScopedPull(b *testing.B) {
	e := newTeam(b, server.Options{})
	P, others := e.makeScope(), []string{""}
	for range 10 {
		others = append(others, e.makeScope())
	}
	carol := e.scopedMember("ci", "carol", P)
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(b, http.StatusOK, "").decode(b, &res)
	head, heads := res.Head, wire.ScopeHeads{"": res.Head}
	for push := range 50 { // 50 pushes of 200 (the base is entry 1)
		n := 200
		if push == 0 {
			n = 199
		}
		recs := make([]wire.Record, n)
		for i := range recs {
			sc := others[(push*n+i)%len(others)]
			if i == push%n {
				sc = P
			}
			recs[i] = e.scopeRecord(e.writer, sc)
		}
		p, next, nextHeads := e.linkedPush(e.writer, head, heads, recs...)
		e.call(e.writer, "POST", "/v2/push", p).want(b, http.StatusOK, "").decode(b, &res)
		if res.Status != wire.PushOK {
			b.Fatalf("push %d: %+v", push, res)
		}
		head, heads = next, nextHeads
		e.clock.Add(time.Second)
	}
	b.Run("scoped-50-of-10000", func(b *testing.B) {
		for b.Loop() {
			var pg wire.ChainPage
			e.call(carol, "GET", "/v2/chain?after=0&scoped=1"+linksQuery, nil).want(b, http.StatusOK, "").decode(b, &pg)
			if len(pg.Entries) != 50 || len(pg.Records) != 50 || pg.More {
				b.Fatalf("%d entries, %d records, more %v", len(pg.Entries), len(pg.Records), pg.More)
			}
		}
	})
	b.Run("whole-page-1000", func(b *testing.B) {
		for b.Loop() {
			var pg wire.ChainPage
			e.call(e.admin, "GET", "/v2/chain?after=0"+linksQuery, nil).want(b, http.StatusOK, "").decode(b, &pg)
			if len(pg.Entries) < 1000 || !pg.More {
				b.Fatalf("%d entries, more %v", len(pg.Entries), pg.More)
			}
		}
	})
}
