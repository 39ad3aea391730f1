package main

import (
	"context"
	"os/exec"
)

// shellCommand runs a user's command line (a rotator) with cmd.exe /C.
// Windows has no process groups to kill as one: when ctx ends the command
// itself is killed, and a process it started may outlive it.
func shellCommand(ctx context.Context, line string) *exec.Cmd {
	return exec.CommandContext(ctx, "cmd.exe", "/C", line)
}
