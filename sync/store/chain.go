package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

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
	var seq, epoch, logSeq, chained int64
	res := &ChainResult{}
	if err := tx.QueryRowContext(ctx, s.query(`UPDATE teams SET seq = seq WHERE id = $1 RETURNING seq, epoch, log_seq, chained, chain_pos, chain_hash`), team).
		Scan(&seq, &epoch, &logSeq, &chained, &res.Head.Pos, &res.Head.Hash); err != nil {
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
		err := tx.QueryRowContext(ctx, s.query(`SELECT version FROM records WHERE team = $1 AND id = $2`), team, r.ID).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if have != r.Version-1 {
			res.Conflicts = append(res.Conflicts, r.ID)
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
	if _, err := s.exec(ctx, tx, `UPDATE teams SET seq = $1, chain_pos = $2, chain_hash = $3 WHERE id = $4`, seq, last.Pos, last.Hash, team); err != nil {
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

func (s *sqlStore) chainInsert(ctx context.Context, tx *sql.Tx, team string, e *ChainStored, base []byte) error {
	if len(e.Hash) != sha256.Size {
		return fmt.Errorf("store: chain entry %d without its hash", e.Pos)
	}
	_, err := s.exec(ctx, tx, `INSERT INTO chain (team, pos, entry, hash, base) VALUES ($1, $2, $3, $4, $5)`, team, e.Pos, e.JSON, e.Hash, base)
	return err
}

func (s *sqlStore) Chain(ctx context.Context, team string, after int64, limit int) (*wire.ChainPage, error) {
	return s.ChainOmitting(ctx, team, after, limit, "", 0)
}

func (s *sqlStore) ChainOmitting(ctx context.Context, team string, after int64, limit int, author string, from int64) (*wire.ChainPage, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	p := &wire.ChainPage{Entries: []wire.ChainEntry{}, Records: []wire.Record{}}
	var chained int64
	if err := tx.QueryRowContext(ctx, s.query(`SELECT chained, chain_pos, chain_hash FROM teams WHERE id = $1`), team).Scan(&chained, &p.Head.Pos, &p.Head.Hash); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	p.Started = chained != 0
	if err := s.chainEntries(ctx, tx, p, team, after, p.Head.Pos, limit); err != nil {
		return nil, err
	}
	if len(p.Entries) == 0 {
		return p, nil
	}
	// A page never ends inside a push (docs/sync.md, "Whole pushes"): it
	// runs on to the push's last entry, at most MaxPushRecords-1 more, so
	// that an honest server never makes a client hold a push back.
	if e := &p.Entries[len(p.Entries)-1]; e.PushLast > e.Pos {
		end := min(e.PushLast, e.Pos+wire.MaxPushRecords-1, p.Head.Pos)
		if err := s.chainEntries(ctx, tx, p, team, e.Pos, end, int(end-e.Pos)); err != nil {
			return nil, err
		}
	}
	last := p.Entries[len(p.Entries)-1].Pos
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
	return p, rows.Err()
}

// chainEntries appends to p the entries after after, up to upTo, at most
// limit of them, and the base snapshot if entry 1 is among them.
func (s *sqlStore) chainEntries(ctx context.Context, tx *sql.Tx, p *wire.ChainPage, team string, after, upTo int64, limit int) error {
	rows, err := tx.QueryContext(ctx, s.query(`SELECT pos, entry, base FROM chain WHERE team = $1 AND pos > $2 AND pos <= $3 ORDER BY pos LIMIT $4`), team, after, upTo, limit)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var pos int64
		var entry, base []byte
		if err := rows.Scan(&pos, &entry, &base); err != nil {
			return err
		}
		var e wire.ChainEntry
		if err := json.Unmarshal(entry, &e); err != nil {
			return fmt.Errorf("store: chain entry %d unreadable: %w", pos, err)
		}
		p.Entries = append(p.Entries, e)
		if base != nil {
			if err := json.Unmarshal(base, &p.Base); err != nil {
				return fmt.Errorf("store: base snapshot unreadable: %w", err)
			}
		}
	}
	return rows.Err()
}
