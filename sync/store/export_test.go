package store

import (
	"context"
	"errors"
)

// ChainRawSQL is s.ChainRaw read from SQL only, never from the tail in
// memory (tail.go): what the tail must give too.
func ChainRawSQL(ctx context.Context, s Store, team string, after int64, limit int, author string, from int64) (*RawPage, error) {
	ss, ok := s.(*sqlStore)
	if !ok {
		return nil, errors.New("not a SQL store")
	}
	return ss.chainRaw(ctx, team, after, limit, author, from, false)
}

// FromTail says whether rp came from the tail in memory.
func FromTail(rp *RawPage) bool { return rp.fromTail }

// SetTailBytes bounds all tails together to n bytes until the test ends.
func SetTailBytes(t interface{ Cleanup(func()) }, n int) {
	old := tailBytes
	tailBytes = n
	t.Cleanup(func() { tailBytes = old })
}

// TailBytes is what s's tails hold, as counted against the bound.
func TailBytes(s Store) int {
	ss := s.(*sqlStore)
	ss.tails.mu.Lock()
	defer ss.tails.mu.Unlock()
	return ss.tails.bytes
}

// PushGroup applies chain pushes as the committer applies the pushes
// that arrived while a commit was in flight: one group, one transaction,
// each answered after it (sync/store/sql.go, applyGroup). Results and
// errors are in the order given.
func PushGroup(s Store, teams []string, as []*ChainAppend) ([]*ChainResult, []error) {
	ss := s.(*sqlStore)
	batch := make([]*pushReq, len(as))
	for i := range as {
		batch[i] = &pushReq{team: teams[i], chain: as[i], done: make(chan struct{})}
	}
	given := append([]*pushReq(nil), batch...)
	ss.applyGroup(batch)
	res, errs := make([]*ChainResult, len(as)), make([]error, len(as))
	for i, r := range given {
		<-r.done
		res[i], errs[i] = r.chained, r.err
	}
	return res, errs
}

// WALCheckpointPages is the wal_autocheckpoint of s's write connection
// (SQLite).
func WALCheckpointPages(s Store) (int, error) {
	var n int
	err := s.(*sqlStore).w.QueryRow(`PRAGMA wal_autocheckpoint`).Scan(&n)
	return n, err
}
