package unlock

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"
)

// The passphrase variables. hush reads them once, at start; no process it
// starts (run's child, a rotator, a clipboard tool) may inherit them.
const (
	PassphraseVar    = "HUSH_PASSPHRASE"     // the vault's passphrase
	NewPassphraseVar = "HUSH_NEW_PASSPHRASE" // a new one, for init and passwd
	// TokenVar holds a machine token: a credential like a passphrase,
	// scrubbed the same way.
	TokenVar = "HUSH_TOKEN"
)

// IsPassphraseVar reports whether k is one of the passphrase variables
// (or the machine token's, a credential too).
func IsPassphraseVar(k string) bool {
	return k == PassphraseVar || k == NewPassphraseVar || k == TokenVar
}

// Scrub returns environ (KEY=VALUE) without the passphrase variables.
func Scrub(environ []string) []string {
	return slices.DeleteFunc(slices.Clone(environ), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return IsPassphraseVar(k)
	})
}

// ScrubProcess removes the passphrase variables from this process's own
// environment, for what starts processes without saying their environment.
func ScrubProcess() {
	os.Unsetenv(PassphraseVar)
	os.Unsetenv(NewPassphraseVar)
	os.Unsetenv(TokenVar)
}

// MinPassphraseLen is the shortest new passphrase hush accepts, in
// characters, in every front end. Argon2id slows guessing; it cannot save
// a four-letter word.
const MinPassphraseLen = 8

// ErrShortPassphrase is a new passphrase under [MinPassphraseLen].
var ErrShortPassphrase = fmt.Errorf("passphrase too short: use at least %d characters (a few random words are best)", MinPassphraseLen)

// CheckNew says whether p may become a vault's passphrase.
func CheckNew(p []byte) error {
	if utf8.RuneCount(p) < MinPassphraseLen {
		return ErrShortPassphrase
	}
	return nil
}
