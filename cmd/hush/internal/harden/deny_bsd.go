//go:build unix && !linux && !darwin

package harden

// denyAttach: the BSDs have no equivalent of PT_DENY_ATTACH that a
// process sets on itself (FreeBSD's procctl PROC_TRACE_CTL is not wrapped
// by x/sys); nothing is done.
func denyAttach() error { return nil }
