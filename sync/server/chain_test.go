package server_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// chainPush builds d's push of recs on prev, each entry signed by d.
func (e *env) chainPush(d *device, prev wire.ChainCursor, recs ...wire.Record) (wire.ChainPush, wire.ChainCursor) {
	p := wire.ChainPush{Prev: prev, Records: recs}
	at := prev
	for i := range recs {
		en := wire.NextEntry(at, &recs[i], e.clock.Now())
		en.Sign(e.team, d.ID, d.key)
		p.Entries = append(p.Entries, en)
		at = en.Next(e.team)
	}
	return p, at
}

// markedPush is chainPush with every entry marked with its push
// (docs/sync.md, "Whole pushes"), as a client signs it.
func (e *env) markedPush(d *device, prev wire.ChainCursor, recs ...wire.Record) (wire.ChainPush, wire.ChainCursor) {
	p := wire.ChainPush{Prev: prev, Records: recs}
	at := prev
	for i := range recs {
		en := wire.NextEntry(at, &recs[i], e.clock.Now())
		en.InPush(prev, len(recs))
		en.Sign(e.team, d.ID, d.key)
		p.Entries = append(p.Entries, en)
		at = en.Next(e.team)
	}
	return p, at
}

// resignPush re-signs p's entries from i on as d, each linked to the one
// before: what d's own (modified) client would send.
func (e *env) resignPush(p *wire.ChainPush, d *device, i int) {
	for j := i; j < len(p.Entries); j++ {
		if j > 0 {
			p.Entries[j].Prev = p.Entries[j-1].Hash(e.team)
		}
		p.Entries[j].Sign(e.team, d.ID, d.key)
	}
}

// Push marks (issue 14, a push cut short): the server takes a push only
// when every entry names that push, from the entry after the head it
// names to its last; a push of more than one entry without marks (a
// client from before them) is told to upgrade, and so is a pull by such
// a client once the chain has marked entries. A page runs on to the end
// of the push it is in (Options.PullEntries: 2 here), so an honest
// server never ends a page inside a push.
func TestChainPushMarks(t *testing.T) {
	e := newTeam(t, server.Options{PullEntries: 2})
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK {
		t.Fatalf("base: %+v", res)
	}
	head := res.Head
	three := func() []wire.Record {
		return []wire.Record{e.record(e.writer, wire.NewID(), 1), e.record(e.writer, wire.NewID(), 1), e.record(e.writer, wire.NewID(), 1)}
	}
	for _, c := range []struct {
		name   string
		lie    func(p *wire.ChainPush) int // returns the first entry changed
		status int
		text   string
	}{
		{"entries of one push name different ends", func(p *wire.ChainPush) int { p.Entries[1].PushLast = 3; return 1 }, http.StatusBadRequest,
			"chain entry 3 names a push from entry 2 to 3, but its push runs from 2 to 4"},
		{"every entry names an end past the push", func(p *wire.ChainPush) int {
			for i := range p.Entries {
				p.Entries[i].PushLast = 5
			}
			return 0
		}, http.StatusBadRequest, "chain entry 2 names a push from entry 2 to 5, but its push runs from 2 to 4"},
		{"a push that names a start before the head", func(p *wire.ChainPush) int {
			for i := range p.Entries {
				p.Entries[i].PushFirst = 1
			}
			return 0
		}, http.StatusBadRequest, "chain entry 2 names a push from entry 1 to 4, but its push runs from 2 to 4"},
		{"one entry of a push names no push", func(p *wire.ChainPush) int { p.Entries[2].PushFirst, p.Entries[2].PushLast = 0, 0; return 2 },
			http.StatusBadRequest, "some entries of a push from entry 2 to 4 name no push"},
		{"a push of three from a client that does not mark pushes", func(p *wire.ChainPush) int {
			for i := range p.Entries {
				p.Entries[i].PushFirst, p.Entries[i].PushLast = 0, 0
			}
			return 0
		}, http.StatusUpgradeRequired, "this team's change chain marks whole pushes, which this hush does not know: upgrade hush"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, _ := e.markedPush(e.writer, head, three()...)
			e.resignPush(&p, e.writer, c.lie(&p))
			e.call(e.writer, "POST", "/v2/push", p).want(t, c.status, c.text)
		})
	}
	// Nothing of them got in; the honest push of three does, and then a
	// push of one without marks (a push of one by its nature).
	p, next := e.markedPush(e.writer, head, three()...)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || !res.Head.Equal(next) || next.Pos != 4 {
		t.Fatalf("the honest push: %+v", res)
	}
	p, next = e.chainPush(e.writer, next, e.record(e.writer, wire.NewID(), 1))
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || next.Pos != 5 {
		t.Fatalf("an unmarked push of one: %+v", res)
	}

	// Pages of 2 entries: 1 (base) and 2 would end inside the push 2-4:
	// the page runs on to 4, with its records; then 5.
	var pg wire.ChainPage
	e.call(e.reader, "GET", "/v2/chain?after=0&pushes=1", nil).want(t, http.StatusOK, "").decode(t, &pg)
	if len(pg.Entries) != 4 || !pg.More || len(pg.Records) != 3 || pg.Entries[3].PushLast != 4 {
		t.Fatalf("page 1: %d entries, %d records, more %v", len(pg.Entries), len(pg.Records), pg.More)
	}
	e.call(e.reader, "GET", "/v2/chain?after=4&pushes=1", nil).want(t, http.StatusOK, "").decode(t, &pg)
	if len(pg.Entries) != 1 || pg.More || len(pg.Records) != 1 || !pg.Head.Equal(next) {
		t.Fatalf("page 2: %d entries, %d records, more %v", len(pg.Entries), len(pg.Records), pg.More)
	}
	// A client that does not ask with pushes=1 cannot check the marks: it
	// is told to upgrade when a page holds marked entries, not sent them.
	e.call(e.reader, "GET", "/v2/chain?after=0", nil).want(t, http.StatusUpgradeRequired, server.ErrNoPushMarks)
	e.call(e.reader, "GET", "/v2/chain?after=4", nil).want(t, http.StatusOK, "")
}

