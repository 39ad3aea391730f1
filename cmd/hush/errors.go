package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hush-secrets/hush/cmd/hush/internal/listing"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// report prints err for a person and returns the exit code. Messages come
// from the packages, which never put a secret value in an error.
func report(stderr io.Writer, err error) int {
	var es exitStatus
	if errors.As(err, &es) {
		return int(es) // the child's own code; it has said what it had to
	}
	code := exitFailure
	msg := err.Error()
	switch {
	case usage.Is(err), usage.CommandLine(msg):
		code = exitUsage
		msg += "\nrun `hush --help` for usage"
	case errors.Is(err, vault.ErrWrongPassphrase):
		msg = "wrong passphrase"
	case errors.As(err, new(*vault.DamagedSecretsError)):
		var d *vault.DamagedSecretsError
		errors.As(err, &d)
		msg += "\n" + listing.DamagedHint(d)
	case errors.Is(err, crypto.ErrWeakKDF):
		msg += " (the floor is OWASP's minimum for Argon2id: 19 MiB, 2 passes and 1 lane, shown as m=19 MiB, t=2, p=1; hush's default is 64 MiB, 4 lanes and at least 3 passes)"
	case errors.As(err, new(*vault.AuditError)) && !strings.Contains(msg, "audit --restart"):
		// The log fails closed: say how to go on.
		msg += "; `hush audit --verify` shows it, `hush audit --restart` keeps the broken log aside and starts a new one"
	}
	if teamsync.Removed(err) {
		msg = teamsync.RemovedWords
	}
	fmt.Fprintf(stderr, "hush: %s\n", msg)
	return code
}
