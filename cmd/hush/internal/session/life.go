package session

import (
	"fmt"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// Create makes the chosen vault, for init and team join
// (unlock.Create): the key derivation cost from kdf (zero: vault.Create
// calibrates it), the passphrase from newPassphrase. hint follows
// "already exists".
func (s *Session) Create(kdf func() (crypto.KDFParams, error), hint string) (v *vault.Vault, name, path string, err error) {
	name, path, err = s.VaultPath()
	if err != nil {
		return nil, "", "", err
	}
	v, note, err := unlock.Create(name, path, hint, func() (params crypto.KDFParams, pass []byte, err error) {
		if params, err = kdf(); err != nil {
			return params, nil, err
		}
		pass, err = s.newPassphrase("", true)
		return params, pass, err
	})
	if note != "" {
		s.Notef("%s", note)
	}
	return v, name, path, err
}

// Remember is `hush unlock`: unless a remembered key opens the chosen
// vault already, the passphrase unlocks it (unlockWithPassphrase); then
// its key is remembered for d (0: until Forget), see
// unlock.Chain.RememberFor, and Notef says where and until when.
func (s *Session) Remember(d time.Duration, persist bool) error {
	v, err := s.Open()
	if err != nil {
		return err
	}
	defer v.Close()
	if _, ok := s.Chain().Remembered(v); !ok {
		if err := s.unlockWithPassphrase(v); err != nil {
			return err
		}
	}
	name, path, _ := s.VaultPath()
	used, failed, expires, err := s.Chain().RememberFor(v, name, path, d, persist)
	if err != nil {
		return fmt.Errorf("%w: use --passphrase-file or HUSH_PASSPHRASE instead", err)
	}
	until := "until `hush lock`"
	if !expires.IsZero() {
		until = "until " + human.When(expires, time.Now())
	}
	for _, err := range failed {
		s.Notef("note: %v; the key is remembered in the %s %s", err, strings.Join(used, " and "), until)
	}
	s.Notef("vault %s unlocked %s (%s)", name, until, strings.Join(used, ", "))
	return nil
}

// Forget is `hush lock`: the chosen vault's key is forgotten in every
// store, and Notef says where it was.
func (s *Session) Forget() error {
	v, err := s.Open()
	if err != nil {
		return err
	}
	defer v.Close()
	forgot, err := s.Chain().Forget(v)
	if err != nil {
		return err
	}
	name, _, _ := s.VaultPath()
	if len(forgot) == 0 {
		s.Notef("vault %s is locked (no key was remembered)", name)
		return nil
	}
	s.Notef("vault %s locked: forgot the key in the %s", name, strings.Join(forgot, " and "))
	return nil
}

// ChangePassphrase is `hush passwd`. The current passphrase unlocks the
// chosen vault, not a remembered key: whoever sits at an unlocked session
// must not be able to change it. Then the new passphrase
// (newPassphrase(newFile)) wraps the vault key, with the cost kdf gives
// from the vault's own; with rotateKey a new vault key replaces it
// (unlock.Chain.RotateKey: everything re-sealed, remembered keys
// forgotten). The change is audited; an entry that cannot be written is
// only said, as the passphrase has changed.
func (s *Session) ChangePassphrase(kdf func(base crypto.KDFParams) (crypto.KDFParams, error), newFile string, rotateKey bool) error {
	v, err := s.Open()
	if err != nil {
		return err
	}
	defer v.Close()
	if err := s.unlockWithPassphrase(v); err != nil {
		return err
	}
	err = func() error {
		params, err := kdf(v.KDF())
		if err != nil {
			return err
		}
		pass, err := s.newPassphrase(newFile, false)
		if err != nil {
			return err
		}
		defer crypto.Wipe(pass)
		if rotateKey {
			// Its entry goes in as a change of its own once the new key is
			// in place (vault.RotateKey), and moves the anchor.
			v.Intend("passwd", nil)
			if err := s.Chain().RotateKey(v, pass, params); err != nil {
				return err
			}
			s.Notef("passphrase changed and vault key replaced (key epoch %d; key derivation: %s); remembered keys were forgotten", v.Epoch(), params)
			return nil
		}
		// Its entry goes in with the change, and moves the anchor.
		v.Intend("passwd", nil)
		if err := v.ChangePassphrase(pass, params); err != nil {
			return err
		}
		s.Notef("passphrase changed (key derivation: %s)", params)
		return nil
	}()
	if rerr := s.Record(v, "passwd", nil, err); err == nil && rerr != nil {
		s.Notef("note: the passphrase was changed, but %v", rerr)
	}
	return err
}
