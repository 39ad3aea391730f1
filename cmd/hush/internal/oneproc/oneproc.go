// Package oneproc runs `hush get` on one P (GOMAXPROCS=1), from as early
// in the process's start as Go allows a program to act: its init, which
// depends only on os and runtime, runs about twentieth of hush's ~150
// package inits (Go orders them by dependency, then by import path).
// Package main imports it, blank, for that effect.
//
// A get does nothing in parallel. With a second P idle, every goroutine
// started along the way (the runtime's own during start-up, a package
// init's, and the one database/sql starts for each query inside a
// transaction, to watch its context: a get's audit entry runs about ten)
// wakes another thread, which spins looking for work, goes back to sleep,
// and makes the kernel interrupt the other core when memory mappings
// change. On this 2-core machine that was 1–1.5 ms of CPU per get (a
// sixth of it); set later, at the top of main, it saved little or nothing
// (docs/benchmarks.md, "a get on one P"). It changes only scheduling:
// what a get reads, checks and writes, and in which order, is the same.
// Every other command (ls and the terminal UI check rows on several
// goroutines; the server serves) keeps every core, and so does the
// automatic sync a get may run ([Restore]).
package oneproc

import (
	"os"
	"runtime"
	"sync/atomic"
)

func init() {
	Set(os.Args[1:])
}

// taken is GOMAXPROCS as it was before Set made it 1 (0: Set did not).
var taken atomic.Int32

// Set sets GOMAXPROCS to 1 when args (the command line after the
// program's name) run a get: its first word is `get` or `show`.
func Set(args []string) {
	if len(args) > 0 && (args[0] == "get" || args[0] == "show") {
		taken.Store(int32(runtime.GOMAXPROCS(1)))
	}
}

// Restore gives back the Ps that Set took, for work in a get's process
// that runs in parallel: the automatic sync a read may run when one is
// due (it checks and seals records on several goroutines). It does
// nothing when Set did nothing, and only the first time.
func Restore() {
	if n := taken.Swap(0); n > 1 {
		runtime.GOMAXPROCS(int(n))
	}
}
