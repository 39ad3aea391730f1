package unlock

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// ErrNotGiven means no way of the chain applies: no key is remembered,
// and neither HUSH_PASSPHRASE nor a passphrase file was given. The front
// end asks the person now, or says what to set.
var ErrNotGiven = errors.New("no remembered key, passphrase variable or passphrase file")

// How an unlock happened, for a front end to show.
const (
	ByPassphraseVar  = PassphraseVar
	ByPassphraseFile = "passphrase file"
)

// Chain is the order in which every front end unlocks a vault without
// asking: [Chain.Remembered], then [Chain.Given].
type Chain struct {
	Stores         []keychain.Store // remembered keys, fastest first (keychain.Default)
	Passphrase     string           // HUSH_PASSPHRASE's value, "" when unset
	PassphraseFile string           // a file holding the passphrase, "" for none
	NewPassphrase  string           // HUSH_NEW_PASSPHRASE's value, "" when unset
	// Notef tells the person of a remembered key that was damaged or does
	// not open the vault, and was forgotten; nil says nothing.
	Notef func(format string, args ...any)
}

// Unlock unlocks v by the first way of the chain that applies and says
// which: a store's name, [ByPassphraseVar] or [ByPassphraseFile]. It
// returns [ErrNotGiven] when none applies, and a wrong passphrase as
// vault.ErrWrongPassphrase.
func (c *Chain) Unlock(v *vault.Vault) (string, error) {
	if s, ok := c.Remembered(v); ok {
		return s.Name(), nil
	}
	return c.Given(v)
}

// Given unlocks v with a passphrase given without asking: HUSH_PASSPHRASE,
// else the passphrase file. Remembered keys are not tried: `hush passwd`
// wants the passphrase itself.
func (c *Chain) Given(v *vault.Vault) (string, error) {
	switch {
	case c.Passphrase != "":
		return ByPassphraseVar, v.Unlock([]byte(c.Passphrase))
	case c.PassphraseFile != "":
		p, err := ReadPassphraseFile(c.PassphraseFile, c.Notef)
		if err != nil {
			return "", err
		}
		defer crypto.Wipe(p)
		return ByPassphraseFile, v.Unlock(p)
	}
	return "", ErrNotGiven
}

// NewGiven is a new passphrase (for a new vault, or a changed passphrase)
// given without asking, in this order: HUSH_NEW_PASSPHRASE, newFile (a
// file named for the new passphrase), and, when allowCurrent (a vault
// being created has no current passphrase to confuse it with),
// HUSH_PASSPHRASE and the passphrase file. It returns [ErrNotGiven] when
// none is given, and refuses one [CheckNew] refuses.
func (c *Chain) NewGiven(newFile string, allowCurrent bool) ([]byte, error) {
	var p []byte
	switch {
	case c.NewPassphrase != "":
		p = []byte(c.NewPassphrase)
	case newFile != "":
		b, err := ReadPassphraseFile(newFile, c.Notef)
		if err != nil {
			return nil, err
		}
		p = b
	case allowCurrent && c.Passphrase != "":
		p = []byte(c.Passphrase)
	case allowCurrent && c.PassphraseFile != "":
		b, err := ReadPassphraseFile(c.PassphraseFile, c.Notef)
		if err != nil {
			return nil, err
		}
		p = b
	default:
		return nil, ErrNotGiven
	}
	if err := CheckNew(p); err != nil {
		crypto.Wipe(p)
		return nil, err
	}
	return p, nil
}

func (c *Chain) notef(format string, args ...any) {
	if c.Notef != nil {
		c.Notef(format, args...)
	}
}

// Remembered tries every store in order and unlocks v with the first
// remembered key that opens it. A damaged or wrong entry is deleted (and
// the person told), so the next way runs. A key found in a slow store is
// copied into the faster ones that missed it, with the same expiry.
func (c *Chain) Remembered(v *vault.Vault) (keychain.Store, bool) {
	id := hexID(v)
	var missed []keychain.Store
	for _, s := range c.Stores {
		e, err := s.Get(id)
		switch {
		case errors.Is(err, keychain.ErrCorrupt):
			s.Delete(id)
			c.notef("the key remembered in the %s for this vault was damaged: forgot it", s.Name())
			continue
		case errors.Is(err, keychain.ErrNotFound):
			missed = append(missed, s)
			continue
		case err != nil:
			continue // unavailable here: not an error, the next way is tried
		}
		if err := v.UnlockWithKey(e.Key); err != nil {
			e.Key.Wipe()
			s.Delete(id)
			c.notef("the key remembered in the %s does not open this vault: forgot it", s.Name())
			continue
		}
		for _, m := range missed {
			m.Put(id, e)
		}
		e.Key.Wipe()
		return s, true
	}
	return nil, false
}

// Quietly unlocks v with a key remembered in a store that never asks the
// person anything ([keychain.Silent]: the kernel keyring), and reports
// whether it did. It changes nothing and says nothing, whatever it finds:
// shell completion calls it on every Tab.
func (c *Chain) Quietly(v *vault.Vault) bool {
	id := hexID(v)
	for _, s := range c.Stores {
		if !keychain.Silent(s) {
			continue
		}
		e, err := s.Get(id)
		if err != nil {
			continue
		}
		err = v.UnlockWithKey(e.Key)
		e.Key.Wipe()
		if err == nil {
			return true
		}
	}
	return false
}

