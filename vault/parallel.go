package vault

import (
	"database/sql"
	"fmt"
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
	cur := &batch{in: make([]R, 0, openBatch)}
	var scanErr error
	for rows.Next() {
		r, err := scan(rows)
		if err != nil {
			scanErr = err
			break
		}
		cur.in = append(cur.in, r)
		if len(cur.in) == openBatch {
			batches = append(batches, cur)
			work <- cur
			cur = &batch{in: make([]R, 0, openBatch)}
		}
	}
	if len(cur.in) > 0 {
		batches = append(batches, cur)
		work <- cur
	}
	close(work)
	wg.Wait()
	if scanErr == nil {
		scanErr = rows.Err()
	}
	n := 0
	for _, b := range batches {
		if b.err != nil {
			return nil, b.err
		}
		n += len(b.out)
	}
	if scanErr != nil {
		return nil, fmt.Errorf("failed to read vault: %w", scanErr)
	}
	out := make([]T, 0, n)
	for _, b := range batches {
		out = append(out, b.out...)
	}
	return out, nil
}
