package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hush-secrets/hush/sync/internal/par"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// The change chain (sync v2, docs/sync.md "The change chain"): every
// change this device pushes is an entry it signs on the chain head it
// verified; every pull verifies entries from its verified cursor, entry
// by entry, before it applies a record. The cursor moves only on what
// passed every check; a push is done when the device's own entries come
// back at the positions it signed.

// chainRounds bounds push, pull and sign again when the server answers
// that this device is behind (another device pushed meanwhile).
const chainRounds = 4

// errBehind ends a chain push whose rounds all came back behind.
var errBehind = errors.New("the team server kept answering that this device is behind the team's change chain, without sending what it is behind: sync again later; if it persists, run `hush team verify` and compare with a teammate")

// errStopPush stops a push's batches after a batch the server did not take.
var errStopPush = errors.New("push stopped")

// chainStart decides whether this sync uses the chain, and migrates a
// team that synced with v1 when this device is an admin. It returns the
// first page of the chain when it fetched one to find out (nil: not yet).
func (s *syncer) chainStart(ctx context.Context) (use bool, first *wire.ChainPage, err error) {
	st := s.st
	if s.t.legacy {
		return false, nil, nil
	}
	if st.Chained { // a machine token's team always is (OpenToken)
		return true, nil, nil
	}
	var pg wire.ChainPage
	if err := s.c.do(ctx, "GET", chainQuery(st.Chain.Pos), nil, &pg); err != nil {
		var se *ServerError
		if errors.As(err, &se) && se.Status == 404 {
			return false, nil, nil // a v1 server
		}
		return false, nil, err
	}
	if pg.Started {
		return true, &pg, nil
	}
	// A team that synced with v1. The server's word that the chain has
	// not started can only make an admin write a base of its own: a fork
	// at position 1, which `hush team verify` shows.
	if st.Role != wire.RoleAdmin {
		return false, nil, nil
	}
	for try := 0; ; try++ {
		status, err := s.writeBase(ctx)
		if err != nil {
			return false, nil, err
		}
		if status == wire.PushOK {
			return true, nil, nil
		}
		if try == 2 {
			return false, nil, fmt.Errorf("starting the team's change chain: the server answered %q three times: sync again", status)
		}
	}
}

// writeBase starts the chain of a team that synced with v1: it fetches
// every record with the v1 checks (signed by a device that could write,
// not below a version this device has seen), and signs entry 1 over the
// snapshot of them. Other devices check that the records they are sent
// hash to it.
func (s *syncer) writeBase(ctx context.Context) (string, error) {
	st := s.st
	var items []wire.BaseItem
	for since, pages := int64(0), 0; ; pages++ {
		var ch wire.Changes
		if err := s.c.do(ctx, "GET", "/v1/changes?since="+strconv.FormatInt(since, 10), nil, &ch); err != nil {
			return "", err
		}
		if err := s.track(ch.Records); err != nil {
			return "", err
		}
		last := since
		for i := range ch.Records {
			r := &ch.Records[i]
			if r.Seq <= last {
				return "", &BadRecordError{r.ID, "its sequence number is out of order"}
			}
			last = r.Seq
			if t := s.tracked[r.ID]; t != nil && t.Mark != nil && r.Version < t.Mark.Seen {
				return "", &RollbackError{fmt.Sprintf("it sent %s at version %d, but this device has seen version %d", s.name(r.ID), r.Version, t.Mark.Seen)}
			}
		}
		if err := s.verifyRecords(ch.Records); err != nil {
			return "", err
		}
		for i := range ch.Records {
			items = append(items, wire.BaseItemOf(&ch.Records[i]))
		}
		if !ch.More {
			break
		}
		if len(ch.Records) == 0 {
			return "", fmt.Errorf("the team server says changes after %d follow, but sends none: refused", since)
		}
		since = last
	}
	slices.SortFunc(items, func(a, b wire.BaseItem) int { return cmpString(a.ID, b.ID) })
	if err := wire.CheckBase(items); err != nil {
		return "", fmt.Errorf("the team server's records cannot start the chain: %w", err)
	}
	e := wire.ChainEntry{Pos: 1, Prev: make([]byte, sha256.Size), Kind: wire.ChainBase, SealedHash: wire.BaseHash(items),
		LogSeq: st.Members.Seq, Time: st.now().UTC().Truncate(1e9)}
	e.InPush(wire.ChainCursor{}, 1)
	e.Sign(st.Team, st.Device.ID, st.signer())
	var res wire.ChainPushResponse
	if err := s.c.do(ctx, "POST", "/v2/push", wire.ChainPush{Entries: []wire.ChainEntry{e}, Base: items}, &res); err != nil {
		return "", err
	}
	return res.Status, nil
}