// Remember stores the unlocked v's key until e.Expires (zero: until
// [Chain.Forget]) in the kernel keyring (Linux) and, with persist, on other
// systems, or when the kernel keyring is unavailable, in the OS keychain.
// Stores not chosen forget any older entry, so the new time holds. It
// returns the stores used and the failures of the others; it fails only
// when no store took the key.
func (c *Chain) Remember(v *vault.Vault, e keychain.Entry, persist bool) (used []string, failed []error, err error) {
	key, err := v.Key()
	if err != nil {
		return nil, nil, err
	}
	defer key.Wipe()
	e.Key = key
	id := hexID(v)
	for i, s := range c.Stores {
		isFast := s == keychain.Fast()
		want := isFast || persist || runtime.GOOS != "linux" || (i > 0 && len(used) == 0)
		if !want {
			s.Delete(id)
			continue
		}
		if err := s.Put(id, e); err != nil {
			failed = append(failed, err)
			continue
		}
		used = append(used, s.Name())
	}
	if len(used) == 0 {
		return nil, failed, fmt.Errorf("could not remember the key anywhere (%v)", errors.Join(failed...))
	}
	return used, failed, nil
}

// RememberFor is [Chain.Remember] for d from now (0: until
// [Chain.Forget]), labelled for the OS keychain with the vault's name and
// path; expires is when the key is forgotten (zero: at Forget).
func (c *Chain) RememberFor(v *vault.Vault, name, path string, d time.Duration, persist bool) (used []string, failed []error, expires time.Time, err error) {
	e := keychain.Entry{Label: fmt.Sprintf("hush: key of vault %s (%s)", name, path)}
	if d > 0 {
		e.Expires = time.Now().Add(d).Truncate(time.Second)
	}
	used, failed, err = c.Remember(v, e, persist)
	return used, failed, e.Expires, err
}

// RotateKey replaces v's key with a new one under pass (vault.RotateKey:
// everything re-sealed) and forgets the old key in every store: it no
// longer opens the vault, and is not left lying around either.
func (c *Chain) RotateKey(v *vault.Vault, pass []byte, p crypto.KDFParams) error {
	if err := v.RotateKey(pass, p); err != nil {
		return err
	}
	id := hexID(v)
	for _, s := range c.Stores {
		s.Delete(id)
	}
	return nil
}

// Forget deletes v's key from every store that can be reached and returns
// the names of those that held one.
func (c *Chain) Forget(v *vault.Vault) ([]string, error) {
	id := hexID(v)
	var forgot []string
	var errs []error
	for _, s := range c.Stores {
		_, getErr := s.Get(id)
		if errors.Is(getErr, keychain.ErrUnavailable) {
			continue
		}
		if err := s.Delete(id); err != nil {
			errs = append(errs, err)
			continue
		}
		if getErr == nil || errors.Is(getErr, keychain.ErrCorrupt) {
			forgot = append(forgot, s.Name())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return forgot, fmt.Errorf("failed to forget the key: %w", err)
	}
	return forgot, nil
}

// Held is a store holding a key that opens the vault.
type Held struct {
	Store   string
	Expires time.Time // zero: until forgotten
}

// Unavailable is a store that cannot be reached here, and why.
type Unavailable struct {
	Store string
	Err   error
}

// Status says which stores hold a key that opens v, and which cannot be
// reached here. A key that opens v leaves it unlocked.
func (c *Chain) Status(v *vault.Vault) ([]Held, []Unavailable) {
	id := hexID(v)
	var held []Held
	var unav []Unavailable
	for _, s := range c.Stores {
		e, err := s.Get(id)
		switch {
		case err == nil:
			ok := v.UnlockWithKey(e.Key) == nil
			e.Key.Wipe()
			if ok {
				held = append(held, Held{s.Name(), e.Expires})
			}
		case errors.Is(err, keychain.ErrUnavailable):
			unav = append(unav, Unavailable{s.Name(), err})
		}
	}
	return held, unav
}

// ReadPassphraseFile reads a passphrase file, without its final newline.
// Like ssh with a key file, it refuses a file that someone else can have
// chosen: one owned by another user than you or root, or reached through
// a link another user owns (its owner could choose your next passphrase,
// even with mode 0600), or one that group or others can write; and it
// tells notef (when not nil) about one they can read.
func ReadPassphraseFile(path string, notef func(format string, args ...any)) ([]byte, error) {
	f, st, err := vault.OpenOwned(path, "another user can choose what it holds; use a passphrase file of your own")
	if err != nil {
		var ue *vault.UnsafePathError
		if errors.As(err, &ue) {
			return nil, fmt.Errorf("passphrase file %w", err)
		}
		return nil, fmt.Errorf("failed to read passphrase file: %w", err)
	}
	defer f.Close()
	if st.Mode().IsRegular() {
		switch perm := st.Mode().Perm(); {
		case perm&0o022 != 0:
			return nil, fmt.Errorf("passphrase file %s is writable by group or others (mode %04o): run `chmod 600 %s`", path, perm, path)
		case perm&0o044 != 0 && notef != nil:
			notef("warning: passphrase file %s is readable by group or others (mode %04o): run `chmod 600 %s`", path, perm, path)
		}
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("failed to read passphrase file: %w", err)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("passphrase file %s is empty", path)
	}
	return b, nil
}

// hexID is the name under which stores keep v's key.
func hexID(v *vault.Vault) string { return hex.EncodeToString(v.ID()) }
