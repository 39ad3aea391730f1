package unlock

import (
	"os"
	"slices"
	"strings"
)

// The passphrase variables. hush reads them once, at start; no process it
// starts (run's child, a rotator, a clipboard tool) may inherit them.
const (
	PassphraseVar    = "HUSH_PASSPHRASE"     // the vault's passphrase
	NewPassphraseVar = "HUSH_NEW_PASSPHRASE" // a new one, for init and passwd
)

// IsPassphraseVar reports whether k is one of the passphrase variables.
func IsPassphraseVar(k string) bool { return k == PassphraseVar || k == NewPassphraseVar }

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
}
