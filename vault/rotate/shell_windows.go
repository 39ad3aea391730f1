package rotate

import (
	"context"
	"os/exec"
)

// shellCommand runs a rotator's command line with cmd.exe /C. Windows has
// no process group to kill as one: when ctx ends the command itself is
// killed, and a process it started may outlive it.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	return exec.CommandContext(ctx, "cmd.exe", "/C", line)
}
