// Package par runs independent pieces of work on every core: signature
// checks and sealing of many records, where one core would leave a sync
// waiting on the other.
package par

import (
	"github.com/hush-secrets/hush/vault/oneproc"
	"runtime"
	"sync"
	"sync/atomic"
)

// Do calls fn(i) for i in [0, n) on up to GOMAXPROCS goroutines and
// returns the error of the lowest i that failed, so that the error a
// caller reports does not depend on scheduling.
func Do(n int, fn func(i int) error) error {
	if n > 1 {
		oneproc.Restore() // a short command started on one P: the cores back
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				errs[i] = fn(i)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
