package main

import (
	"errors"
	"fmt"

	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// chain is the unlock order every front end uses (docs/unlock.md), from
// this process's environment and flags.
func (a *app) chain() *unlock.Chain {
	return &unlock.Chain{Stores: a.stores, Passphrase: a.getenv(unlock.PassphraseVar), PassphraseFile: a.passphraseFile,
		NewPassphrase: a.getenv(unlock.NewPassphraseVar), Notef: a.notef}
}

// unlock unlocks v by the chain (a key remembered by `hush unlock`,
// HUSH_PASSPHRASE, --passphrase-file), else with a hidden prompt on the
// terminal (three tries). Without any of them it fails with a message
// saying what to set.
func (a *app) unlock(v *vault.Vault) error {
	if v.Memory() {
		return nil // a machine token's vault: open from the start
	}
	_, err := a.chain().Unlock(v)
	if errors.Is(err, unlock.ErrNotGiven) {
		return a.askPassphrase(v)
	}
	return err
}

// unlockWithPassphrase is unlock without the remembered keys.
func (a *app) unlockWithPassphrase(v *vault.Vault) error {
	_, err := a.chain().Given(v)
	if errors.Is(err, unlock.ErrNotGiven) {
		return a.askPassphrase(v)
	}
	return err
}

// askPassphrase asks the passphrase on the terminal, three tries.
func (a *app) askPassphrase(v *vault.Vault) error {
	name, _, _ := a.vaultPath()
	err := prompt.Passphrase(fmt.Sprintf("Passphrase for vault %s: ", name), v.Unlock, vault.ErrWrongPassphrase,
		fmt.Errorf("%w: no passphrase given", vault.ErrLocked))
	if errors.Is(err, prompt.ErrNoTerminal) {
		return fmt.Errorf("%w: run `hush unlock`, set HUSH_PASSPHRASE or use --passphrase-file (there is no terminal to ask on)", vault.ErrLocked)
	}
	return err
}

// newPassphrase gets a new passphrase for init or passwd: given without
// asking (unlock.Chain.NewGiven: HUSH_NEW_PASSPHRASE, newFile, and when
// allowCurrent, as for init, HUSH_PASSPHRASE / --passphrase-file), else
// asked twice on the terminal.
func (a *app) newPassphrase(newFile string, allowCurrent bool) ([]byte, error) {
	p, err := a.chain().NewGiven(newFile, allowCurrent)
	if !errors.Is(err, unlock.ErrNotGiven) {
		return p, err
	}
	p, err = prompt.NewPassphrase(unlock.CheckNew)
	if errors.Is(err, prompt.ErrNoTerminal) {
		return nil, errors.New("no new passphrase: set HUSH_NEW_PASSPHRASE (there is no terminal to ask on)")
	}
	return p, err
}
