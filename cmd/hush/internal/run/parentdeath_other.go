//go:build !linux && !windows

package run

import "syscall"

// withParentDeath: only Linux has a parent-death signal. Elsewhere a child
// of a killed hush keeps running (docs/run.md says so).
func withParentDeath(a *syscall.SysProcAttr) *syscall.SysProcAttr { return a }
