package server

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/internal/par"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// ErrV1Push is the answer to a v1 push into a team whose changes are a
// signed chain.
const ErrV1Push = "this team's changes are signed in a chain (sync v2), which this hush does not know: upgrade hush on this device, then sync again (your changes stay on this device)"

// ErrNoPushMarks is the answer to a client that does not know push marks
// (docs/sync.md, "Whole pushes"), when it pulls marked entries or pushes
// more than one entry without them.
const ErrNoPushMarks = "this team's change chain marks whole pushes, which this hush does not know: upgrade hush on this device, then sync again (your changes stay on this device)"

// ErrNoScopeLinks is the answer to a client that does not know scope
// links (docs/sync.md, "Scope links"), when it pulls linked entries or
// pushes unlinked ones into a chain that has linked entries.
const ErrNoScopeLinks = "this team's change chain links each folder scope's entries (scope links), which this hush does not know: upgrade hush on this device, then sync again (your changes stay on this device)"

// chain serves GET /v2/chain?after=POS&pushes=1&links=1[&mine=POS]
// [&scoped=1[&moves=1]]: entries after POS, on to the end of a push, and
// the records they wrote last (docs/sync.md, "The change chain", "Whole
// pushes"); with scoped=1 only the entries of the scopes the device
// holds, on to the end of their parts of a push ("Scope links"), and with
// moves=1 the entries that took records out of them after POS.
func (s *Server) chain(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	q := r.URL.Query() // parsed once: each call parses the whole query again
	after, err := strconv.ParseInt(q.Get("after"), 10, 64)
	if err != nil || after < 0 {
		fail(w, http.StatusBadRequest, "after must be a chain position")
		return
	}
	// mine=POS: the device holds the records it wrote from POS on (it
	// just pushed them); their entries suffice.
	var mine int64
	if m := q.Get("mine"); m != "" {
		if mine, err = strconv.ParseInt(m, 10, 64); err != nil || mine < 1 {
			fail(w, http.StatusBadRequest, "mine must be a chain position")
			return
		}
	}
	author := ""
	if mine > 0 {
		author = dev.ID
	}
	scoped := false
	switch q.Get(wire.ChainScoped) {
	case "":
	case "1":
		scoped = true
	default:
		fail(w, http.StatusBadRequest, wire.ChainScoped+" must be 1 or absent")
		return
	}
	var movedSince int64
	switch q.Get(wire.ChainMoves) {
	case "":
	case "1":
		if !scoped {
			fail(w, http.StatusBadRequest, wire.ChainMoves+" goes with "+wire.ChainScoped+"=1")
			return
		}
		movedSince = after
	default:
		fail(w, http.StatusBadRequest, wire.ChainMoves+" must be 1 or absent")
		return
	}
	var m *wire.Membership
	var p *wire.ChainPage
	var raw *store.RawPage // a whole-chain page, its entries as stored
	if scoped {
		var ok bool
		if m, ok = s.membership(w, r, dev.Team); !ok {
			return
		}
		// The scopes the replayed log says the device holds: a device
		// cannot ask for another's, it names none.
		p, err = s.st.ChainScoped(r.Context(), dev.Team, after, s.pullEntries(), m.HeldScopes(dev.ID), author, mine, movedSince)
	} else if raw, err = s.st.ChainRaw(r.Context(), dev.Team, after, s.pullEntries(), author, mine); err == nil {
		// Which records the device may see, as of the log when the page
		// was read or later, never earlier (as a v1 pull).
		var ok bool
		if m, ok = s.membershipAt(w, r, dev.Team, raw.LogSeq); !ok {
			return
		}
		p = raw.Page
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	pushes, links := q.Get(wire.PullPushes) == "1", q.Get(wire.PullLinks) == "1"
	if !pushes || !links {
		if raw != nil {
			// A client from before push marks or scope links: its entries
			// are looked at (decoded), and the page encoded as decoded.
			if p, err = raw.Decoded(); err != nil {
				s.internal(w, r, err)
				return
			}
			raw = nil
		}
		// A client that cannot check push marks or scope links would take
		// the entries that carry them for forgeries: it is told to
		// upgrade instead.
		for i := range p.Entries {
			if !pushes && p.Entries[i].PushLast != 0 {
				fail(w, http.StatusUpgradeRequired, ErrNoPushMarks)
				return
			}
			if !links && p.Entries[i].Linked() {
				fail(w, http.StatusUpgradeRequired, ErrNoScopeLinks)
				return
			}
		}
	}
	p.Records = heldRecords(m, dev.ID, p.Records)
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "pull", Records: ids(p.Records), Result: "ok"})
	if raw != nil {
		// The entries as stored: the bytes json.Marshal gives of the page
		// decoded (store.RawPage.AppendJSON).
		buf := pageBufs.Get().(*[]byte)
		defer putPageBuf(buf)
		b, err := raw.AppendJSON((*buf)[:0])
		if err != nil {
			fail(w, http.StatusInternalServerError, "internal error")
			return
		}
		replyJSON(w, http.StatusOK, b)
		*buf = b
		return
	}
	reply(w, http.StatusOK, p)
}