// baseFor is an admin's base entry over the records the server holds.
func (e *env) baseFor(d *device, recs ...wire.Record) wire.ChainPush {
	items := make([]wire.BaseItem, len(recs))
	for i := range recs {
		items[i] = wire.BaseItemOf(&recs[i])
	}
	for i := range items {
		for j := i + 1; j < len(items); j++ {
			if items[j].ID < items[i].ID {
				items[i], items[j] = items[j], items[i]
			}
		}
	}
	en := wire.ChainEntry{Pos: 1, Prev: make([]byte, 32), Kind: wire.ChainBase, SealedHash: wire.BaseHash(items), LogSeq: e.members.Seq, Time: e.clock.Now().UTC().Truncate(time.Second)}
	en.Sign(e.team, d.ID, d.key)
	return wire.ChainPush{Entries: []wire.ChainEntry{en}, Base: items}
}

// The v2 endpoints: a team that synced with v1 gets its chain from an
// admin's base entry; from then on v1 pushes are refused (an old client
// must not write outside the chain), and a push is taken only from its
// author, on the head, entry by entry.
func TestChainEndpoints(t *testing.T) {
	e := newTeam(t, server.Options{})
	r1 := e.record(e.writer, wire.NewID(), 1)
	e.push(e.writer, r1)

	var pg wire.ChainPage
	e.call(e.writer, "GET", "/v2/chain?after=0", nil).want(t, http.StatusOK, "").decode(t, &pg)
	if pg.Started || len(pg.Entries) != 0 {
		t.Fatalf("a v1 team's chain: %+v", pg)
	}
	// Only an admin starts the chain, and only over what the server holds.
	e.call(e.writer, "POST", "/v2/push", e.baseFor(e.writer, r1)).want(t, http.StatusForbidden, "only an admin")
	bad := e.baseFor(e.admin, r1)
	bad.Base[0].Version = 9
	e.call(e.admin, "POST", "/v2/push", bad).want(t, http.StatusBadRequest, "the base entry does not name its snapshot")
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.ChainBehind {
		t.Fatalf("a base that leaves a record out: %q", res.Status)
	}
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin, r1)).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || res.Head.Pos != 1 {
		t.Fatalf("base: %+v", res)
	}
	head := res.Head

	// A v1 push now: refused, saying what to do.
	r2 := e.record(e.writer, wire.NewID(), 1)
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{r2}}).want(t, http.StatusUpgradeRequired, "this team's changes are signed in a chain")

	// Entries in another device's name, not on the named head, not
	// naming their record, or unsigned: refused before the store.
	p, _ := e.chainPush(e.admin, head, e.record(e.admin, wire.NewID(), 1))
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusBadRequest, "chain entry 2 is not this device's")
	p, _ = e.chainPush(e.writer, wire.ChainCursor{Pos: 5, Hash: head.Hash}, r2)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.ChainBehind {
		t.Fatalf("a push on a head the server does not have: %q", res.Status)
	}
	p, _ = e.chainPush(e.writer, head, r2)
	p.Entries[0].Version = 2
	p.Entries[0].Sig = ed25519.Sign(e.writer.key, []byte("x"))
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusBadRequest, "chain entry 2 does not name its record")
	p, _ = e.chainPush(e.writer, head, r2)
	p.Entries[0].Sig[0] ^= 1
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusBadRequest, "chain entry 2 is not signed by this device")
	p, _ = e.chainPush(e.reader, head, e.record(e.reader, wire.NewID(), 1))
	e.call(e.reader, "POST", "/v2/push", p).want(t, http.StatusForbidden, "a reader cannot change secrets")

	// The honest push.
	p, next := e.chainPush(e.writer, head, r2)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || !res.Head.Equal(next) {
		t.Fatalf("push: %+v", res)
	}
	e.call(e.reader, "GET", "/v2/chain?after=0", nil).want(t, http.StatusOK, "").decode(t, &pg)
	if !pg.Started || len(pg.Entries) != 2 || len(pg.Base) != 1 || len(pg.Records) != 2 || !pg.Head.Equal(next) {
		t.Fatalf("the chain: %d entries, %d base items, %d records", len(pg.Entries), len(pg.Base), len(pg.Records))
	}
	e.call(e.reader, "GET", "/v2/chain?after=-1", nil).want(t, http.StatusBadRequest, "after must be")
	// A stranger learns nothing, and the body limits are v1's: a body
	// over its limit is refused from its declared length, a stranger's
	// never read.
	e.send(e.request("GET", "/v2/chain?after=0", nil)).want(t, http.StatusUnauthorized, "unauthenticated")
	e.send(e.request("POST", "/v2/push", []byte("{}"))).want(t, http.StatusUnauthorized, "unauthenticated")
	big := bytes.Repeat([]byte(" "), wire.MaxBody+1)
	e.call(e.writer, "POST", "/v2/push", big).want(t, http.StatusRequestEntityTooLarge, "request body over")
	e.send(e.request("POST", "/v2/push", big)).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(e.reader, "GET", "/v2/chain?after=0", bytes.Repeat([]byte(" "), wire.MaxQueryBody+1)).want(t, http.StatusRequestEntityTooLarge, "request body over")
	pending := e.join(e.invite(wire.RoleWriter), "pending-box", "pia")
	e.call(pending, "GET", "/v2/chain?after=0", nil).want(t, http.StatusForbidden, "this device is waiting")
	e.call(pending, "POST", "/v2/push", p).want(t, http.StatusForbidden, "this device is waiting")
}