// chainQuery is GET /v2/chain after pos, from a client that knows push
// marks and scope links.
func chainQuery(pos int64) string {
	return "/v2/chain?after=" + strconv.FormatInt(pos, 10) + "&" + wire.PullPushes + "=1&" + wire.PullLinks + "=1"
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// verifyRecords checks records as pull does (author, role, signature),
// without opening them for apply: a record under an old epoch is
// authentic too.
func (s *syncer) verifyRecords(recs []wire.Record) error {
	return par.Do(len(recs), func(i int) error {
		_, err := s.st.open(&recs[i])
		var stale *StaleRecordError
		if errors.As(err, &stale) {
			return nil
		}
		return err
	})
}

// chainSigners gives the key of a device that could write (or, for a
// base entry, was an admin) at a log position of the verified membership.
func (st *State) chainSigners(author string, logSeq int64, kind string) ed25519.PublicKey {
	d, ok := st.Members.Devices[author]
	if !ok || logSeq > st.Members.Seq {
		return nil
	}
	role, in := d.RoleAt(logSeq)
	if !in || (kind == wire.ChainBase && role != wire.RoleAdmin) || !st.writesAt(d, role, logSeq) {
		return nil
	}
	return d.SignKey
}

// pushedKey is the vault setting that keeps, from one sync to the next,
// the entries this device pushed and has not seen back yet: a sync that
// fails after its push (the confirming pull's answer lost) leaves the
// next sync able to recognise them, by position and hash, and to confirm
// them rather than take a teammate's change built on them for a
// conflict.
const pushedKey = "team-pushed"

// pushedEntry is one entry of pushedKey: a sentRecord, saved.
type pushedEntry struct {
	ID      string `json:"id"`
	Version int64  `json:"version"`
	Hash    []byte `json:"hash"` // SHA-256 of the sealed record
	Head    int    `json:"head"`
	Deleted bool   `json:"deleted,omitempty"`
	Pos     int64  `json:"pos"`
	Entry   []byte `json:"entry"` // the entry's hash
}

// loadPushed takes in the entries an earlier sync pushed past this
// device's cursor: they are recognised as this device's own when they
// come (not counted as unconfirmed if they do not: that sync said so).
func (s *syncer) loadPushed() error {
	saved, err := s.v.SyncStates(pushedKey)
	if err != nil {
		return err
	}
	// pushedKey first, then its batches (savePushed) in the order written.
	keys := make([]string, 0, len(saved))
	for k := range saved {
		if n, ok := pushedBatch(k); ok {
			keys = append(keys, k)
			s.pushedN = max(s.pushedN, n)
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		na, _ := pushedBatch(a)
		nb, _ := pushedBatch(b)
		return na - nb
	})
	s.pushedKeys = keys
	for _, k := range append([]string{pushedKey}, keys...) {
		var ps []pushedEntry
		if b, ok := saved[k]; !ok || len(b) == 0 {
			continue
		} else if json.Unmarshal(b, &ps) != nil {
			s.savedN = -1 // a memory aid only: without it a push is pushed again
			continue
		}
		s.pushedSaved = s.pushedSaved || len(ps) > 0
		for _, p := range ps {
			if p.Pos <= s.st.Chain.Pos || len(p.Hash) != sha256.Size {
				s.savedN = -1 // rewritten without it at the next save
				continue
			}
			if s.sent == nil {
				s.sent, s.signed = map[string]sentRecord{}, map[int64][]byte{}
			}
			sr := sentRecord{version: p.Version, head: p.Head, deleted: p.Deleted, pos: p.Pos, entry: p.Entry, earlier: true, saved: true}
			copy(sr.hash[:], p.Hash)
			if _, twice := s.sent[p.ID]; twice {
				s.savedN = -1 // a later batch's entry replaces it: rewritten
			}
			s.sent[p.ID], s.signed[p.Pos] = sr, p.Entry
			if s.savedN >= 0 {
				s.savedN++
			}
		}
	}
	return nil
}

// savePushed writes the entries pushed and not seen back that lie past
// the cursor (those before it did not land), and forgets earlier syncs'
// entries the cursor passed without them. While a push only adds entries
// (batch after batch), each save writes the batch's new entries under a
// key of their own (pushedKey/N): a push of n batches then writes each
// entry once instead of all of them n times (a first push of 10,000
// wrote 23 MB). When any saved entry goes (confirmed, or passed), all
// that remain are written under pushedKey and the batches' keys go, in
// one transaction.
func (s *syncer) savePushed() error {
	kept := 0
	var add []pushedEntry
	for id, sr := range s.sent {
		if sr.pos <= s.st.Chain.Pos {
			if sr.earlier {
				delete(s.sent, id)
			}
			continue
		}
		if sr.saved {
			kept++
		} else {
			add = append(add, sr.saving(id))
		}
	}
	if kept+len(add) == 0 && !s.pushedSaved {
		s.savedN = 0
		return nil
	}
	byPos := func(a, b pushedEntry) int { return int(a.Pos - b.Pos) }
	if kept == s.savedN {
		if len(add) == 0 {
			return nil // saved as it is
		}
		slices.SortFunc(add, byPos)
		b, err := json.Marshal(add)
		if err != nil {
			return err
		}
		k := pushedKey + "/" + strconv.Itoa(s.pushedN+1)
		if err := s.v.SetSyncStates(map[string][]byte{k: b}, nil); err != nil {
			return err
		}
		s.pushedN++
		s.pushedKeys = append(s.pushedKeys, k)
		s.markSaved(add)
		s.savedN += len(add)
		s.pushedSaved = true
		return nil
	}
	ps := add
	for id, sr := range s.sent {
		if sr.pos > s.st.Chain.Pos && sr.saved {
			ps = append(ps, sr.saving(id))
		}
	}
	slices.SortFunc(ps, byPos)
	b, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	if err := s.v.SetSyncStates(map[string][]byte{pushedKey: b}, s.pushedKeys); err != nil {
		return err
	}
	s.pushedKeys, s.pushedN = nil, 0
	s.markSaved(ps)
	s.savedN = len(ps)
	s.pushedSaved = len(ps) > 0
	return nil
}

// pulled is what follows a pull that verified the chain to its head:
// the entries pushed and not seen back are saved (savePushed). (PrevKey
// is kept: a record taken in may wait as a conflict, opened with it; once
// an entry written in the current epoch is in the chain, no record of the
// epoch before can follow it, wire.CheckLogOrder, and the key it holds is
// the one the removed member holds too.)
func (s *syncer) pulled() error { return s.savePushed() }

// unsentConflicts: a record the server answered a push as in conflict
// with, and whose newer version the pull that followed did not bring,
// is one this device can no longer read — moved by a teammate out of its
// folder scopes (attack17 F3), or withheld. Pushing it again would get
// the same answer for ever and hold up every other change: its change
// stays on this device for this sync, and the sync says so (MovedAway).
func (s *syncer) unsentConflicts() error {
	ids := s.conflicted
	s.conflicted = nil
	for _, id := range ids {
		raw, err := hex.DecodeString(id)
		if err != nil || s.movedAway[id] {
			continue
		}
		ts, err := s.v.TrackedByID([][]byte{raw})
		if err != nil {
			return err
		}
		if len(ts) == 1 && ts[0].Mark != nil && ts[0].Mark.Theirs != nil {
			continue // a conflict this device holds: `hush resolve`
		}
		if s.movedAway == nil {
			s.movedAway = map[string]bool{}
		}
		s.movedAway[id] = true
	}
	s.rep.MovedAway = len(s.movedAway)
	s.st.MovedAway = maps.Clone(s.movedAway)
	return nil
}

// chainSync is a sync's pull and push on the chain.
func (s *syncer) chainSync(ctx context.Context, first *wire.ChainPage) error {
	s.chain = true
	if err := s.loadPushed(); err != nil {
		return err
	}
	if hold := s.scopedRead(); hold != nil {
		err := s.pullScoped(ctx, hold)
		if !errors.Is(err, wire.ErrUnlinked) {
			return err // read only: nothing to push
		}
		// A scope's entries from before scope links: the whole chain.
	}
	if err := s.pullChain(ctx, first); err != nil {
		return err
	}
	if err := s.pulled(); err != nil {
		return err
	}
	if !s.st.WritesAny() {
		if stt, err := status(s.t.v); err == nil {
			s.rep.ReadOnly = stt.Unpushed
		}
		return nil
	}
	if err := s.vouchMachineWrites(); err != nil {
		return err
	}
	for round := 0; round < chainRounds; round++ {
		s.status, s.head, s.heads = "", nil, nil
		if err := s.push(ctx); err != nil {
			return err
		}
		if s.status == "" {
			return nil // nothing to push
		}
		// Done only when this device sees its entries in the chain.
		if err := s.pullChain(ctx, nil); err != nil {
			return err
		}
		if err := s.pulled(); err != nil {
			return err
		}
		if err := s.unsentConflicts(); err != nil {
			return err
		}
		switch s.status {
		case wire.PushOK, wire.PushStale:
			return nil
		case wire.ChainUnstarted:
			return errors.New("the team server says the team's change chain has not started, but this device has verified it: refused. Run `hush team verify` and compare with a teammate")
		}
		// Behind, or a conflict: what the pull brought is signed again on
		// the new head (a record in conflict waits for `hush resolve`).
	}
	return errBehind
}

// pullChain verifies and applies the chain after this device's cursor,
// page by page. first, when set, is the first page, already fetched.
func (s *syncer) pullChain(ctx context.Context, first *wire.ChainPage) error {
	st := s.st
	if st.Chain.Pos > 0 && st.ScopeHeads == nil {
		if err := s.walkHeads(ctx); err != nil {
			return err
		}
		first = nil // a page from before the walk: asked again
	}
	at := st.Chain
	heads := st.ScopeHeads.Clone()
	atLog := st.ChainAtLog
	// A scope this device holds now and did not at its last pull, with
	// entries up to its cursor (granted since, or given back): their
	// records never came. The chain is read again from its start, with
	// every check of a first pull, and must pass through the cursor this
	// device verified (floor); of what lies up to it only the records of
	// those scopes are applied (attack22 G1).
	var held []string
	if st.Members != nil {
		held = st.Members.HeldScopes(st.Device.ID)
	}
	var floor wire.ChainCursor
	newly := st.newlyHeld(held)
	switch {
	case len(newly) == 0:
		newly = nil
	case s.mine > 0:
		// After this sync's push (a pull that asks without its own
		// records): left for the next sync, and not noted as read.
		newly, held = nil, st.HeldRead
	default:
		floor, at, heads, atLog, first = st.Chain, wire.ChainCursor{}, wire.ScopeHeads{}, 0, nil
		s.rep.ReadAgain = st.folderNames(newly)
	}
	appliedHeads := heads.Clone()
	cr := wire.ChainRecords{Holds: st.holdsScope()}
	// lastOf: the scope and version of each record's newest entry read in
	// this pull, for outMoves.
	lastOf := map[string]scopedAt{}
	hashes := map[int64][]byte{at.Pos: at.Hash}
	// A page is applied only once every record its entries name has come
	// (in it, or replaced by a later entry that came with its record):
	// until then it is held, so that a server withholding one record
	// cannot leave this device with the others of a change (half of a
	// rotated pair). applied is the cursor after the last page applied.
	type heldPage struct {
		records            []wire.Record
		entries            []wire.ChainEntry // its record entries, for noteMoves
		own                []string
		confirmed, vouched map[string]bool
		below              bool // every entry at or before floor
	}
	var waiting []heldPage
	applied := at
	// atLog: the log position of the entry at at, and appliedLog at
	// applied: the next entry may not name one below it.
	appliedLog := atLog
	setCursor := func(c wire.ChainCursor, log int64, h wire.ScopeHeads) {
		if c.Pos < floor.Pos {
			// Read again below the cursor this device verified: that one
			// stays, and the next pull reads again from the start.
			return
		}
		st.Chain, st.ChainAtLog, st.ScopeHeads = c, log, h.Clone()
		st.HeldRead = held
	}
	// Pushes are applied whole: a page that ends inside one (a lying
	// server; an honest one runs a page on to the end of a push) is held
	// until the rest of the push comes, and refused if it does not.
	var marks wire.PushMarks
	for {
		pg := first
		first = nil
		if pg == nil {
			pg = &wire.ChainPage{}
			q := chainQuery(at.Pos)
			if s.mine > 0 {
				// This sync's own records: this device holds them.
				q += "&mine=" + strconv.FormatInt(s.mine, 10)
			}
			if err := s.c.do(ctx, "GET", q, nil, pg); err != nil {
				return err
			}
		}
		if !pg.Started {
			return fmt.Errorf("the team server says the team's change chain has not started, but this device knows it has (it verified it to position %d, or its invitation said so): refused. Run `hush team verify` and compare with a teammate", at.Pos)
		}
		if len(pg.Entries) == 0 {
			if _, last := marks.Open(); last > 0 {
				setCursor(applied, appliedLog, appliedHeads)
				return pushCut(at, applied, &marks, pg)
			}
			if err := s.checkPage(at, pg); err != nil {
				return err
			}
			break
		}
		// Entries first: a membership change this device has not fetched
		// yet (an honest race) sends Sync back for the log.
		for i := range pg.Entries {
			if e := &pg.Entries[i]; e.LogSeq > st.Members.Seq {
				return &logAheadError{BadRecordError{e.ID, "written at a membership log position this device has not seen"}}
			}
		}
		next, err := wire.VerifyChainKnown(st.Team, at, pg.Entries, st.chainSigners, outOfScope(st.Team, pg.Entries, cr.Holds, s.signed))
		if err != nil {
			return err
		}
		if err := wire.CheckLogOrder(atLog, pg.Entries); err != nil {
			return err
		}
		if err := s.outMoves(pg.Entries, cr.Holds, lastOf, atLog); err != nil {
			return err
		}
		if err := marks.Check(pg.Entries); err != nil {
			return err
		}
		if err := s.checkPage(at, pg); err != nil {
			return err
		}
		for i := range pg.Entries {
			hashes[pg.Entries[i].Pos] = pg.Entries[i].Hash(st.Team)
		}
		if p := floor.Pos; p > at.Pos && p <= next.Pos && !bytes.Equal(hashes[p], floor.Hash) {
			return &wire.ChainError{Fault: wire.FaultReplaced, Pos: p, Msg: "read again from its start, the chain does not pass through the entry this device verified there: the server is showing this device another history"}
		}
		// Scope links: each linked entry follows the last entry of its
		// scope, which this device verified (a scoped device checks them
		// alone; this one checks them beside the chain's own links).
		for i := range pg.Entries {
			e := &pg.Entries[i]
			if err := heads.CheckLink(e); err != nil {
				return err
			}
			heads.Follow(e, hashes[e.Pos])
		}
		if e := &pg.Entries[0]; e.Kind == wire.ChainBase {
			if err := wire.CheckBase(pg.Base); err != nil || !bytes.Equal(wire.BaseHash(pg.Base), e.SealedHash) {
				return &wire.ChainError{Fault: wire.FaultMismatch, Pos: 1, Msg: "the snapshot sent with the base entry is not the one its author signed"}
			}
			cr.Base(e.Pos, pg.Base)
		} else if len(pg.Base) > 0 {
			return &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: "a snapshot came without its base entry"}
		}
		if err := cr.Page(pg.Entries, pg.Records); err != nil {
			return err
		}
		// Entries this device signed in this sync (the same hash) name
		// records it holds: the server need not send them back.
		var own []string
		for i := range pg.Entries {
			e := &pg.Entries[i]
			if h, ok := s.signed[e.Pos]; ok && e.Kind == wire.ChainRecord && bytes.Equal(h, hashes[e.Pos]) {
				cr.Known(e)
				own = append(own, e.ID)
			}
		}
		// This device's own pushes, at the positions it signed.
		s.confirmed, s.vouched = map[string]bool{}, map[string]bool{}
		newest := map[string]*wire.ChainEntry{}
		scoped := len(st.Members.Scopes) > 0 || len(st.Members.RootOff) > 0
		for i := range pg.Entries {
			e := &pg.Entries[i]
			if e.Kind == wire.ChainRecord {
				newest[e.ID] = e
				if scoped {
					if s.entriesOf == nil {
						s.entriesOf = map[string][]wire.ChainEntry{}
					}
					s.entriesOf[e.ID] = append(s.entriesOf[e.ID], *e)
				}
			}
			// An authentic entry by another device that is still a member:
			// a removed member's key (which the server may hold) says
			// nothing of whether the team's changes reach this device.
			if d, ok := st.Members.Devices[e.Author]; e.Author != st.Device.ID && ok && d.Removed == 0 && (cr.Holds == nil || cr.Holds(e.Scope)) && e.Pos > floor.Pos {
				s.fresh = true
			}
		}
		// A push is confirmed by its entries: each at the position this
		// device signed it, with the hash it signed (its record is then
		// the one this device holds, byte for byte), whether or not a
		// later entry, in this page or a later one, replaced the record.
		for i := range pg.Entries {
			e := &pg.Entries[i]
			if sr, ok := s.sent[e.ID]; ok && e.Kind == wire.ChainRecord && e.Pos == sr.pos && bytes.Equal(hashes[e.Pos], sr.entry) {
				s.confirmed[e.ID] = true
			}
		}
		// A record of this page is its id's newest entry in the page
		// (ChainRecords.Page checked it byte for byte), whose signature
		// VerifyChain checked; a record matched to a base snapshot item
		// only is checked in full.
		for i := range pg.Records {
			if e, ok := newest[pg.Records[i].ID]; ok && e.Matches(&pg.Records[i]) {
				s.vouched[pg.Records[i].ID] = true
			}
		}
		recs := pg.Records
		if newly != nil {
			// Up to the cursor this device verified, it has the records of
			// the scopes it held then: only the others are applied.
			recs = make([]wire.Record, 0, len(pg.Records))
			for i := range pg.Records {
				r := &pg.Records[i]
				pos := int64(1) // a base snapshot's item
				if e, ok := newest[r.ID]; ok {
					pos = e.Pos
				}
				if pos > floor.Pos || newly[r.Scope] {
					recs = append(recs, *r)
				}
			}
		}
		var recEntries []wire.ChainEntry
		if cr.Holds != nil {
			for i := range pg.Entries {
				if pg.Entries[i].Kind == wire.ChainRecord {
					recEntries = append(recEntries, pg.Entries[i])
				}
			}
		}
		waiting = append(waiting, heldPage{recs, recEntries, own, s.confirmed, s.vouched, next.Pos <= floor.Pos})
		if s.fresh {
			st.LastChange = st.now().UTC()
		}
		for i := range pg.Entries {
			st.ChainLogSeq = max(st.ChainLogSeq, pg.Entries[i].LogSeq)
		}
		at, atLog = next, pg.Entries[len(pg.Entries)-1].LogSeq
		st.Chained = true
		if !pg.More {
			if _, last := marks.Open(); last > 0 {
				setCursor(applied, appliedLog, appliedHeads)
				return pushCut(at, applied, &marks, pg)
			}
			if err := cr.Done(); err != nil {
				setCursor(applied, appliedLog, appliedHeads)
				return err
			}
		}
		if _, open := marks.Open(); cr.Pending() == 0 && open == 0 {
			for _, h := range waiting {
				s.confirmed, s.vouched = h.confirmed, h.vouched
				// This device's own entries first: a later entry by a
				// teammate on the same record is then built on it, not
				// a conflict with it.
				if err := s.confirmOwn(h.own); err != nil {
					return err
				}
				fresh := s.fresh
				if err := s.apply(h.records); err != nil {
					return err
				}
				if err := s.noteMoves(h.entries, cr.Holds); err != nil {
					return err
				}
				if h.below {
					s.fresh = fresh // read again: nothing new from the team
				}
			}
			waiting, applied, appliedLog, appliedHeads = nil, at, atLog, heads.Clone()
		}
		if !pg.More {
			break
		}
		// Progress, page by page, but never past a page held back:
		// resumed, the pull asks for it again.
		setCursor(applied, appliedLog, appliedHeads)
		if err := s.t.save(); err != nil {
			return err
		}
	}
	if at.Pos < floor.Pos {
		return &RollbackError{fmt.Sprintf("read again from its start, its change chain ends at entry %d, but this device has verified %d", at.Pos, floor.Pos)}
	}
	setCursor(at, atLog, heads)
	return nil
}

