// Package oneproc keeps a short command on one P (GOMAXPROCS=1) until it
// has work to do in parallel. A command that mostly waits (a get, a sync
// with nothing to do) runs its goroutines one after the other anyway;
// with a second P idle, each goroutine started along the way (the
// runtime's, the inits', database/sql's per query in a transaction, the
// HTTP client's) wakes another thread that spins, sleeps again and makes
// the kernel interrupt the other core when memory mappings change: about
// 1 ms of CPU per command on a 2-core machine (docs/benchmarks.md, "a get
// on one P").
//
// The command's start ([Take], from cmd/hush/internal/oneproc's init)
// takes the Ps; the code that works on several goroutines (vault's
// openBatches, sync's par.Do) gives them back ([Restore]) before it
// starts its workers. It changes only scheduling, never what is read,
// checked or written, nor in which order.
package oneproc

import (
	"runtime"
	"sync/atomic"
)

// taken is GOMAXPROCS as it was before Take made it 1 (0: not taken, or
// given back).
var taken atomic.Int32

// Take sets GOMAXPROCS to 1, remembering what it was for [Restore].
func Take() {
	if n := runtime.GOMAXPROCS(1); n > 1 {
		taken.Store(int32(n))
	}
}

// Restore gives back the Ps that [Take] took, the first time it is
// called after it; otherwise it does nothing (one atomic swap), so
// parallel code calls it every time it starts.
func Restore() {
	if n := taken.Swap(0); n > 1 {
		runtime.GOMAXPROCS(int(n))
	}
}
