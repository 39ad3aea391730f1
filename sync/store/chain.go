package store

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hush-secrets/hush/sync/wire"
)

// The change chain (sync v2, docs/sync.md "The change chain"): every
// accepted change is an entry of one team-wide chain, stored beside the
// record it wrote. A push extends the chain only at its head
// (compare-and-set under the team's push lock), so two devices that sign
// on the same head cannot both get in: the second is told it is behind.

// ChainPush queues a chain push for the committer: it is applied in the
// same transactions, in the same order, as v1 pushes.
func (s *sqlStore) ChainPush(ctx context.Context, team string, a *ChainAppend) (*ChainResult, error) {
	req := &pushReq{team: team, chain: a, done: make(chan struct{})}
	s.startCommitter()
	select {
	case s.pushes <- req:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closed:
		return nil, errors.New("store: closed")
	}
	<-req.done
	return req.chained, req.err
}

func (s *sqlStore) chainTx(ctx context.Context, tx *sql.Tx, team string, a *ChainAppend) (*ChainResult, error) {
	var seq, epoch, logSeq, chained, linked int64
	res := &ChainResult{}
	if err := tx.QueryRowContext(ctx, s.query(`UPDATE teams SET seq = seq WHERE id = $1 RETURNING seq, epoch, log_seq, chained, chain_pos, chain_hash, linked`), team).
		Scan(&seq, &epoch, &logSeq, &chained, &res.Head.Pos, &res.Head.Hash, &linked); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	res.Seq = seq
	if len(a.Entries) == 0 {
		return nil, errors.New("store: a chain push without entries")
	}
	if !a.Prev.Equal(res.Head) {
		res.Status = wire.ChainBehind
		return res, nil
	}
	if a.IsBase {
		return s.chainBase(ctx, tx, team, a, res)
	}
	if chained == 0 {
		res.Status = wire.ChainUnstarted
		return res, nil
	}
	if len(a.Entries) != len(a.Records) {
		return nil, errors.New("store: a chain push needs one record per entry")
	}
	// Scope links (docs/sync.md, "Scope links"): once one linked entry is
	// in, every push must link, or a device that reads only its scopes'
	// entries would find its scope's chain broken; a linked push must
	// link each entry to the stored head of its scope, which only the
	// store knows under the push lock.
	if a.Entries[0].ScopePrev == nil {
		if linked != 0 {
			res.Refused = ErrUnlinkedPush
			return res, nil
		}
	} else {
		if err := s.checkLinks(ctx, tx, team, a.Entries); err != nil {
			if le := (*LinkError)(nil); errors.As(err, &le) {
				res.Refused = err
				return res, nil
			}
			return nil, err
		}
		linked = 1
	}
	// All or nothing: every record must be of the current epoch and log
	// position, and follow the version stored.
	for i := range a.Records {
		if r := &a.Records[i]; r.Scope == "" && r.Epoch != epoch || r.LogSeq != logSeq { // a scope's epoch: the server's check
			res.Status = wire.PushStale
			return res, nil
		}
	}
	for i := range a.Records {
		r := &a.Records[i]
		var have int64
		var scope string
		err := tx.QueryRowContext(ctx, s.query(`SELECT version, scope FROM records WHERE team = $1 AND id = $2`), team, r.ID).Scan(&have, &scope)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if have != r.Version-1 {
			res.Conflicts = append(res.Conflicts, r.ID)
		} else if have > 0 && scope != r.Scope && a.MayMove != nil && !a.MayMove(scope) {
			res.Refused = &MoveError{r.ID}
			return res, nil
		}
	}
	if len(res.Conflicts) > 0 {
		res.Status = wire.PushConflict
		return res, nil
	}
	for i := range a.Records {
		r, e := &a.Records[i], &a.Entries[i]
		seq++
		var q string
		if r.Version == 1 {
			q = `INSERT INTO records (team, id, version, epoch, sealed, author, sig, seq, log_seq, chain_pos, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
		} else {
			q = `UPDATE records SET version = $3, epoch = $4, sealed = $5, author = $6, sig = $7, seq = $8, log_seq = $9, chain_pos = $10, scope = $11 WHERE team = $1 AND id = $2`
		}
		if _, err := s.exec(ctx, tx, q, team, r.ID, r.Version, r.Epoch, r.Sealed, r.Author, r.Sig, seq, r.LogSeq, e.Pos, r.Scope); err != nil {
			return nil, err
		}
		if err := s.chainInsert(ctx, tx, team, e, nil); err != nil {
			return nil, err
		}
	}
	last := &a.Entries[len(a.Entries)-1]
	if _, err := s.exec(ctx, tx, `UPDATE teams SET seq = $1, chain_pos = $2, chain_hash = $3, linked = $4 WHERE id = $5`, seq, last.Pos, last.Hash, linked, team); err != nil {
		return nil, err
	}
	res.Status, res.Head, res.Seq = wire.PushOK, wire.ChainCursor{Pos: last.Pos, Hash: last.Hash}, seq
	return res, nil
}

// chainBase starts the chain of a team that synced with v1: entry 1, whose
// snapshot must be exactly the records stored (else a v1 push came
// between the admin's pull and its base: behind).
func (s *sqlStore) chainBase(ctx context.Context, tx *sql.Tx, team string, a *ChainAppend, res *ChainResult) (*ChainResult, error) {
	if len(a.Entries) != 1 || len(a.Records) != 0 || a.Entries[0].Pos != 1 {
		return nil, errors.New("store: a base entry comes alone, as entry 1")
	}
	rows, err := tx.QueryContext(ctx, s.query(`SELECT id, version, epoch, sealed, author, log_seq FROM records WHERE team = $1 ORDER BY id`), team)
	if err != nil {
		return nil, err
	}
	var have []wire.BaseItem
	for rows.Next() {
		var r wire.Record
		if err := rows.Scan(&r.ID, &r.Version, &r.Epoch, &r.Sealed, &r.Author, &r.LogSeq); err != nil {
			rows.Close()
			return nil, err
		}
		have = append(have, wire.BaseItemOf(&r))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !bytes.Equal(wire.BaseHash(have), wire.BaseHash(a.Base)) || len(have) != len(a.Base) {
		res.Status = wire.ChainBehind
		return res, nil
	}
	base, err := json.Marshal(a.Base)
	if err != nil {
		return nil, err
	}
	e := &a.Entries[0]
	if err := s.chainInsert(ctx, tx, team, e, base); err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, tx, `UPDATE records SET chain_pos = 1 WHERE team = $1`, team); err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, tx, `UPDATE teams SET chained = 1, chain_pos = 1, chain_hash = $1 WHERE id = $2`, e.Hash, team); err != nil {
		return nil, err
	}
	res.Status, res.Head = wire.PushOK, wire.ChainCursor{Pos: 1, Hash: e.Hash}
	return res, nil
}

// checkLinks checks a linked push's scope links against the chain: each
// entry links to the last entry of its scope before it (stored, or
// earlier in the push), by position and hash, and names the last entry
// of its scope in the push. A *LinkError says which entry is wrong.
func (s *sqlStore) checkLinks(ctx context.Context, tx *sql.Tx, team string, entries []ChainStored) error {
	var qerr error
	err := checkLinksWith(entries, func(scope string) wire.ChainCursor {
		var h wire.ChainCursor
		err := tx.QueryRowContext(ctx, s.query(`SELECT pos, hash FROM chain WHERE team = $1 AND scope = $2 ORDER BY pos DESC LIMIT 1`), team, scope).Scan(&h.Pos, &h.Hash)
		if err != nil && !errors.Is(err, sql.ErrNoRows) && qerr == nil {
			qerr = err
		}
		return h
	})
	if qerr != nil {
		return qerr
	}
	return err
}

// checkLinksWith is checkLinks with stored giving the last entry of a
// scope before the push (zero: none).
func checkLinksWith(entries []ChainStored, stored func(scope string) wire.ChainCursor) error {
	last := map[string]int64{}
	for i := range entries {
		last[entries[i].Scope] = entries[i].Pos
	}
	heads := map[string]wire.ChainCursor{}
	for i := range entries {
		e := &entries[i]
		if e.ScopePrev == nil {
			return &LinkError{e.Pos, "it has none, in a push whose first entry has one (a push links all its entries or none)"}
		}
		h, ok := heads[e.Scope]
		if !ok {
			h = stored(e.Scope)
		}
		switch p := e.ScopePrev; {
		case p.Pos != h.Pos && h.Pos == 0:
			return &LinkError{e.Pos, fmt.Sprintf("it follows entry %d of its scope, but it is the first entry of its scope (link to 0)", p.Pos)}
		case p.Pos != h.Pos:
			return &LinkError{e.Pos, fmt.Sprintf("it follows entry %d of its scope, but the last entry of its scope before it is %d", p.Pos, h.Pos)}
		case h.Pos > 0 && !bytes.Equal(p.Hash, h.Hash):
			return &LinkError{e.Pos, fmt.Sprintf("it names entry %d of its scope with a hash that is not that entry's", p.Pos)}
		case e.ScopeLast != last[e.Scope]:
			return &LinkError{e.Pos, fmt.Sprintf("it names entry %d as the last of its scope in its push, but that is entry %d", e.ScopeLast, last[e.Scope])}
		}
		heads[e.Scope] = wire.ChainCursor{Pos: e.Pos, Hash: e.Hash}
	}
	return nil
}

func (s *sqlStore) chainInsert(ctx context.Context, tx *sql.Tx, team string, e *ChainStored, base []byte) error {
	if len(e.Hash) != sha256.Size {
		return fmt.Errorf("store: chain entry %d without its hash", e.Pos)
	}
	_, err := s.exec(ctx, tx, `INSERT INTO chain (team, pos, entry, hash, base, scope, record) VALUES ($1, $2, $3, $4, $5, $6, $7)`, team, e.Pos, e.JSON, e.Hash, base, e.Scope, e.ID)
	return err
}

func (s *sqlStore) Chain(ctx context.Context, team string, after int64, limit int) (*wire.ChainPage, error) {
	return s.ChainOmitting(ctx, team, after, limit, "", 0)
}

func (s *sqlStore) ChainOmitting(ctx context.Context, team string, after int64, limit int, author string, from int64) (*wire.ChainPage, error) {
	raw, err := s.ChainRaw(ctx, team, after, limit, author, from)
	if err != nil {
		return nil, err
	}
	return raw.Decoded()
}

func (s *sqlStore) ChainRaw(ctx context.Context, team string, after int64, limit int, author string, from int64) (*RawPage, error) {
	return s.chainRaw(ctx, team, after, limit, author, from, true)
}

// chainRaw is ChainRaw, from the team's tail in memory when it holds the
// page (tail.go) and useTail.
func (s *sqlStore) chainRaw(ctx context.Context, team string, after int64, limit int, author string, from int64, useTail bool) (*RawPage, error) {
	if useTail {
		// A page the tail holds needs only the head and the log's length,
		// read in one statement (its own snapshot), not a read transaction
		// (BEGIN, the query, ROLLBACK: on SQLite three calls into the
		// driver, on PostgreSQL three round trips). The tail serves it
		// only at exactly that head, as below.
		rp := &RawPage{Entries: [][]byte{}}
		p, err := s.pullHead(ctx, team, &rp.LogSeq)
		if err != nil {
			return nil, err
		}
		p.Entries = nil
		rp.Page = p
		if ok, err := s.tails.page(team, rp, after, limit, author, from); err != nil || ok {
			return rp, err
		}
	}
	rp := &RawPage{Entries: [][]byte{}}
	tx, p, err := s.pageStartLog(ctx, team, &rp.LogSeq)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p.Entries = nil
	rp.Page = p
	if useTail {
		if ok, err := s.tails.page(team, rp, after, limit, author, from); err != nil || ok {
			return rp, err
		}
	}
	// ids: the record each entry wrote ("" for a base entry).
	var ids []string
	if err := s.rawPageEntries(ctx, tx, rp, &ids, team, after, p.Head.Pos, limit); err != nil {
		return nil, err
	}
	// A page that reaches the head, with every record it names and no
	// base snapshot, is the team's tail from after on, as committed: kept
	// for the pulls that follow, if the team has none (tail.go).
	keep := useTail && author == "" && after <= p.Head.Pos && p.Base == nil
	if len(rp.Entries) == 0 {
		if keep && after == p.Head.Pos {
			s.tails.install(team, rp, after, nil)
		}
		return rp, nil
	}
	// A page never ends inside a push (docs/sync.md, "Whole pushes"): it
	// runs on to the push's last entry, at most MaxPushRecords-1 more, so
	// that an honest server never makes a client hold a push back. Only
	// the last entry is decoded, for where its push ends.
	lastPos := rp.pos[len(rp.pos)-1]
	var tail struct {
		PushLast int64 `json:"push_last"`
	}
	if err := json.Unmarshal(rp.Entries[len(rp.Entries)-1], &tail); err != nil {
		return nil, fmt.Errorf("store: chain entry %d unreadable: %w", lastPos, err)
	}
	if tail.PushLast > lastPos {
		end := min(tail.PushLast, lastPos+wire.MaxPushRecords-1, p.Head.Pos)
		if err := s.rawPageEntries(ctx, tx, rp, &ids, team, lastPos, end, int(end-lastPos)); err != nil {
			return nil, err
		}
	}
	last := rp.pos[len(rp.pos)-1]
	p.More = last < p.Head.Pos
	// The records whose newest entry is in the page: a record written
	// again after it comes with that later entry.
	rows, err := tx.QueryContext(ctx, s.query(`SELECT `+recordColumns+` FROM records WHERE team = $1 AND chain_pos > $2 AND chain_pos <= $3
		AND NOT (author = $4 AND chain_pos >= $5) ORDER BY chain_pos, id`), team, after, last, author, from)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		r.Seq = 0
		p.Records = append(p.Records, *r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if keep && !p.More && p.Base == nil {
		s.tails.install(team, rp, after, ids)
	}
	return rp, nil
}

// rawPageEntries appends to rp the stored entries after after, up to
// upTo, at most limit of them, and the base snapshot (decoded) if entry 1
// is among them; and to ids the record each wrote.
func (s *sqlStore) rawPageEntries(ctx context.Context, tx *sql.Tx, rp *RawPage, ids *[]string, team string, after, upTo int64, limit int) error {
	rows, err := tx.QueryContext(ctx, s.query(`SELECT pos, entry, base, record FROM chain WHERE team = $1 AND pos > $2 AND pos <= $3 ORDER BY pos LIMIT $4`), team, after, upTo, limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r rawEntry
		var id string
		if err := rows.Scan(&r.pos, &r.entry, &r.base, &id); err != nil {
			return err
		}
		rp.Entries = append(rp.Entries, r.entry)
		rp.pos = append(rp.pos, r.pos)
		*ids = append(*ids, id)
		if r.base != nil {
			if err := json.Unmarshal(r.base, &rp.Page.Base); err != nil {
				return fmt.Errorf("store: base snapshot unreadable: %w", err)
			}
		}
	}
	return rows.Err()
}

// rawEntry is a chain row not yet decoded.
type rawEntry struct {
	pos         int64
	entry, base []byte
}

func (s *sqlStore) rawEntries(ctx context.Context, tx *sql.Tx, q string, args ...any) ([]rawEntry, error) {
	rows, err := tx.QueryContext(ctx, s.query(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []rawEntry
	for rows.Next() {
		var r rawEntry
		if err := rows.Scan(&r.pos, &r.entry, &r.base); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// pageStart begins a page's read-only transaction and the page, with the
// team's head and whether its chain has started.
func (s *sqlStore) pageStart(ctx context.Context, team string) (*sql.Tx, *wire.ChainPage, error) {
	var logSeq int64
	return s.pageStartLog(ctx, team, &logSeq)
}

// pageStartLog is pageStart, and the length of the team's membership log
// in the same snapshot.
func (s *sqlStore) pageStartLog(ctx context.Context, team string, logSeq *int64) (*sql.Tx, *wire.ChainPage, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, err
	}
	p, err := s.teamHead(ctx, tx, team, logSeq)
	if err != nil {
		tx.Rollback()
		return nil, nil, err
	}
	return tx, p, nil
}

// teamHeadRow is what teamHead reads of a team's row.
type teamHeadRow struct {
	chained, logSeq int64
	head            wire.ChainCursor
}

// pullHead is teamHead outside a transaction: on PostgreSQL, coalesced
// with the other pulls' (batch.go: one statement for the heads of the
// pulls that arrive while one is being read, each read after its pull
// asked, as a statement of its own would be).
func (s *sqlStore) pullHead(ctx context.Context, team string, logSeq *int64) (*wire.ChainPage, error) {
	if s.headCalls == nil {
		return s.teamHead(ctx, s.r, team, logSeq)
	}
	row, err := s.headCalls.do(ctx, team)
	if err != nil {
		return nil, err
	}
	*logSeq = row.logSeq
	return &wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}, Head: row.head, Started: row.chained != 0}, nil
}

// teamHeads answers a batch of pullHead calls (PostgreSQL) with one
// statement.
func (s *sqlStore) teamHeads(ctx context.Context, batch []*call[string, teamHeadRow]) {
	ids := make([]string, 0, len(batch))
	for _, cl := range batch {
		ids = append(ids, cl.in)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, chained, chain_pos, chain_hash, log_seq FROM teams WHERE id = ANY($1)`, ids)
	if err != nil {
		fail(batch, err)
		return
	}
	defer rows.Close()
	found := make(map[string]teamHeadRow, len(batch))
	for rows.Next() {
		var id string
		var r teamHeadRow
		if err := rows.Scan(&id, &r.chained, &r.head.Pos, &r.head.Hash, &r.logSeq); err != nil {
			fail(batch, err)
			return
		}
		found[id] = r
	}
	if err := rows.Err(); err != nil {
		fail(batch, err)
		return
	}
	for _, cl := range batch {
		r, ok := found[cl.in]
		if !ok {
			cl.err = ErrNotFound
			continue
		}
		// Each call its own hash: callers keep it in their page.
		r.head.Hash = bytes.Clone(r.head.Hash)
		cl.out = r
	}
}

// teamHead starts a page with the team's head and whether its chain has
// started, and reads the length of its membership log, in one statement.
func (s *sqlStore) teamHead(ctx context.Context, q querier, team string, logSeq *int64) (*wire.ChainPage, error) {
	p := &wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}}
	var chained int64
	if err := q.QueryRowContext(ctx, s.query(`SELECT chained, chain_pos, chain_hash, log_seq FROM teams WHERE id = $1`), team).Scan(&chained, &p.Head.Pos, &p.Head.Hash, logSeq); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.Started = chained != 0
	return p, nil
}

