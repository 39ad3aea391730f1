// Package oneproc starts the short commands that mostly wait (get, run,
// sync) on one P (vault/oneproc), from as early in the process's start as
// Go allows a program to act: its init, which depends only on os,
// runtime and vault/oneproc, runs about twentieth of hush's ~150 package
// inits (Go orders them by dependency, then by import path); set at the
// top of main instead, it saved little or nothing (docs/benchmarks.md, "a
// get on one P"). Package main imports it, blank, for that effect.
//
// The Ps come back when such a command has work to do in parallel
// (vault/oneproc.Restore, called by the code that starts workers), and
// every other command (ls and the terminal UI check rows on several
// goroutines; the server serves) keeps every core from the start.
package oneproc

import (
	"os"
	"slices"

	"github.com/hush-secrets/hush/vault/oneproc"
)

func init() {
	Set(os.Args[1:])
}

// short are the commands started on one P: a get (under either name),
// run (exec), and sync.
var short = []string{"get", "show", "run", "exec", "sync"}

// Set takes the Ps when args (the command line after the program's name)
// run one of the short commands: its first word names it.
func Set(args []string) {
	if len(args) > 0 && slices.Contains(short, args[0]) {
		oneproc.Take()
	}
}