// outMoves checks, in a pull of the whole chain by a device that does
// not hold every scope, each entry that moves a record out of the scopes
// it holds for good: an entry of a scope it does not hold whose record's
// version before it was of one it holds, when no later entry of the page
// brings the record back (one that does is judged where it comes back,
// by checkMoves, as a scoped read judges it). The version before is the
// record's entry read before it in this pull (lastOf, kept across
// pages), or, for a record this pull meets first in such an entry, this
// device's copy of that version (in step with the server; its scope is
// its name's, as checkMoves finds it). The chain's own check
// (VerifyChainKnown) leaves such an entry's signature to its scope's
// holders; this is the check a scoped read makes of the same move, the
// server's proof that the record left (checkMoveOut, attack20 H5): a
// writer token, which reads the whole chain before it pushes, refused
// nothing of a move its scoped read refuses, and signed its own push on
// top of it. floor is the log position of the entry before the first.
func (s *syncer) outMoves(entries []wire.ChainEntry, holds func(string) bool, lastOf map[string]scopedAt, floor int64) error {
	if holds == nil {
		return nil
	}
	type moveOut struct {
		i    int
		from string // "" with copy: the copy's, found below
		copy bool
	}
	out := map[string]moveOut{}
	for i := range entries {
		e := &entries[i]
		if e.Kind != wire.ChainRecord {
			continue
		}
		was, ok := lastOf[e.ID]
		lastOf[e.ID] = scopedAt{e.Scope, e.Version}
		switch {
		case holds(e.Scope):
			delete(out, e.ID) // back in the scopes: checkMoves' to judge
		case !ok:
			if e.Version > 1 {
				out[e.ID] = moveOut{i: i, copy: true}
			}
		case was.version == e.Version-1 && holds(was.scope):
			out[e.ID] = moveOut{i: i, from: was.scope}
		}
	}
	if len(out) == 0 {
		return nil
	}
	var ids [][]byte
	for id, m := range out {
		if !m.copy {
			continue
		}
		raw, err := hex.DecodeString(id)
		if err != nil {
			return &wire.ChainError{Fault: wire.FaultMalformed, Pos: entries[m.i].Pos, Msg: "a record id that is not hex"}
		}
		ids = append(ids, raw)
	}
	copies := map[string]*vault.Tracked{}
	if len(ids) > 0 {
		ts, err := s.v.TrackedByID(ids)
		if err != nil {
			return err
		}
		for i := range ts {
			copies[hex.EncodeToString(ts[i].ID)] = &ts[i]
		}
	}
	// In position order: the fault reported is the first.
	order := slices.SortedFunc(maps.Values(out), func(a, b moveOut) int { return a.i - b.i })
	var folders map[string]string
	for _, m := range order {
		e := &entries[m.i]
		from := m.from
		if m.copy {
			t := copies[e.ID]
			if t == nil || !t.Exists || t.Deleted || t.Dirty() || t.Mark == nil || t.Mark.Seen != e.Version-1 {
				continue // no copy of the version before it here: its holders' to check
			}
			if folders == nil {
				var err error
				if folders, err = s.st.scopeFolders(); err != nil {
					return err
				}
			}
			name, err := s.v.NameByID(t.ID)
			if err != nil {
				return err
			}
			// The copy's scope is its name's; a scope carved above it
			// since this device's cursor leaves it unknown here (the
			// carve's re-seal is a version of its own), and unchecked.
			ms := s.st.Members
			from = wire.DeepestScope(foldersAt(ms, folders, e.LogSeq), name)
			if from != wire.DeepestScope(foldersAt(ms, folders, s.st.ChainAtLog), name) || !holds(from) {
				continue
			}
		}
		before := floor
		if m.i > 0 {
			before = entries[m.i-1].LogSeq
		}
		if err := s.st.checkMoveOut(e, from, holds, before); err != nil {
			return err
		}
	}
	return nil
}

