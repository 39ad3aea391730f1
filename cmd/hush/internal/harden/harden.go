// Package harden makes the hush process a poor target for reading its
// memory: no core dumps, no ptrace attach by other processes of the same
// user, and files created private by default.
package harden

// Process applies every hardening step this platform supports. Failures
// are returned but not fatal: hush still works, only less protected.
func Process() error { return process() }
