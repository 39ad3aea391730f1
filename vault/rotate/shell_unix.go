//go:build unix

package rotate

import (
	"context"
	"os/exec"
	"syscall"
)

// shellCommand runs a rotator's command line with sh -c in a process group
// of its own, killed as a whole when ctx ends: no orphan it started keeps
// running, or holds hush's pipes.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "sh", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}