// noteMoves keeps State.MovedOut after a page of record entries (in
// chain order) is applied: a record whose last entry here is of a scope
// this device does not hold, and of which it keeps a live copy, moved
// out of its reach; one whose last entry is of a scope it holds did not
// (or came back).
func (s *syncer) noteMoves(entries []wire.ChainEntry, holds func(string) bool) error {
	if holds == nil || len(entries) == 0 {
		return nil
	}
	held := map[string]bool{}
	for i := range entries {
		held[entries[i].ID] = holds(entries[i].Scope)
	}
	var away [][]byte
	for id, h := range held {
		if h {
			delete(s.st.MovedOut, id)
		} else if raw, err := hex.DecodeString(id); err == nil {
			away = append(away, raw)
		}
	}
	if len(away) == 0 {
		return nil
	}
	ts, err := s.v.TrackedByID(away)
	if err != nil {
		return err
	}
	for _, t := range ts {
		id := hex.EncodeToString(t.ID)
		if !t.Exists || t.Deleted {
			delete(s.st.MovedOut, id)
			continue
		}
		if s.st.MovedOut == nil {
			s.st.MovedOut = map[string]bool{}
		}
		s.st.MovedOut[id] = true
	}
	return nil
}

// newlyHeld is the scopes of held (the scopes this device holds now)
// that it did not hold at its last pull (HeldRead) and that have entries
// up to its cursor: their records up to there were never sent to it. A
// scope new to the log has none (a carve: the re-seal that moves its
// secrets in comes after), nor has anything for a device that has not
// pulled yet or a team without folder scopes (every device holds all).
func (st *State) newlyHeld(held []string) map[string]bool {
	if st.Chain.Pos == 0 || st.holdsScope() == nil {
		return nil
	}
	var out map[string]bool
	for _, id := range held {
		if _, ok := st.ScopeHeads[id]; !ok || slices.Contains(st.HeldRead, id) {
			continue
		}
		if out == nil {
			out = map[string]bool{}
		}
		out[id] = true
	}
	return out
}

