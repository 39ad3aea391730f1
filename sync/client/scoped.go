package client

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A machine token that holds some scopes and not every one reads only
// their entries (docs/sync.md, "Scope links"): GET /v2/chain?scoped=1
// gives the entries of its scopes, each linked to the one of its scope
// before it, and their records, in one round trip for a small scope; the
// token verifies them as a chain of their own (wire.ScopedPull) and
// applies nothing until every page has checked out. The rest of the
// team's chain is its holders' to check.

// scopedRead says whether this sync reads only the device's scopes: a
// machine token's team in memory that holds some scopes and not every
// one, with nothing of its own to push (a push extends the whole chain,
// which a device must have verified to sign on it).
func (s *syncer) scopedRead() func(string) bool {
	st := s.st
	if !s.t.token || st.Chain.Pos != 0 {
		return nil
	}
	hold := st.holdsScope()
	if hold == nil {
		return nil
	}
	if stt, err := status(s.t.v); err != nil || stt.Unpushed > 0 {
		return nil
	}
	return hold
}

// heldKey names the set of scopes a device holds: a scoped read goes on
// from where the last one stopped only for the same set (a scope granted
// since must be read from its start).
func (st *State) heldKey(hold func(string) bool) string {
	var ids []string
	if hold("") {
		ids = append(ids, "/")
	}
	for id := range st.Members.Scopes {
		if hold(id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

// pullScoped reads the entries of the scopes hold names after where the
// last scoped read of this Team stopped, checks them and their records,
// then applies the records. wire.ErrUnlinked: an entry of those scopes
// was written before scope links, and the caller pulls the whole chain
// instead (nothing was applied).
func (s *syncer) pullScoped(ctx context.Context, hold func(string) bool) error {
	st, t := s.st, s.t
	key := st.heldKey(hold)
	sp := wire.ScopedPull{}
	if t.scoped != nil && t.scopedHeld == key {
		sp = *t.scoped // Page replaces its maps, never changes them
	}
	cr := wire.ChainRecords{Holds: hold}
	var moved []wire.ChainEntry
	newest := map[string]wire.ChainEntry{}
	// scopeOf: the scope of each record's newest entry verified, in this
	// read or the last one (a running agent's); logs: the positions and
	// log positions of the entries verified in this read, in order.
	scopeOf := map[string]scopedAt{}
	// resuming: this read goes on from the last one (a running agent's),
	// whose records this device still serves; start is where that ended.
	resuming := t.scoped != nil && t.scopedHeld == key && sp.After > 0
	var prior map[string]scopedAt
	start := sp.After
	// suspect: records whose newest entry read came after a scope change
	// by a device that could not write the scope left (below).
	suspect := map[string]suspectMove{}
	gone := map[string][]byte{}
	if resuming {
		maps.Copy(scopeOf, t.scopedOf)
		maps.Copy(suspect, t.scopedSuspect)
		maps.Copy(gone, t.scopedGone)
		prior = t.scopedOf
	}
	floor := sp.LogFloor
	var logs []wire.ChainEntry
	var order []string
	recs := map[string]wire.Record{}
	for {
		var pg wire.ChainPage
		q := chainQuery(sp.After) + "&" + wire.ChainScoped + "=1"
		if resuming && sp.After == start {
			// The first page: with the entries that took a record read
			// before out of these scopes since (attack20 H3).
			q += "&" + wire.ChainMoves + "=1"
		}
		if err := s.c.do(ctx, "GET", q, nil, &pg); err != nil {
			return err
		}
		if !pg.Started {
			return errors.New("the team server says the team's change chain has not started, but the machine token's team has one: refused. Ask an admin to run `hush team verify`")
		}
		if len(pg.Entries) > wire.MaxPageEntries {
			return fmt.Errorf("the team server sent %d chain entries in one page (at most %d): refused", len(pg.Entries), wire.MaxPageEntries)
		}
		if len(pg.Base) > 0 {
			return &wire.ChainError{Fault: wire.FaultMalformed, Msg: "a snapshot came with the entries of a scope"}
		}
		if len(pg.Moved) > wire.MaxPageEntries {
			return fmt.Errorf("the team server sent %d moved records' entries in one page (at most %d): refused", len(pg.Moved), wire.MaxPageEntries)
		}
		moved = append(moved, pg.Moved...) // also with no entry: a move since the last read
		if len(pg.Entries) == 0 {
			if pg.More {
				return fmt.Errorf("the team server says chain entries after %d follow, but sends none: refused", sp.After)
			}
			if len(pg.Records) > 0 {
				return &wire.ChainError{Fault: wire.FaultMismatch, Msg: "records came with no entry naming them"}
			}
			break
		}
		for i := range pg.Entries {
			if e := &pg.Entries[i]; e.LogSeq > st.Members.Seq {
				return &logAheadError{BadRecordError{e.ID, "written at a membership log position this device has not seen"}}
			}
		}
		if err := sp.Page(st.Team, pg.Entries, hold, st.chainSigners); err != nil {
			return err
		}
		if err := cr.Page(pg.Entries, pg.Records); err != nil {
			return err
		}
		for i := range pg.Entries {
			e := pg.Entries[i]
			// A record that comes into one of these scopes from another
			// of them: only a writer of the one it leaves may move it
			// (attack18 F1, as syncer.checkMoves on a device with a
			// vault). Also across versions this token does not see (of a
			// scope it does not hold): a takeover hidden behind one
			// (attack21 N1). Such a record is not served, and the read
			// says who wrote it; the rest is (its author's signature makes
			// it her doing, so it stops no read: attack22 P1), and a
			// later version by a writer of the scope it left settles it.
			// Two honest moves by different writers through a scope the
			// token does not hold look the same: that secret waits for
			// such a version.
			if from, ok := scopeOf[e.ID]; ok && from.scope != e.Scope && !st.writesScopeAt(e.Author, from.scope, e.LogSeq) {
				suspect[e.ID] = suspectMove{e, from.scope}
			} else if sm, ok := suspect[e.ID]; ok && st.writesScopeAt(e.Author, sm.left, e.LogSeq) {
				delete(suspect, e.ID)
			}
			scopeOf[e.ID] = scopedAt{e.Scope, e.Version}
			logs = append(logs, wire.ChainEntry{Pos: e.Pos, LogSeq: e.LogSeq})
			newest[e.ID] = e
			if d, ok := st.Members.Devices[e.Author]; ok && d.Removed == 0 && e.Author != st.Device.ID {
				s.fresh = true
			}
			st.ChainLogSeq = max(st.ChainLogSeq, e.LogSeq)
		}
		for i := range pg.Records {
			r := pg.Records[i]
			if _, ok := recs[r.ID]; !ok {
				order = append(order, r.ID)
			}
			recs[r.ID] = r // a later entry's record replaces an earlier one's
		}
		if !pg.More {
			break
		}
	}
	if err := sp.Done(); err != nil {
		return err
	}
	left, err := s.checkMoved(&cr, moved, hold, floor, logs, newest, prior, gone, start)
	if err != nil {
		return err
	}
	if err := cr.Done(); err != nil {
		return err
	}
	// A record is exactly what its id's newest entry names (ChainRecords
	// checked it byte for byte): that entry's signature covers it.
	s.vouched = map[string]bool{}
	list := make([]wire.Record, 0, len(order))
	for _, id := range order {
		r := recs[id]
		if e, ok := newest[id]; ok && e.Matches(&r) {
			s.vouched[id] = true
		}
		if sm, ok := suspect[id]; ok {
			s.skipSuspect(&r, sm)
			continue
		}
		list = append(list, r)
	}
	if err := s.apply(list); err != nil {
		return err
	}
	if len(left) > 0 {
		// Records read before that have left these scopes since: no
		// longer served. (A removal with no content: the record itself is
		// sealed under a scope this device does not hold.)
		drop := make([]vault.Remote, 0, len(left))
		for _, e := range left {
			id, err := hex.DecodeString(e.ID)
			if err != nil {
				return &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: "a record id that is not hex"}
			}
			drop = append(drop, vault.Remote{ID: id, Deleted: true, Mark: vault.SyncMark{Base: e.Version, Seen: e.Version}})
			delete(scopeOf, e.ID)
			gone[e.ID] = e.Hash(st.Team)
		}
		if _, err := s.v.ApplyRemote(drop); err != nil {
			return err
		}
		s.rep.LeftScopes += len(left)
		s.fresh = true
	}
	if s.fresh {
		st.LastChange = st.now().UTC()
	}
	for id := range newest {
		delete(gone, id) // named again: in the scopes since
	}
	t.scoped, t.scopedHeld, t.scopedOf, t.scopedSuspect, t.scopedGone = &sp, key, scopeOf, suspect, gone
	return nil
}

// suspectMove is the entry that moved a record out of folder scope left,
// which its author could not write.
type suspectMove struct {
	entry wire.ChainEntry
	left  string
}

// skipSuspect reports r, not applied: its newest version came through
// sm's move, which its author could not make. The name is read from the
// record (of a scope this device holds) for the report only.
func (s *syncer) skipSuspect(r *wire.Record, sm suspectMove) {
	name := ""
	if p, err := s.st.openRecord(r, s.vouched[r.ID]); err == nil && p != nil {
		name = p.Name
		clear(p.Value)
	}
	u := moveReport(s.st.Members, &sm.entry, r.ID, cmp.Or(name, "record "+r.ID))
	reason := fmt.Sprintf("it brought %s here from a folder scope its author could not write", cmp.Or(name, "record "+r.ID))
	s.rep.Unreadable = append(s.rep.Unreadable, Unreadable{ID: r.ID, Name: name, Version: sm.entry.Version, Device: u.Device, Member: u.Member, Reason: reason})
}

// checkMoved takes the server's proof that a record has left the
// device's scopes: the record's newer entry, of a scope the device does
// not hold, signed by a device that could write there. Every entry sent
// is checked (at most one per record), else the read is refused
// (attack20 H4). For a record an
// entry of this read named, without it the record would be missing (a
// withheld record); for one an earlier read of a running agent gave
// (prior, read up to start) and this one does not name, it is why the
// agent stops serving it, and checkMoved returns those moves; one an
// earlier read verified and acted on (gone: the same entry) is sent again
// until an entry of the scopes follows it. With a forged one, or one of
// none of these, the read is refused.
func (s *syncer) checkMoved(cr *wire.ChainRecords, moved []wire.ChainEntry, hold func(string) bool, floor int64, logs []wire.ChainEntry,
	named map[string]wire.ChainEntry, prior map[string]scopedAt, gone map[string][]byte, start int64) ([]*wire.ChainEntry, error) {
	st := s.st
	seen := map[string]bool{}
	var left []*wire.ChainEntry
	for i := range moved {
		e := &moved[i]
		if seen[e.ID] {
			return nil, &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: fmt.Sprintf("record %s came with two entries that moved it", e.ID)}
		}
		seen[e.ID] = true
		var fromScope string
		if from, ok := cr.Expected(e.ID); ok {
			// The move is the next version after the one expected: what
			// comes after it is the other scope's holders' to check.
			if e.Version != from.Version+1 || e.Pos <= from.Pos {
				return nil, &wire.ChainError{Fault: wire.FaultMismatch, Pos: e.Pos, Msg: fmt.Sprintf("the entry sent as record %s's move is not the version after %d", e.ID, from.Version)}
			}
			fromScope = from.Scope
		} else if was, ok := prior[e.ID]; ok && named[e.ID].ID == "" {
			// Read before, not since: the move is the next version after
			// the one read, and after the last read.
			if e.Version != was.version+1 || e.Pos <= start {
				return nil, &wire.ChainError{Fault: wire.FaultMismatch, Pos: e.Pos, Msg: fmt.Sprintf("the entry sent as record %s's move is not the version after %d, after this device's last read", e.ID, was.version)}
			}
			fromScope = was.scope
			left = append(left, e)
		} else if h, ok := gone[e.ID]; ok && named[e.ID].ID == "" && bytes.Equal(h, e.Hash(st.Team)) {
			continue // the move an earlier read verified, sent again: that secret is gone already
		} else {
			// An honest server sends the move of a record this read
			// expects, or of one an earlier read gave and this one does not
			// name: any other is an entry this device would not verify,
			// and a page that carries one is refused (attack20 H4).
			return nil, &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: fmt.Sprintf("the entry sent as record %s's move is of no record this read expects", e.ID)}
		}
		before := floor
		if k, _ := slices.BinarySearchFunc(logs, e.Pos, func(l wire.ChainEntry, pos int64) int { return cmp.Compare(l.Pos, pos) }); k > 0 {
			before = logs[k-1].LogSeq
		}
		if err := st.checkMoveOut(e, fromScope, hold, before); err != nil {
			return nil, err
		}
		cr.MovedAway(e)
	}
	return left, nil
}

