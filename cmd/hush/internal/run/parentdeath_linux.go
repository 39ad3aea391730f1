package run

import "syscall"

// withParentDeath makes the kernel kill the child (SIGKILL) when the thread
// that started it, and so hush, dies: the child never outlives hush.
func withParentDeath(a *syscall.SysProcAttr) *syscall.SysProcAttr {
	a.Pdeathsig = syscall.SIGKILL
	return a
}
