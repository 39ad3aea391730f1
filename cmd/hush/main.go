// Command hush is a secrets manager: an encrypted local vault, a command
// line and a terminal UI to read and write it, `hush run` to hand secrets
// (and short-lived database logins) to a program, and a team server.
//
// This package only wires the cobra command tree to the packages that do
// the work (vault and its subpackages, tui, sync/client, sync/server, and
// cmd/hush/internal/...: session for the vault a command opens, unlocks
// and audits, change, run and runsession, dynamic, teamsync, listing,
// transfer, prompt, ...; README.md lists what each owns): flags, help,
// output formats and exit codes. Each command parses its flags, calls a
// package and prints what it returns; a decision a second front end would
// need is the package's, and so is a usage error it finds
// (internal/usage). See docs/ and README.md for the user guide.
package main

import (
	"os"
	"runtime"

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

func main() {
	// Hardening first, before any key or secret is in memory. A failure
	// here only makes hush less protected, so it is not fatal.
	_ = harden.Process()
	oneThread(os.Args[1:])
	os.Exit(Main(credhelper.MultiCall(os.Args[0], os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// oneThread runs a get on one P (GOMAXPROCS=1). A get does nothing in
// parallel, and with a second P idle, every goroutine started along the
// way (database/sql starts one per query inside a transaction, to watch
// its context; a commit runs about ten) wakes another thread that spins
// looking for work and goes back to sleep: about 60 more context switches
// and 0.4–0.7 ms more CPU per get on this 2-core machine
// (docs/benchmarks.md, "get: the audit entry, one P"). Scheduling only:
// what a get reads, checks and writes is the same. Commands that check
// rows on several goroutines (ls, the terminal UI, import) or serve
// (server) keep every core. Not in Main: the tests call Main in their own
// process.
func oneThread(args []string) {
	if len(args) > 0 && (args[0] == "get" || args[0] == "show") {
		runtime.GOMAXPROCS(1)
	}
}