// A record's own signature is checked on the chain too, although its
// entry, signed by the same device in the same push, names every field
// that signature covers (id, version, epoch, the ciphertext's hash, the
// author, the log position): the entry does not cover the record's
// signature itself, which a teammate that keeps the record as a conflict
// checks (docs/sync.md, "The change chain"). Not checked here, a hostile
// writer could store a record every teammate in conflict with it refuses.
// Refused before the store, with the entries signed and naming their
// records; the chain does not move.
func TestChainPushChecksRecordSignatures(t *testing.T) {
	e := newTeam(t, server.Options{})
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK {
		t.Fatalf("base: %+v", res)
	}
	head := res.Head
	good := e.record(e.writer, wire.NewID(), 1)
	for name, sig := range map[string][]byte{
		"a bit flipped":        append([]byte{good.Sig[0] ^ 1}, good.Sig[1:]...),
		"over another message": ed25519.Sign(e.writer.key, []byte("x")),
		"by another device":    ed25519.Sign(e.admin.key, wire.RecordSigned(e.team, &good)),
		"none":                 nil,
	} {
		r := good
		r.Sig = sig
		other := e.record(e.writer, wire.NewID(), 1)
		p, _ := e.markedPush(e.writer, head, other, r)
		for i := range p.Entries {
			if !p.Entries[i].Matches(&p.Records[i]) || !p.Entries[i].SignedBy(e.team, e.writer.key.Public().(ed25519.PublicKey)) {
				t.Fatalf("%s: the test's entry %d is not a good one", name, i)
			}
		}
		msg := "record " + r.ID + " is not signed by this device"
		if sig == nil {
			msg = "record " + r.ID
		}
		e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusBadRequest, msg)
	}
	// Nothing was taken: the honest push goes on the same head.
	p, next := e.markedPush(e.writer, head, good)
	e.call(e.writer, "POST", "/v2/push", p).want(t, http.StatusOK, "").decode(t, &res)
	if res.Status != wire.PushOK || !res.Head.Equal(next) {
		t.Fatalf("the honest push after them: %+v", res)
	}
}

