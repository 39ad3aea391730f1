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
