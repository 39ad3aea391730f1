package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/sync/wire"
)

// A group of chain pushes on PostgreSQL, in a few statements for all of
// them. chainTx takes a push in five or six statements, and on PostgreSQL
// each is a round trip to a backend process that the committer waits for:
// a group of a dozen pushes (fifty devices, a dozen pushes arrive while a
// commit is in flight) was some seventy round trips, one after the other,
// before its one commit, and the committer, not the CPU, set the rate.
// chainGroup takes the group's teams' rows (locking them, in team order,
// as chainTx does one by one), reads the stored versions and the scope
// heads every push needs in one statement each, decides every push in
// memory, in the group's order, exactly as chainTx would decide it
// against what is stored and what the pushes before it in the group
// wrote, and writes what was taken in one statement per table. With the
// teams' rows taken, no other push or log entry of those teams (from any
// server process: each takes the row first) can change what was read.
// Each push keeps its own answer: one behind, in conflict, stale or
// refused changes nothing and fails none of the others.

// groupable: every push of batch is a chain push chainGroup decides as
// chainTx does (a base entry, rare, goes through chainTx).
func groupable(batch []*pushReq) bool {
	for _, r := range batch {
		if r.chain == nil || r.chain.IsBase || len(r.chain.Entries) == 0 || len(r.chain.Entries) != len(r.chain.Records) {
			return false
		}
	}
	return true
}

// groupTeam is a team's row as the group has left it so far.
type groupTeam struct {
	seq, epoch, logSeq, chained, linked int64
	head                                wire.ChainCursor
	wrote                               bool
}

// groupRecord is a record's stored version and scope as the group has
// left it so far; rec is the version the group wrote (nil: none yet),
// inDB whether a row was stored before the group.
type groupRecord struct {
	version int64
	scope   string
	rec     *wire.Record
	pos     int64
	seq     int64
	inDB    bool
}

type teamID struct{ team, id string }