// pageBufs holds the buffers chain pages are written into: a page of 50
// entries and their records is some 100 KB, which as a new buffer for
// every pull was a tenth of a pull's CPU (the allocation, clearing it,
// and the collector). Only what a page appends is written (b[:len]),
// never what an earlier page left beyond it.
var pageBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxPageBuf: a buffer grown past it (a page of large records) is
// dropped, not kept.
const maxPageBuf = 1 << 20

func putPageBuf(b *[]byte) {
	if cap(*b) <= maxPageBuf {
		*b = (*b)[:0]
		pageBufs.Put(b)
	}
}

// chainPush serves POST /v2/push. What the server can check cheaply it
// checks before the store: each entry is this device's, signed by it,
// extends the one before it from the named head, and names its record
// exactly; a base entry is an admin's, with its snapshot. The store then
// takes it all only at the chain's head.
func (s *Server) chainPush(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.ChainPush](w, body)
	if !ok {
		return
	}
	n := len(req.Entries)
	if n == 0 || n > wire.MaxPushRecords {
		fail(w, http.StatusBadRequest, "a push carries 1 to "+strconv.Itoa(wire.MaxPushRecords)+" entries")
		return
	}
	if req.Prev.Pos < 0 || (req.Prev.Pos > 0 && len(req.Prev.Hash) != 32) || (req.Prev.Pos == 0 && len(req.Prev.Hash) != 0) {
		fail(w, http.StatusBadRequest, "the push's previous entry is not a chain position and hash")
		return
	}
	base := req.Entries[0].Kind == wire.ChainBase
	if base {
		switch {
		case dev.Role != wire.RoleAdmin:
			fail(w, http.StatusForbidden, "only an admin can start the team's chain")
			return
		case n != 1 || len(req.Records) != 0 || req.Prev.Pos != 0:
			fail(w, http.StatusBadRequest, "a base entry comes alone, as the chain's first entry")
			return
		case wire.CheckBase(req.Base) != nil || !bytes.Equal(wire.BaseHash(req.Base), req.Entries[0].SealedHash):
			fail(w, http.StatusBadRequest, "the base entry does not name its snapshot")
			return
		}
	} else if len(req.Base) != 0 || len(req.Records) != n {
		fail(w, http.StatusBadRequest, "a push carries one record per entry")
		return
	}
	// Push marks: every entry names this push, from the entry after Prev
	// to the last one; a push of one may name none (a client from before
	// marks), a longer one must.
	first, last := req.Prev.Pos+1, req.Prev.Pos+int64(n)
	unmarked := 0
	for i := range req.Entries {
		if e := &req.Entries[i]; e.PushFirst == 0 && e.PushLast == 0 {
			unmarked++
		} else if e.PushFirst != first || e.PushLast != last {
			fail(w, http.StatusBadRequest, fmt.Sprintf("chain entry %d names a push from entry %d to %d, but its push runs from %d to %d", e.Pos, e.PushFirst, e.PushLast, first, last))
			return
		}
	}
	switch {
	case unmarked == n && n > 1:
		fail(w, http.StatusUpgradeRequired, ErrNoPushMarks)
		return
	case unmarked > 0 && unmarked < n:
		fail(w, http.StatusBadRequest, fmt.Sprintf("some entries of a push from entry %d to %d name no push", first, last))
		return
	}
	// Scope links (docs/sync.md, "Scope links"): a push links every entry
	// or none; whether each link is the right one only the store can say,
	// under the push lock.
	linked := 0
	for i := range req.Entries {
		if req.Entries[i].Linked() {
			linked++
		}
	}
	if linked > 0 && linked < n {
		fail(w, http.StatusBadRequest, fmt.Sprintf("some entries of a push from entry %d to %d have no scope link: a push links all its entries or none", first, last))
		return
	}
	a := &store.ChainAppend{Prev: req.Prev, Records: req.Records, IsBase: base, Base: req.Base, Entries: make([]store.ChainStored, n)}
	at := req.Prev
	seen := map[string]bool{}
	for i := range req.Entries {
		e := &req.Entries[i]
		if err := e.CheckShape(); err != nil {
			fail(w, http.StatusBadRequest, err.Error())
			return
		}
		if e.Author != dev.ID || e.Pos != at.Pos+1 || !bytes.Equal(e.Prev, at.PrevHash()) || (i > 0 && e.Kind != wire.ChainRecord) {
			fail(w, http.StatusBadRequest, "chain entry "+strconv.FormatInt(e.Pos, 10)+" is not this device's next entry after the head it names")
			return
		}
		if !base {
			rec := &req.Records[i]
			if msg := checkPushed(rec, seen); msg != "" {
				fail(w, http.StatusBadRequest, msg)
				return
			}
			if !e.Matches(rec) {
				fail(w, http.StatusBadRequest, "chain entry "+strconv.FormatInt(e.Pos, 10)+" does not name its record")
				return
			}
		}
		st, err := store.Stored(dev.Team, e)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		a.Entries[i] = st
		at = wire.ChainCursor{Pos: e.Pos, Hash: st.Hash}
	}
	if !base {
		// As a v1 push: the records are checked against the log at the
		// position they were written at, when every one names the same;
		// the store takes them only if that is still the log's length
		// when it commits (else they are stale), so that is the
		// membership they are taken under.
		logSeq := req.Records[0].LogSeq
		for i := range req.Records {
			if req.Records[i].LogSeq != logSeq {
				logSeq = -1
			}
		}
		m, ok := s.membershipAt(w, r, dev.Team, logSeq)
		if !ok {
			return
		}
		stale, ok := checkScopes(w, m, dev, req.Records)
		if !ok {
			return
		}
		if stale {
			reply(w, http.StatusOK, wire.ChainPushResponse{Status: wire.PushStale})
			return
		}
		// A record's next version may move it to another scope (a `hush
		// mv`) only when its device may write the scope it leaves.
		if member := m.Devices[dev.ID].Member; len(m.Scopes) > 0 || len(m.RootOff) > 0 {
			a.MayMove = func(from string) bool {
				role, held := m.RoleOn(member, from, m.Seq)
				return held && wire.CanWrite(role)
			}
		}
	}
	// Authorship is the signer's: a device cannot push in another's name.
	if err := par.Do(n, func(i int) error {
		if !req.Entries[i].SignedBy(dev.Team, dev.SignKey) {
			return errors.New("chain entry " + strconv.FormatInt(req.Entries[i].Pos, 10) + " is not signed by this device")
		}
		if !base && !crypto.VerifyEd25519(dev.SignKey, wire.RecordSigned(dev.Team, &req.Records[i]), req.Records[i].Sig) {
			return errors.New("record " + req.Records[i].ID + " is not signed by this device")
		}
		return nil
	}); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.st.ChainPush(r.Context(), dev.Team, a)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	action, recs := "push", ids(req.Records)
	if base {
		action = "chain-base"
	}
	if res.Refused != nil {
		s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: action, Records: recs, Result: "refused"})
		var move *store.MoveError
		if errors.Is(res.Refused, store.ErrUnlinkedPush) {
			fail(w, http.StatusUpgradeRequired, ErrNoScopeLinks)
		} else if errors.As(res.Refused, &move) {
			fail(w, http.StatusForbidden, res.Refused.Error())
		} else {
			fail(w, http.StatusBadRequest, res.Refused.Error())
		}
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: action, Records: recs, Result: res.Status})
	if res.Status == wire.PushOK {
		s.hub.publish(dev.Team, res.Seq)
	}
	reply(w, http.StatusOK, wire.ChainPushResponse{Status: res.Status, Head: res.Head, Conflicts: res.Conflicts})
}
