//go:build unix

package pgtest

import "syscall"

// detached puts the watchdog in a process group of its own.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