// chainGroup applies batch (groupable, in team order) in tx.
func (s *sqlStore) chainGroup(ctx context.Context, tx *sql.Tx, batch []*pushReq) error {
	if err := checkEntryHashes(batch); err != nil {
		return err
	}
	// The teams' rows, locked in team order (the batch is sorted), as
	// chainTx's UPDATE takes each: no two groups of two server processes
	// wait for each other's rows.
	var teamIDs []string
	for _, r := range batch {
		if len(teamIDs) == 0 || teamIDs[len(teamIDs)-1] != r.team {
			teamIDs = append(teamIDs, r.team)
		}
	}
	teams := make(map[string]*groupTeam, len(teamIDs))
	rows, err := tx.QueryContext(ctx, `SELECT id, seq, epoch, log_seq, chained, chain_pos, chain_hash, linked FROM teams
		WHERE id = ANY($1) ORDER BY id COLLATE "C" FOR NO KEY UPDATE`, teamIDs)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		t := &groupTeam{}
		if err := rows.Scan(&id, &t.seq, &t.epoch, &t.logSeq, &t.chained, &t.head.Pos, &t.head.Hash, &t.linked); err != nil {
			rows.Close()
			return err
		}
		teams[id] = t
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(teams) != len(teamIDs) {
		return ErrNotFound // each push alone then says which
	}

	// What the pushes' checks read: each record's stored version and
	// scope, and each scope's last entry.
	var recTeams, recIDs, scTeams, scScopes []string
	seenRec, seenScope := map[teamID]bool{}, map[teamID]bool{}
	for _, r := range batch {
		for i := range r.chain.Records {
			if k := (teamID{r.team, r.chain.Records[i].ID}); !seenRec[k] {
				seenRec[k] = true
				recTeams, recIDs = append(recTeams, k.team), append(recIDs, k.id)
			}
		}
		for i := range r.chain.Entries {
			if k := (teamID{r.team, r.chain.Entries[i].Scope}); !seenScope[k] {
				seenScope[k] = true
				scTeams, scScopes = append(scTeams, k.team), append(scScopes, k.id)
			}
		}
	}
	recs := make(map[teamID]*groupRecord, len(recIDs))
	rows, err = tx.QueryContext(ctx, `SELECT r.team, r.id, r.version, r.scope FROM records r
		JOIN unnest($1::text[], $2::text[]) AS u(team, id) ON r.team = u.team AND r.id = u.id`, recTeams, recIDs)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k teamID
		g := &groupRecord{inDB: true}
		if err := rows.Scan(&k.team, &k.id, &g.version, &g.scope); err != nil {
			rows.Close()
			return err
		}
		recs[k] = g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	scopeHeads := make(map[teamID]wire.ChainCursor, len(scScopes))
	rows, err = tx.QueryContext(ctx, `SELECT u.team, u.scope, c.pos, c.hash FROM unnest($1::text[], $2::text[]) AS u(team, scope)
		CROSS JOIN LATERAL (SELECT pos, hash FROM chain WHERE team = u.team AND scope = u.scope ORDER BY pos DESC LIMIT 1) c`, scTeams, scScopes)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k teamID
		var h wire.ChainCursor
		if err := rows.Scan(&k.team, &k.id, &h.Pos, &h.Hash); err != nil {
			rows.Close()
			return err
		}
		scopeHeads[k] = h
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// Each push decided in order, as chainTx decides it.
	var entries chainColumns
	var order []teamID // records written, in the order first written
	for _, r := range batch {
		r.chained = decideChain(r.team, r.chain, teams[r.team], recs, scopeHeads)
		if r.chained.Status != wire.PushOK || r.chained.Refused != nil {
			continue
		}
		for i := range r.chain.Records {
			rec, e := &r.chain.Records[i], &r.chain.Entries[i]
			k := teamID{r.team, rec.ID}
			g := recs[k]
			if g == nil {
				g = &groupRecord{}
				recs[k] = g
			}
			if g.rec == nil {
				order = append(order, k)
			}
			g.version, g.scope, g.rec, g.pos = rec.Version, rec.Scope, rec, e.Pos
			g.seq = r.chained.Seq - int64(len(r.chain.Records)) + int64(i) + 1
			entries.add(r.team, e)
		}
	}
	if len(order) == 0 {
		return nil
	}

	// The writes: records (new ones inserted, stored ones updated, each
	// to the last version the group took), entries, teams' rows.
	var ins, upd recordColumnsOf
	var insPos, updPos []int64
	var insTeam, updTeam []string
	for _, k := range order {
		g := recs[k]
		rec := *g.rec
		rec.Seq = g.seq
		if g.inDB {
			upd.add(&rec)
			updPos, updTeam = append(updPos, g.pos), append(updTeam, k.team)
		} else {
			ins.add(&rec)
			insPos, insTeam = append(insPos, g.pos), append(insTeam, k.team)
		}
	}
	if len(upd.id) > 0 {
		res, err := tx.ExecContext(ctx, `UPDATE records r SET version = u.version, epoch = u.epoch, sealed = u.sealed, author = u.author,
			sig = u.sig, seq = u.seq, log_seq = u.log_seq, chain_pos = u.chain_pos, scope = u.scope
			FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[])
				AS u(team, id, version, epoch, sealed, author, sig, seq, log_seq, scope, chain_pos)
			WHERE r.team = u.team AND r.id = u.id`, upd.argsTeams(updTeam, updPos)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != int64(len(upd.id)) {
			return fmt.Errorf("store: %d of %d records updated under their teams' locks", n, len(upd.id))
		}
	}
	if len(ins.id) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (team, id, version, epoch, sealed, author, sig, seq, log_seq, scope, chain_pos)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $9::bigint[], $10::text[], $11::bigint[])`,
			ins.argsTeams(insTeam, insPos)...); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO chain (team, pos, entry, hash, scope, record)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::text[], $6::text[])`,
		entries.team, entries.pos, entries.entry, entries.hash, entries.scope, entries.record); err != nil {
		return err
	}
	var tIDs []string
	var tSeq, tPos, tLinked []int64
	var tHash [][]byte
	for _, id := range teamIDs {
		if t := teams[id]; t.wrote {
			tIDs, tSeq, tPos, tHash, tLinked = append(tIDs, id), append(tSeq, t.seq), append(tPos, t.head.Pos), append(tHash, t.head.Hash), append(tLinked, t.linked)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE teams t SET seq = u.seq, chain_pos = u.pos, chain_hash = u.hash, linked = u.linked
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[], $5::bigint[]) AS u(id, seq, pos, hash, linked)
		WHERE t.id = u.id`, tIDs, tSeq, tPos, tHash, tLinked)
	return err
}

// decideChain decides push a of team as chainTx does, against t, recs
// and heads as stored and as the group's pushes before it left them; a
// push taken moves them on (its records' writes are the caller's).
func decideChain(team string, a *ChainAppend, t *groupTeam, recs map[teamID]*groupRecord, heads map[teamID]wire.ChainCursor) *ChainResult {
	res := &ChainResult{Head: t.head, Seq: t.seq}
	if !a.Prev.Equal(t.head) {
		res.Status = wire.ChainBehind
		return res
	}
	if t.chained == 0 {
		res.Status = wire.ChainUnstarted
		return res
	}
	linked := t.linked
	if a.Entries[0].ScopePrev == nil {
		if linked != 0 {
			res.Refused = ErrUnlinkedPush
			return res
		}
	} else {
		if err := checkLinksWith(a.Entries, func(scope string) wire.ChainCursor { return heads[teamID{team, scope}] }); err != nil {
			res.Refused = err
			return res
		}
		linked = 1
	}
	for i := range a.Records {
		if r := &a.Records[i]; r.Scope == "" && r.Epoch != t.epoch || r.LogSeq != t.logSeq {
			res.Status = wire.PushStale
			return res
		}
	}
	for i := range a.Records {
		r := &a.Records[i]
		var have int64
		var scope string
		if g := recs[teamID{team, r.ID}]; g != nil {
			have, scope = g.version, g.scope
		}
		if have != r.Version-1 {
			res.Conflicts = append(res.Conflicts, r.ID)
		} else if have > 0 && scope != r.Scope && a.MayMove != nil && !a.MayMove(scope) {
			res.Refused = &MoveError{r.ID}
			return res
		}
	}
	if len(res.Conflicts) > 0 {
		res.Status = wire.PushConflict
		return res
	}
	for i := range a.Entries {
		e := &a.Entries[i]
		heads[teamID{team, e.Scope}] = wire.ChainCursor{Pos: e.Pos, Hash: e.Hash}
	}
	last := &a.Entries[len(a.Entries)-1]
	t.seq += int64(len(a.Records))
	t.head = wire.ChainCursor{Pos: last.Pos, Hash: last.Hash}
	t.linked, t.wrote = linked, true
	res.Status, res.Head, res.Seq = wire.PushOK, t.head, t.seq
	return res
}

// chainColumns is chain entries as one array per column, for unnest.
type chainColumns struct {
	team, scope, record []string
	pos                 []int64
	entry, hash         [][]byte
}

func (c *chainColumns) add(team string, e *ChainStored) {
	c.team, c.pos, c.entry, c.hash = append(c.team, team), append(c.pos, e.Pos), append(c.entry, e.JSON), append(c.hash, e.Hash)
	c.scope, c.record = append(c.scope, e.Scope), append(c.record, e.ID)
}

// argsTeams are $1 each record's team, $2-$10 the columns as args gives
// them, and $11 each record's chain position.
func (c *recordColumnsOf) argsTeams(teams []string, pos []int64) []any {
	return []any{teams, c.id, c.version, c.epoch, c.sealed, c.author, c.sig, c.seq, c.logSq, c.scope, pos}
}

var errNoHash = errors.New("store: a chain entry without its hash")

// checkEntryHashes: every entry has its hash (chainInsert's check).
func checkEntryHashes(batch []*pushReq) error {
	for _, r := range batch {
		for i := range r.chain.Entries {
			if len(r.chain.Entries[i].Hash) != 32 {
				return fmt.Errorf("%w (entry %d)", errNoHash, r.chain.Entries[i].Pos)
			}
		}
	}
	return nil
}
