package vault

import (
	"database/sql"
	"fmt"
	"github.com/hush-secrets/hush/vault/oneproc"
	"runtime"
	"sync"
)

// openBatch is how many rows a worker of [openRows] opens at a time.
const openBatch = 512

// openRows reads every row of rows with scan, on the calling goroutine
// (SQLite's cursor is not shared), and hands them in batches to one worker
// per core that opens them with open: names and metadata are decrypted
// while SQLite steps to the next rows, and on every core. open returns
// false to leave a row out. The results keep the rows' order. rows is
// closed. On failure the error of the earliest failing row is returned,
// so the message does not depend on scheduling.
//
// Nothing here changes what is decrypted or checked: each row is opened
// exactly as a sequential loop would open it, into memory only.
func openRows[R, T any](rows *sql.Rows, scan func(*sql.Rows) (R, error), open func(*R) (T, bool, error)) ([]T, error) {
	defer rows.Close()
	return openBatches(func(emit func([]R)) error {
		cur := make([]R, 0, openBatch)
		for rows.Next() {
			r, err := scan(rows)
			if err != nil {
				return fmt.Errorf("failed to read vault: %w", err)
			}
			cur = append(cur, r)
			if len(cur) == openBatch {
				emit(cur)
				cur = make([]R, 0, openBatch)
			}
		}
		if len(cur) > 0 {
			emit(cur)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("failed to read vault: %w", err)
		}
		return nil
	}, open)
}

// openSlice opens every element of in with open, in batches of openBatch
// on one goroutine per core, and returns the kept results in in's order;
// on failure, the error of the earliest failing element (so the message
// does not depend on scheduling). Each element is opened exactly as a
// sequential loop would open it.
func openSlice[R, T any](in []R, open func(*R) (T, bool, error)) ([]T, error) {
	return openBatches(func(emit func([]R)) error {
		for start := 0; start < len(in); start += openBatch {
			emit(in[start:min(start+openBatch, len(in))])
		}
		return nil
	}, open)
}

// openBatches runs feed on the calling goroutine, which hands batches to
// one worker per core that opens them with open, and gathers the kept
// results in the batches' order. An error of open (the earliest batch's)
// comes before feed's own.
func openBatches[R, T any](feed func(emit func([]R)) error, open func(*R) (T, bool, error)) ([]T, error) {
	type batch struct {
		in  []R
		out []T
		err error
	}
	var (
		batches []*batch
		work    = make(chan *batch)
		wg      sync.WaitGroup
	)
	oneproc.Restore() // a short command started on one P: the cores back
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				b.out = make([]T, 0, len(b.in))
				for i := range b.in {
					t, keep, err := open(&b.in[i])
					if err != nil {
						b.err = err
						break
					}
					if keep {
						b.out = append(b.out, t)
					}
				}
				b.in = nil
			}
		}()
	}
	feedErr := feed(func(in []R) {
		b := &batch{in: in}
		batches = append(batches, b)
		work <- b
	})
	close(work)
	wg.Wait()
	n := 0
	for _, b := range batches {
		if b.err != nil {
			return nil, b.err
		}
		n += len(b.out)
	}
	if feedErr != nil {
		return nil, feedErr
	}
	out := make([]T, 0, n)
	for _, b := range batches {
		out = append(out, b.out...)
	}
	return out, nil
}
