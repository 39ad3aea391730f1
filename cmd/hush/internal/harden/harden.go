// Package harden makes the hush process a poor target for reading its
// memory: no core dumps, no ptrace attach by other processes of the same
// user, and files created private by default. [ForChild] undoes what a
// child program must not inherit (the umask and the core limit) just
// before hush starts or becomes another program.
package harden

// Process applies every hardening step this platform supports. Failures
// are returned but not fatal: hush still works, only less protected.
func Process() error { return process() }

// ForChild restores the umask and core-dump limit hush started with, so a
// program run by `hush run` behaves as it would without hush. The
// not-dumpable flag needs no undoing: execve resets it.
func ForChild() { forChild() }