// ChainScoped serves a scoped page (docs/sync.md, "Scope links"): each
// scope's entries are one range of the chain_scope index, so a device
// whose scopes hold 50 entries of 10,000 reads 50 rows, not 10,000.
func (s *sqlStore) ChainScoped(ctx context.Context, team string, after int64, limit int, scopes []string, author string, from int64, movedSince int64) (*wire.ChainPage, error) {
	tx, p, err := s.pageStart(ctx, team)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if len(scopes) == 0 || limit < 1 {
		return p, nil
	}
	if movedSince > 0 {
		if err := s.movedSince(ctx, tx, p, team, scopes, movedSince); err != nil {
			return nil, err
		}
	}
	// The first limit entries of the scopes after after.
	raw, err := s.scopeEntries(ctx, tx, team, scopes, after, p.Head.Pos, limit)
	if err != nil {
		return nil, err
	}
	if err := decodeEntries(p, raw); err != nil {
		return nil, err
	}
	if len(p.Entries) == 0 {
		return p, nil
	}
	// A scoped page never ends inside a scope's part of a push: if the
	// part of one of the scopes goes on after the page's last entry, the
	// page runs on to the end of that push (the only one the page's end
	// is inside), with every entry of the scopes there, so that each
	// scope's part of it is whole.
	last := p.Entries[len(p.Entries)-1].Pos
	end := last
	seen := map[string]bool{}
	for i := len(p.Entries) - 1; i >= 0 && len(seen) < len(scopes); i-- {
		e := &p.Entries[i]
		if seen[e.Scope] {
			continue
		}
		seen[e.Scope] = true
		if e.ScopeLast > last {
			end = max(end, min(e.PushLast, last+wire.MaxPushRecords-1, p.Head.Pos))
		}
	}
	if end > last {
		raw, err := s.scopeEntries(ctx, tx, team, scopes, last, end, wire.MaxPushRecords)
		if err != nil {
			return nil, err
		}
		if err := decodeEntries(p, raw); err != nil {
			return nil, err
		}
		last = p.Entries[len(p.Entries)-1].Pos
	}
	// More: an entry of the scopes after the page.
	next, err := s.scopeEntries(ctx, tx, team, scopes, last, p.Head.Pos, 1)
	if err != nil {
		return nil, err
	}
	p.More = len(next) > 0
	// The records whose newest entry is in the page, found by primary key
	// from the ids its entries name, and kept if their newest entry
	// (chain_pos) is that one. (A range of records_chain, as ChainOmitting
	// reads, walks every record of every scope written in the page's
	// span, and planners without statistics choose it if the query has
	// that range.)
	named := map[int64]string{}
	ids := make([]string, 0, len(p.Entries))
	for i := range p.Entries {
		if e := &p.Entries[i]; e.Kind == wire.ChainRecord {
			named[e.Pos] = e.ID
			ids = append(ids, e.ID)
		}
	}
	inBase := map[string]bool{}
	if p.Base != nil && p.Entries[0].Kind == wire.ChainBase {
		// The base entry wrote (chain_pos 1) the records of its snapshot
		// that no later entry replaced.
		for j := range p.Base {
			inBase[p.Base[j].ID] = true
			ids = append(ids, p.Base[j].ID)
		}
	}
	var arg any = ids
	in := `id = ANY($2)`
	if s.d.name != "postgres" {
		list, err := json.Marshal(ids)
		if err != nil {
			return nil, err
		}
		arg, in = string(list), `id IN (SELECT value FROM json_each($2))`
	}
	rows, err := tx.QueryContext(ctx, s.query(`SELECT `+recordColumns+`, chain_pos FROM records WHERE team = $1 AND `+in), team, arg)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type posRecord struct {
		pos int64
		r   *wire.Record
	}
	var recs []posRecord
	for rows.Next() {
		var pos int64
		r, err := scanRecord(withPos{rows, &pos})
		if err != nil {
			return nil, err
		}
		if !(named[pos] == r.ID || pos == 1 && inBase[r.ID]) || pos <= after || r.Author == author && pos >= from {
			continue // written again after the page, or the asker's own
		}
		r.Seq = 0
		recs = append(recs, posRecord{pos, r})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(recs, func(a, b posRecord) int {
		return cmp.Or(cmp.Compare(a.pos, b.pos), cmp.Compare(a.r.ID, b.r.ID))
	})
	for i := range recs {
		p.Records = append(p.Records, *recs[i].r)
	}
	return p, s.movedOut(ctx, tx, p, team, scopes)
}

// movedOut adds to a scoped page, for each record an entry of the page
// names whose newest entry is of a scope the device does not hold, the
// entry that took it out of the device's scopes: the next entry of the
// record after its last one in the page (wire.ChainPage.Moved). That is
// the device's proof that the record left its scopes, without which it
// would take the record as withheld; the move it proves is that entry's
// author's, not whoever wrote the record since.
func (s *sqlStore) movedOut(ctx context.Context, tx *sql.Tx, p *wire.ChainPage, team string, scopes []string) error {
	held := make(map[string]bool, len(scopes))
	for _, sc := range scopes {
		held[sc] = true
	}
	last := map[string]int64{}
	args := []any{team}
	var marks []string
	for i := range p.Entries {
		id := p.Entries[i].ID
		if _, ok := last[id]; !ok {
			args = append(args, id)
			marks = append(marks, "$"+strconv.Itoa(len(args)))
		}
		last[id] = p.Entries[i].Pos
	}
	if len(marks) == 0 {
		return nil
	}
	gone, err := s.recordsOutside(ctx, tx, held, `SELECT id, scope FROM records WHERE team = $1 AND id IN (`+strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return err
	}
	slices.SortFunc(gone, func(a, b string) int { return cmp.Compare(last[a], last[b]) })
	for _, id := range gone {
		// The record's entries after the page: one of a held scope is a
		// later page's (which proves the move after it); else the first
		// is the move.
		rows, err := tx.QueryContext(ctx, s.query(`SELECT scope, entry FROM chain WHERE team = $1 AND record = $2 AND pos > $3 ORDER BY pos`), team, id, last[id])
		if err != nil {
			return err
		}
		var first []byte
		later := false
		for rows.Next() {
			var sc string
			var entry []byte
			if err := rows.Scan(&sc, &entry); err != nil {
				rows.Close()
				return err
			}
			if held[sc] {
				later = true
				break
			}
			if first == nil {
				first = entry
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if later || first == nil {
			continue // a later page's, or not in the chain: the device says the record was withheld
		}
		var e wire.ChainEntry
		if err := json.Unmarshal(first, &e); err != nil {
			return fmt.Errorf("store: chain entry after %d unreadable: %w", last[id], err)
		}
		p.Moved = append(p.Moved, e)
	}
	return nil
}

// movedSince adds to p.Moved the entries that took records out of scopes
// after since, for the records whose last entry of scopes is at or before
// since (movedOut's are those of records the page names). The candidates
// are the records with an entry of scopes at or before since (ranges of
// chain_scope: the scopes' history, not the team's) written again after
// since, then each one's entries (a range of chain_record) for those whose
// newest version is of another scope.
func (s *sqlStore) movedSince(ctx context.Context, tx *sql.Tx, p *wire.ChainPage, team string, scopes []string, since int64) error {
	held := make(map[string]bool, len(scopes))
	for _, sc := range scopes {
		held[sc] = true
	}
	arg, in, err := s.scopeIn(scopes)
	if err != nil {
		return err
	}
	gone, err := s.recordsOutside(ctx, tx, held, `SELECT id, scope FROM records WHERE team = $1 AND chain_pos > $3 AND id IN (SELECT record FROM chain WHERE team = $1 AND `+in+` AND pos <= $3) ORDER BY chain_pos`, team, arg, since)
	if err != nil {
		return err
	}
	for _, id := range gone {
		// The record's entries in position order: the last of the
		// scopes, then the one after it.
		rows, err := tx.QueryContext(ctx, s.query(`SELECT pos, scope, entry FROM chain WHERE team = $1 AND record = $2 ORDER BY pos`), team, id)
		if err != nil {
			return err
		}
		var lastHeld int64
		var next []byte
		var nextPos int64
		for rows.Next() {
			var pos int64
			var sc string
			var entry []byte
			if err := rows.Scan(&pos, &sc, &entry); err != nil {
				rows.Close()
				return err
			}
			switch {
			case held[sc]:
				lastHeld, next = pos, nil
			case lastHeld > 0 && next == nil:
				next, nextPos = entry, pos
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if lastHeld == 0 || lastHeld > since || next == nil || nextPos <= since {
			continue // never of the scopes, in this read's pages, or moved out before since
		}
		if len(p.Moved) >= wire.MaxPageEntries {
			break // the device learns of the rest on its next read
		}
		var e wire.ChainEntry
		if err := json.Unmarshal(next, &e); err != nil {
			return fmt.Errorf("store: chain entry %d unreadable: %w", nextPos, err)
		}
		p.Moved = append(p.Moved, e)
	}
	return nil
}

// scopeIn is the condition "scope is one of scopes" on $2, and the
// argument to bind there: an array on PostgreSQL, a JSON list on SQLite.
func (s *sqlStore) scopeIn(scopes []string) (arg any, in string, err error) {
	if s.d.name == "postgres" {
		return scopes, `scope = ANY($2)`, nil
	}
	list, err := json.Marshal(scopes)
	if err != nil {
		return nil, "", err
	}
	return string(list), `scope IN (SELECT value FROM json_each($2))`, nil
}

// recordsOutside runs q, which selects records' (id, scope), and returns
// the ids of those whose scope is not held, in q's order.
func (s *sqlStore) recordsOutside(ctx context.Context, tx *sql.Tx, held map[string]bool, q string, args ...any) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.query(q), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id, sc string
		if err := rows.Scan(&id, &sc); err != nil {
			return nil, err
		}
		if !held[sc] {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// maxScopeRanges is the most scopes a scoped page reads as one index
// range each; a device that holds more (an admin holds every scope, up
// to wire.MaxScopes) is served by one query over the chain in position
// order, which costs at most what a whole page costs, instead of a range
// per scope.
const maxScopeRanges = 8

// scopeEntries reads the entries of scopes in (after, upTo], in position
// order, at most limit of them.
func (s *sqlStore) scopeEntries(ctx context.Context, tx *sql.Tx, team string, scopes []string, after, upTo int64, limit int) ([]rawEntry, error) {
	if len(scopes) > maxScopeRanges {
		arg, in, err := s.scopeIn(scopes)
		if err != nil {
			return nil, err
		}
		return s.rawEntries(ctx, tx, `SELECT pos, entry, base FROM chain WHERE team = $1 AND `+in+` AND pos > $3 AND pos <= $4 ORDER BY pos LIMIT $5`, team, arg, after, upTo, limit)
	}
	// Each scope's first limit, merged by position. (+pos: the upper
	// bound is no index range, else SQLite takes the primary key's range
	// (team, pos > after AND pos <= upTo) over chain_scope's and walks
	// every entry between.)
	var raw []rawEntry
	for _, sc := range scopes {
		rs, err := s.rawEntries(ctx, tx, `SELECT pos, entry, base FROM chain WHERE team = $1 AND scope = $2 AND pos > $3 AND +pos <= $4 ORDER BY pos LIMIT $5`, team, sc, after, upTo, limit)
		if err != nil {
			return nil, err
		}
		raw = append(raw, rs...)
	}
	slices.SortFunc(raw, func(a, b rawEntry) int { return cmp.Compare(a.pos, b.pos) })
	return raw[:min(len(raw), limit)], nil
}

// withPos scans a record row with its chain position after the record's
// columns.
type withPos struct {
	rows *sql.Rows
	pos  *int64
}

func (w withPos) Scan(dest ...any) error { return w.rows.Scan(append(dest, w.pos)...) }

// decodeEntries appends raw's entries to p, and the base snapshot if one
// of them is the base entry.
func decodeEntries(p *wire.ChainPage, raw []rawEntry) error {
	for _, r := range raw {
		var e wire.ChainEntry
		if err := json.Unmarshal(r.entry, &e); err != nil {
			return fmt.Errorf("store: chain entry %d unreadable: %w", r.pos, err)
		}
		p.Entries = append(p.Entries, e)
		if r.base != nil {
			if err := json.Unmarshal(r.base, &p.Base); err != nil {
				return fmt.Errorf("store: base snapshot unreadable: %w", err)
			}
		}
	}
	return nil
}
