package harden

import "golang.org/x/sys/unix"

// denyAttach: PT_DENY_ATTACH makes a later ptrace attach (lldb, dtrace on
// this pid) fail. It lasts for the process, and execve does not carry it
// into a child of `hush run`.
func denyAttach() error { return unix.PtraceDenyAttach() }
