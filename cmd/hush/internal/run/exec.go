//go:build unix

package run

import (
	"fmt"
	"syscall"

	"github.com/hush-secrets/hush/cmd/hush/internal/harden"
)

// Exec replaces hush with the child (execve). It returns only on failure.
// The caller must have closed the vault (wiping its keys) first: nothing of
// hush survives the exec but the environment it hands over.
func Exec(p *Plan) error {
	harden.ForChild()
	err := syscall.Exec(p.Path, p.Argv, p.Env)
	return fmt.Errorf("failed to run %s: %w", p.Argv[0], err)
}
