// Package change makes the changes the secret commands ask for (set,
// edit, rollback, rotate, rm and purge) on an unlocked vault, and words
// what each did, or what to do when it could not: a name that does not
// exist gets the nearest one that does. The caller opens the vault and
// writes the audit entry (internal/session); the command line parses the
// flags and prints what it returns.
package change

import (
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/rotate"
)

// Set stores value as name's new version (vault.Set) and says whether it
// was created, updated or unchanged.
func Set(v *vault.Vault, name string, value []byte, u vault.Update) (string, error) {
	res, err := v.Set(name, value, u)
	if err != nil {
		return "", err
	}
	switch {
	case !res.Changed:
		return fmt.Sprintf("%s unchanged (version %d)", name, res.Version), nil
	case res.Created:
		return fmt.Sprintf("created %s", name), nil
	}
	return fmt.Sprintf("updated %s (version %d)", name, res.Version), nil
}

// Edit changes name's metadata, keeping its value (vault.Edit).
func Edit(v *vault.Vault, name string, u vault.Update) (string, error) {
	res, err := v.Edit(name, u)
	if err != nil {
		return "", DidYouMean(v, name, err)
	}
	if !res.Changed {
		return fmt.Sprintf("%s unchanged (version %d): it already has that", name, res.Version), nil
	}
	return fmt.Sprintf("edited %s (version %d, same value)", name, res.Version), nil
}

// Rollback restores the value of name's version to as a new version,
// with that version's metadata too when withMeta. Version to being the
// current one is a usage error.
func Rollback(v *vault.Vault, name string, to int, withMeta bool) (string, error) {
	rb := v.RollbackValue
	if withMeta {
		rb = v.Rollback
	}
	res, err := rb(name, to)
	if errors.Is(err, vault.ErrCurrentVersion) {
		return "", usage.Errorf("version %d is the current one of %s: nothing to restore (see `hush history %s`)", to, name, name)
	}
	if err != nil {
		return "", DidYouMean(v, name, err)
	}
	if !res.Changed {
		return fmt.Sprintf("%s already holds the value of version %d (version %d): nothing restored", name, to, res.Version), nil
	}
	what := "the value of version %d"
	if withMeta {
		what = "version %d with its metadata"
	}
	return fmt.Sprintf("restored %s as version %d", fmt.Sprintf(what, to), res.Version), nil
}

// Rotate gives name a new value (rotate.Rotate). A secret without a
// rotator, with none given, is a usage error.
func Rotate(v *vault.Vault, name string, o rotate.Options) (string, error) {
	res, err := rotate.Rotate(v, name, o)
	if errors.Is(err, rotate.ErrNoRotator) {
		return "", usage.Errorf("%v: give --generate, or --with COMMAND (it is kept for next time)", err)
	}
	if err != nil {
		return "", DidYouMean(v, name, err)
	}
	return fmt.Sprintf("rotated %s (version %d)", name, res.Version), nil
}

// Remove removes names, keeping their history, or with purge deletes
// them and every version for good, all of them or none; tell says what
// happened to each.
func Remove(v *vault.Vault, names []string, purge bool, tell func(string)) error {
	if purge {
		// One transaction: all of them or none.
		if err := v.PurgeMany(names); err != nil {
			return err
		}
		for _, n := range names {
			tell(fmt.Sprintf("purged %s and its history", n))
		}
		return nil
	}
	for _, n := range names {
		if err := v.Remove(n); err != nil {
			return err
		}
		tell(fmt.Sprintf("removed %s (history kept: `hush rm --purge %s` deletes it for good)", n, n))
	}
	return nil
}

// DidYouMean adds the nearest existing name to a not-found error.
func DidYouMean(v *vault.Vault, name string, err error) error {
	if !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	if c, cerr := v.Closest(name); cerr == nil && c != "" {
		return fmt.Errorf("%w; did you mean %s?", err, c)
	}
	return err
}
