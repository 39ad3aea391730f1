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

	"github.com/hush-secrets/hush/cmd/hush/internal/credhelper"
	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
	_ "github.com/hush-secrets/hush/cmd/hush/internal/oneproc" // its init: a get runs on one P
)

func main() {
	// Hardening first, before any key or secret is in memory. A failure
	// here only makes hush less protected, so it is not fatal.
	_ = harden.Process()
	os.Exit(Main(credhelper.MultiCall(os.Args[0], os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
