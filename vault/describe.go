package vault

import (
	"time"

	"github.com/hush-secrets/hush/vault/kinds"
)

// Describe reads what a value is (a certificate's subject and end, an SSH
// key's fingerprint) for the vault to keep in the sealed metadata, and
// refuses a value that is not of its declared type (vault/kinds): the
// Update.Describe every front end gives.
func Describe(typ Type, value []byte) (string, time.Time, error) {
	info, err := kinds.Inspect(string(typ), value)
	if err != nil {
		return "", time.Time{}, err
	}
	return info.Summary, info.NotAfter, nil
}