// folderNames is the folders of the scopes ids names ("/" the root),
// sorted, for a message.
func (st *State) folderNames(ids map[string]bool) []string {
	folders, _ := st.scopeFolders()
	out := make([]string, 0, len(ids))
	for id := range ids {
		switch f := folders[id]; {
		case id == "":
			out = append(out, "/")
		case f != "":
			out = append(out, f)
		default:
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// walkHeads finds the scopes' heads of a state saved before scope links
// (ScopeHeads nil): it fetches the chain from its start to this device's
// cursor and links it, entry by entry, to the hash this device verified
// there, which vouches for every entry before it; no signature needs
// checking again. Done once per device.
func (s *syncer) walkHeads(ctx context.Context) error {
	st := s.st
	heads := wire.ScopeHeads{}
	var at wire.ChainCursor
	for at.Pos < st.Chain.Pos {
		var pg wire.ChainPage
		if err := s.c.do(ctx, "GET", chainQuery(at.Pos), nil, &pg); err != nil {
			return err
		}
		if len(pg.Entries) == 0 {
			return &RollbackError{fmt.Sprintf("its change chain ends at entry %d, but this device has verified %d", at.Pos, st.Chain.Pos)}
		}
		if len(pg.Entries) > wire.MaxPageEntries {
			return fmt.Errorf("the team server sent %d chain entries in one page (at most %d): refused", len(pg.Entries), wire.MaxPageEntries)
		}
		for i := range pg.Entries {
			e := &pg.Entries[i]
			if e.Pos > st.Chain.Pos {
				break
			}
			if err := e.CheckShape(); err != nil {
				return &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: err.Error()}
			}
			if e.Pos != at.Pos+1 || !bytes.Equal(e.Prev, at.PrevHash()) {
				return &wire.ChainError{Fault: wire.FaultReplaced, Pos: at.Pos + 1, Msg: "the chain up to this device's position is not the one it verified"}
			}
			at = e.Next(st.Team)
			heads.Follow(e, at.Hash)
		}
	}
	if !at.Equal(st.Chain) {
		return &wire.ChainError{Fault: wire.FaultReplaced, Pos: st.Chain.Pos, Msg: "the chain up to this device's position is not the one it verified"}
	}
	st.ScopeHeads = heads // saved with the cursor, by the pull that follows
	return nil
}

// pushCut is the refusal of a pull that ends inside a push: the server
// stopped at at, and says no more follows, or names an older head.
func pushCut(at, applied wire.ChainCursor, marks *wire.PushMarks, pg *wire.ChainPage) error {
	first, last := marks.Open()
	head := "and says its chain ends there"
	switch {
	case len(pg.Entries) == 0 && pg.Head.Pos < at.Pos:
		head = fmt.Sprintf("then names an older head (entry %d)", pg.Head.Pos)
	case len(pg.Entries) == 0 && pg.Head.Pos > at.Pos:
		head = fmt.Sprintf("then names entry %d as its head but sends nothing", pg.Head.Pos)
	}
	return &wire.ChainError{Fault: wire.FaultPushCut, Pos: at.Pos + 1, Msg: fmt.Sprintf(
		"the server sent entries up to %d, inside one device's push of entries %d to %d, %s: it is withholding the rest of that push, so none of it was applied (this device stays at entry %d)",
		at.Pos, first, last, head, applied.Pos)}
}

// checkPage checks what the server says of its head against the page
// (whose entries verified), before anything of it is used: a head is the server's word only, and
// may move nothing; but a claim that cannot be true is refused, so that
// a lie is reported rather than followed.
func (s *syncer) checkPage(at wire.ChainCursor, pg *wire.ChainPage) error {
	if len(pg.Entries) > wire.MaxPageEntries {
		return fmt.Errorf("the team server sent %d chain entries in one page (at most %d): refused", len(pg.Entries), wire.MaxPageEntries)
	}
	if len(pg.Moved) > 0 {
		// A scoped page's proofs of moves: a page of the whole chain
		// carries every entry in its place, and this pull would check
		// none of these (attack20 H4).
		return &wire.ChainError{Fault: wire.FaultMalformed, Pos: pg.Moved[0].Pos, Msg: "a page of the whole chain came with entries sent as records' moves"}
	}
	if len(pg.Entries) == 0 {
		switch {
		case pg.More:
			return fmt.Errorf("the team server says chain entries after %d follow, but sends none: refused", at.Pos)
		case pg.Head.Pos < at.Pos:
			return &RollbackError{fmt.Sprintf("its change chain has %d entries, but this device has verified %d", pg.Head.Pos, at.Pos)}
		case pg.Head.Pos > at.Pos:
			return fmt.Errorf("the team server says its change chain reaches entry %d, but sends nothing after %d: refused", pg.Head.Pos, at.Pos)
		case !pg.Head.Equal(at):
			return &wire.ChainError{Fault: wire.FaultReplaced, Pos: at.Pos, Msg: "the server's head there is not the entry this device verified: it is showing this device another history"}
		}
		return nil
	}
	last := &pg.Entries[len(pg.Entries)-1]
	switch {
	case !pg.More && pg.Head.Pos != last.Pos:
		return fmt.Errorf("the team server says its change chain reaches entry %d, but sends entries only up to %d: refused", pg.Head.Pos, last.Pos)
	case !pg.More && !bytes.Equal(pg.Head.Hash, last.Hash(s.st.Team)):
		return &wire.ChainError{Fault: wire.FaultReplaced, Pos: last.Pos, Msg: "the server names another entry as its head there: it is showing this device two histories"}
	}
	return nil
}

// chainBatch pushes one batch of records as entries on the chain head
// this device verified (or on its own entries of this push, batch after
// batch). What the server answers is noted; nothing in it is taken as
// done, and nothing moves the cursor.
func (s *syncer) chainBatch(ctx context.Context, recs []*wire.Record, ts []*vault.Tracked) error {
	return s.chainBatchSigned(ctx, nil, recs, ts)
}

// chainSigned is a batch's entries signed on the head at req.Prev and
// the scope heads base, and the heads after them (cur, heads).
type chainSigned struct {
	req         wire.ChainPush
	base, heads wire.ScopeHeads
	cur         wire.ChainCursor
	now         time.Time
}

// signChain signs recs as the entries after at, dated now, linked to the
// scope heads base (not changed): what chainBatch sends. It reads only
// the team, this device's id and key, so a push signs the next batch's
// entries while this batch is on its way (push); chainBatchSigned uses
// them only if at and base are then the heads.
func (s *syncer) signChain(at wire.ChainCursor, base wire.ScopeHeads, recs []*wire.Record, now time.Time, unmarked, unlinked bool) *chainSigned {
	st := s.st
	req := wire.ChainPush{Prev: at, Records: make([]wire.Record, len(recs)), Entries: make([]wire.ChainEntry, len(recs))}
	// Each entry also links to the last entry of its scope (docs/sync.md,
	// "Scope links"): the heads this device verified, moved on by its own
	// entries of this push, batch after batch.
	heads := base.Clone() // a batch the server does not take moves nothing
	link := !unmarked && !unlinked
	for i, r := range recs {
		req.Records[i] = *r
		req.Entries[i] = wire.NextEntry(wire.ChainCursor{Pos: at.Pos + int64(i)}, r, now)
		if !unmarked {
			req.Entries[i].InPush(at, len(recs))
		}
	}
	if link {
		wire.LinkPush(req.Entries)
	}
	cur := at
	key := st.signer()
	for i := range req.Entries {
		e := &req.Entries[i]
		e.Prev = cur.PrevHash()
		if link {
			heads.LinkNext(e)
		}
		e.SignOneOf(len(recs), st.Team, st.Device.ID, key)
		cur = e.Next(st.Team)
		heads.Follow(e, cur.Hash)
	}
	return &chainSigned{req: req, base: base, heads: heads, cur: cur, now: now}
}

// chainHead is the head the next batch of this push goes on, and the
// scope heads then.
func (s *syncer) chainHead() (wire.ChainCursor, wire.ScopeHeads) {
	heads := s.heads
	if heads == nil {
		heads = s.st.ScopeHeads
	}
	if s.head != nil {
		return *s.head, heads
	}
	return s.st.Chain, heads
}

// chainBatchSigned is chainBatch with the entries signed already (nil:
// not yet, or on other heads than the ones to push on now).
func (s *syncer) chainBatchSigned(ctx context.Context, sg *chainSigned, recs []*wire.Record, ts []*vault.Tracked) error {
	st := s.st
	at, base := s.chainHead()
	if sg == nil || !sg.req.Prev.Equal(at) || !maps.EqualFunc(sg.base, base, wire.ChainCursor.Equal) {
		sg = s.signChain(at, base, recs, st.now(), s.t.unmarked, s.t.unlinked)
	}
	req, cur, heads, now := sg.req, sg.cur, sg.heads, sg.now
	st.LastWrite = now.UTC()
	took := func() {
		if s.sent == nil {
			s.sent = map[string]sentRecord{}
		}
		if s.signed == nil {
			s.signed = map[int64][]byte{}
		}
		for i, r := range recs {
			t := ts[i]
			e := &req.Entries[i]
			h := e.Hash(st.Team)
			s.signed[e.Pos] = h
			if s.mine == 0 || e.Pos < s.mine {
				s.mine = e.Pos
			}
			s.sent[r.ID] = sentRecord{version: r.Version, hash: sha256.Sum256(r.Sealed), head: t.Head, deleted: t.Deleted || !t.Exists, pos: e.Pos, entry: h}
		}
	}
	var resp wire.ChainPushResponse
	if err := s.c.do(ctx, "POST", "/v2/push", req, &resp); err != nil {
		// The server may have taken it, its answer lost: the next sync
		// recognises these entries if they come.
		took()
		if serr := s.savePushed(); serr != nil {
			return errors.Join(err, serr)
		}
		return err
	}
	s.status = resp.Status
	switch resp.Status {
	case wire.PushOK:
		took()
		s.head, s.heads = &cur, heads
		if err := s.savePushed(); err != nil {
			return err
		}
		return nil
	case wire.PushStale:
		s.stale += len(recs)
	case wire.PushConflict:
		s.conflicted = append(s.conflicted, resp.Conflicts...)
	case wire.ChainBehind, wire.ChainUnstarted:
	default:
		return fmt.Errorf("the team server answered a push with status %q", resp.Status)
	}
	return errStopPush
}

// confirmOwn marks pushed the changes whose entries came back where this
// device signed them, in a page that (asked with mine) left their records
// out: this device holds them.
func (s *syncer) confirmOwn(ids []string) error {
	var recs []wire.Record
	for _, id := range ids {
		if sr, ok := s.sent[id]; ok && s.confirmed[id] && sr.pos > 0 {
			recs = append(recs, wire.Record{ID: id})
		}
	}
	if len(recs) == 0 {
		return nil
	}
	if err := s.track(recs); err != nil {
		return err
	}
	marks := map[string]vault.SyncMark{}
	for _, r := range recs {
		sr, t := s.sent[r.ID], s.tracked[r.ID]
		var mark vault.SyncMark
		if t != nil && t.Mark != nil {
			mark = *t.Mark
		}
		mark.Base, mark.Seen, mark.LocalHead, mark.LocalDeleted = sr.version, max(mark.Seen, sr.version), sr.head, sr.deleted
		marks[r.ID] = mark
		if t != nil {
			m := mark
			t.Mark = &m
		}
		delete(s.sent, r.ID)
		s.rep.Pushed++
	}
	return s.v.PutMarks(marks)
}