// checkMoveOut is the one check of an entry that moves a record out of
// the scopes a device holds (hold), from scope from, where the record's
// version before it was: on a scoped read, the server's proof of a move
// (ChainPage.Moved, checkMoved); on a read of the whole chain, an entry
// of a scope the device does not hold that follows the record's entry of
// one it holds (outMoves), whose signature the chain's own check leaves
// to that scope's holders. The entry must be well formed, of a scope the
// device does not hold, signed by a device of the team that could write
// where it writes, by an author who could write both the scope the
// record leaves and the one it enters (the server refuses any other
// push: only a lying server serves one), and not dated before the
// entry before it in the device's read (before: its log position; a
// removed member's key, which the server may hold, dating a move from
// when she could write). Anything else is refused: a device never takes
// such an entry, nor signs on top of it.
func (st *State) checkMoveOut(e *wire.ChainEntry, from string, hold func(string) bool, before int64) error {
	if err := e.CheckShape(); err != nil {
		return &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: err.Error()}
	}
	if e.LogSeq > st.Members.Seq {
		return &logAheadError{BadRecordError{e.ID, "written at a membership log position this device has not seen"}}
	}
	if e.Kind != wire.ChainRecord || hold(e.Scope) {
		return &wire.ChainError{Fault: wire.FaultMalformed, Pos: e.Pos, Msg: "an entry sent as a record's move out of this device's scopes is of one it holds"}
	}
	if !e.SignedBy(st.Team, st.chainSigners(e.Author, e.LogSeq, e.Kind)) {
		return &wire.ChainError{Fault: wire.FaultSignature, Pos: e.Pos, Msg: "it is not signed by a device of the team that could write there"}
	}
	if !st.writesScopeAt(e.Author, from, e.LogSeq) || !st.writesScopeAt(e.Author, e.Scope, e.LogSeq) {
		return &wire.ChainError{Fault: wire.FaultSignature, Pos: e.Pos, Msg: fmt.Sprintf("it moves record %s out of a folder scope its author could not write", e.ID)}
	}
	if e.LogSeq < before {
		return &wire.ChainError{Fault: wire.FaultBackdated, Pos: e.Pos, Msg: fmt.Sprintf("it names membership log position %d, but an entry before it was written at %d", e.LogSeq, before)}
	}
	return nil
}

// scopedAt is the scope and version of a record's newest entry read.
type scopedAt struct {
	scope   string
	version int64
}

// writesScopeAt reports whether device author could write folder scope
// id right after log entry seq.
func (st *State) writesScopeAt(author, id string, seq int64) bool {
	d, ok := st.Members.Devices[author]
	if !ok {
		return false
	}
	role, held := st.Members.RoleOn(d.Member, id, seq)
	return held && wire.CanWrite(role)
}