// FuzzDecodeChainPush: any body to POST /v2/push, from a writer of a
// chained team. The server never answers 5xx; a push it does not take
// leaves the chain as it was; one it takes extends it by its entries, and
// the stored chain still verifies from the start (positions, links,
// signatures by the writer).
//
//	go test -run '^$' -fuzz FuzzDecodeChainPush -fuzztime 60s ./sync/server/
func FuzzDecodeChainPush(f *testing.F) {
	e := fixedTeam(f, fuzzOptions)
	e.clock.t = fixedLogTime.Add(time.Hour)
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(f, http.StatusOK, "").decode(f, &res)
	if res.Status != wire.PushOK {
		f.Fatalf("base: %+v", res)
	}
	head := res.Head
	r1 := e.fixedRecord(e.writer, "0123456789abcdef0123456789abcdef", 1, "sealed one")
	r2 := e.fixedRecord(e.writer, "fedcba9876543210fedcba9876543210", 1, "sealed two")
	p, _ := e.chainPush(e.writer, head, r1, r2)
	f.Add(body(f, p))
	p, _ = e.markedPush(e.writer, head, r1, r2)
	f.Add(body(f, p))
	p.Entries[1].PushLast = 4
	e.resignPush(&p, e.writer, 1)
	f.Add(body(f, p))
	p, _ = e.markedPush(e.writer, head, r1)
	f.Add(body(f, p))
	p, _ = e.chainPush(e.writer, head, r1)
	f.Add(body(f, p))
	p, _ = e.chainPush(e.admin, head, r1)
	f.Add(body(f, p))
	f.Add([]byte(`{"prev":{"pos":1},"entries":[],"records":[]}`))
	f.Add([]byte(`{"prev":{"pos":-1,"hash":""},"entries":[{"pos":0}]}`))
	signers := func(author string, _ int64, kind string) ed25519.PublicKey {
		switch {
		case author == e.writer.ID && kind == wire.ChainRecord:
			return e.writer.SignKey
		case author == e.admin.ID:
			return e.admin.SignKey
		}
		return nil
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e.clock.Add(time.Millisecond)
		before, err := e.st.Chain(context.Background(), e.team, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := e.serve(e.writer, "POST", "/v2/push", b, "", "")
		if w.Code >= 500 {
			t.Fatalf("%d %s for body %q", w.Code, w.Body, b)
		}
		after, err := e.st.Chain(context.Background(), e.team, 0, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		var res wire.ChainPushResponse
		took := w.Code == http.StatusOK && wire.Decode(w.Body.Bytes(), &res) == nil && res.Status == wire.PushOK
		if !took {
			if !after.Head.Equal(before.Head) || len(after.Entries) != len(before.Entries) {
				t.Fatalf("a push not taken (%d %s) moved the chain from %d to %d: %q", w.Code, w.Body, before.Head.Pos, after.Head.Pos, b)
			}
			return
		}
		var req wire.ChainPush
		if err := json.Unmarshal(b, &req); err != nil || after.Head.Pos != before.Head.Pos+int64(len(req.Entries)) {
			t.Fatalf("a push taken moved the chain from %d to %d with %d entries: %q", before.Head.Pos, after.Head.Pos, len(req.Entries), b)
		}
		if at, err := wire.VerifyChain(e.team, wire.ChainCursor{}, after.Entries, signers); err != nil || !at.Equal(after.Head) {
			t.Fatalf("the stored chain does not verify after %q: %v", b, err)
		}
		// A push taken is whole: its marks check, and none is left open.
		var m wire.PushMarks
		if err := m.Check(after.Entries); err != nil {
			t.Fatalf("the stored chain's push marks do not check after %q: %v", b, err)
		}
		if _, open := m.Open(); open != 0 || (len(req.Entries) > 1 && req.Entries[0].PushLast != after.Head.Pos) {
			t.Fatalf("a push taken that is not marked whole: %q", b)
		}
	})
}

// A chain page goes out with its entries as stored (store.RawPage), not
// decoded and encoded again: the answer is byte for byte the one the
// decoded page gives, which the server still sends a client from before
// scope links (on a chain without linked entries, where it may read).
func TestChainPageAsStored(t *testing.T) {
	e := newTeam(t, server.Options{PullEntries: 2})
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	head := res.Head
	id := wire.NewID()
	for i, p := range []struct {
		d    *device
		recs []wire.Record
	}{
		{e.writer, []wire.Record{e.record(e.writer, id, 1), e.record(e.writer, wire.NewID(), 1), e.record(e.writer, wire.NewID(), 1)}},
		{e.admin, []wire.Record{e.record(e.admin, wire.NewID(), 1)}},
		{e.admin, []wire.Record{e.record(e.admin, id, 2), e.record(e.admin, wire.NewID(), 1)}},
	} {
		push, next := e.markedPush(p.d, head, p.recs...)
		e.call(p.d, "POST", "/v2/push", push).want(t, http.StatusOK, "").decode(t, &res)
		if res.Status != wire.PushOK {
			t.Fatalf("push %d: %+v", i, res)
		}
		head = next
	}
	for after := int64(0); after <= head.Pos; after++ {
		for _, mine := range []string{"", "&mine=2"} {
			q := "/v2/chain?after=" + strconv.FormatInt(after, 10) + mine + "&" + wire.PullPushes + "=1"
			old := e.call(e.writer, "GET", q, nil).want(t, http.StatusOK, "")
			now := e.call(e.writer, "GET", q+"&"+wire.PullLinks+"=1", nil).want(t, http.StatusOK, "")
			if !bytes.Equal(old.body, now.body) {
				t.Fatalf("%s: as stored\n%s\ndecoded\n%s", q, now.body, old.body)
			}
			var pg wire.ChainPage
			now.decode(t, &pg)
			if after < head.Pos && len(pg.Entries) == 0 {
				t.Fatalf("%s: no entries", q)
			}
		}
	}
}

// A whole-chain page served from the store's tail in memory (recent
// pushes, sync/store/tail.go) holds, for every device, exactly the
// records the same page read from SQL holds: a device that does not hold
// a scope gets none of its records either way. The first pass reads after
// the pushes, cursor after cursor forwards (the tail, kept by the pushes,
// serves them); the second, after a restart, backwards from the head (each
// read is before the tail the one before it kept: SQL).
func TestChainTailScopes(t *testing.T) {
	e := newTeam(t, server.Options{})
	P := e.makeScope()
	carol := e.scopedMember("ci", "carol", P) // P, not the root
	var res wire.ChainPushResponse
	e.call(e.admin, "POST", "/v2/push", e.baseFor(e.admin)).want(t, http.StatusOK, "").decode(t, &res)
	head, heads := res.Head, wire.ScopeHeads{"": res.Head}
	for _, scopes := range [][]string{{"", P}, {P}, {""}, {P, "", P}, {""}} {
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
	devices := []*device{e.writer, e.reader, carol}
	query := func(after int64) string { return "/v2/chain?after=" + strconv.FormatInt(after, 10) + linksQuery }
	fromTail := map[string][]byte{}
	for after := int64(1); after <= head.Pos; after++ {
		for _, d := range devices {
			fromTail[d.ID+query(after)] = e.call(d, "GET", query(after), nil).want(t, http.StatusOK, "").body
		}
	}
	e.restart(e.opts)
	rootRecords := 0
	for after := head.Pos; after >= 1; after-- {
		for _, d := range devices {
			got := e.call(d, "GET", query(after), nil).want(t, http.StatusOK, "")
			if !bytes.Equal(got.body, fromTail[d.ID+query(after)]) {
				t.Fatalf("%s as %s: from memory\n%s\nfrom SQL\n%s", query(after), d.Name, fromTail[d.ID+query(after)], got.body)
			}
			var pg wire.ChainPage
			got.decode(t, &pg)
			for _, r := range pg.Records {
				switch {
				case d == carol && r.Scope != P:
					t.Fatalf("%s: carol, who holds only P, got a record of scope %q", query(after), r.Scope)
				case r.Scope == "":
					rootRecords++
				}
			}
		}
	}
	if rootRecords == 0 {
		t.Fatal("no page held a root record")
	}
}
