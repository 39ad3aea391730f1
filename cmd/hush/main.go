// Command hush is a secrets manager: an encrypted local vault, a command
// line to read and write it, and (as they land) a terminal UI, `hush run`
// and a team server.
//
// This package only wires the cobra command tree to the packages that do
// the work and maps their errors to messages and exit codes; see
// docs/ and README.md for the user guide.
package main

import (
	"os"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

func main() {
	// Hardening first, before any key or secret is in memory. A failure
	// here only makes hush less protected, so it is not fatal.
	_ = harden.Process()
	os.Exit(Main(multiCall(os.Args[0], os.Args[1:]), os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}
