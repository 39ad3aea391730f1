package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

var errNoTerminal = errors.New("no terminal")

// tty is the controlling terminal, used for hidden prompts even when stdin
// is a pipe (`hush set NAME - < file` may still need to ask a passphrase).
// in and out are one file on Unix (/dev/tty) and the console's input and
// output buffers on Windows (tty_windows.go).
type tty struct{ in, out *os.File }

func openTTY() (*tty, error) {
	in, out, err := openTerminal()
	if err != nil {
		return nil, errNoTerminal
	}
	if !term.IsTerminal(int(in.Fd())) {
		closeTerminal(in, out)
		return nil, errNoTerminal
	}
	return &tty{in, out}, nil
}

func (t *tty) Close() error { return closeTerminal(t.in, t.out) }

// readHidden prints prompt and reads a line without echo.
func (t *tty) readHidden(prompt string) ([]byte, error) {
	fmt.Fprint(t.out, prompt)
	b, err := term.ReadPassword(int(t.in.Fd()))
	fmt.Fprintln(t.out)
	if err != nil {
		return nil, fmt.Errorf("failed to read from the terminal: %w", err)
	}
	return b, nil
}

func (t *tty) printf(format string, args ...any) { fmt.Fprintf(t.out, format, args...) }

// chain is the unlock order every front end uses (docs/unlock.md), from
// this process's environment and flags.
func (a *app) chain() *unlock.Chain {
	return &unlock.Chain{Stores: a.stores, Passphrase: a.getenv(unlock.PassphraseVar), PassphraseFile: a.passphraseFile, Notef: a.notef}
}

// unlock unlocks v by the chain (a key remembered by `hush unlock`,
// HUSH_PASSPHRASE, --passphrase-file), else with a hidden prompt on the
// terminal (three tries). Without any of them it fails with a message
// saying what to set.
func (a *app) unlock(v *vault.Vault) error {
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
	t, err := openTTY()
	if err != nil {
		return fmt.Errorf("%w: run `hush unlock`, set HUSH_PASSPHRASE or use --passphrase-file (there is no terminal to ask on)", vault.ErrLocked)
	}
	defer t.Close()
	name, _, _ := a.vaultPath()
	for try := 1; ; try++ {
		p, err := t.readHidden(fmt.Sprintf("Passphrase for vault %s: ", name))
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return fmt.Errorf("%w: no passphrase given", vault.ErrLocked)
		}
		err = v.Unlock(p)
		crypto.Wipe(p)
		if !errors.Is(err, vault.ErrWrongPassphrase) || try == 3 {
			return err
		}
		t.printf("wrong passphrase, try again\n")
	}
}

// newPassphrase gets a new passphrase for init or passwd: from
// HUSH_NEW_PASSPHRASE (or HUSH_PASSPHRASE / --passphrase-file when
// allowCurrent, as for init), else asked twice on the terminal.
func (a *app) newPassphrase(fileFlag string, allowCurrent bool) ([]byte, error) {
	var p []byte
	switch {
	case a.getenv(unlock.NewPassphraseVar) != "":
		p = []byte(a.getenv(unlock.NewPassphraseVar))
	case fileFlag != "":
		b, err := unlock.ReadPassphraseFile(fileFlag, a.notef)
		if err != nil {
			return nil, err
		}
		p = b
	case allowCurrent && a.getenv(unlock.PassphraseVar) != "":
		p = []byte(a.getenv(unlock.PassphraseVar))
	case allowCurrent && a.passphraseFile != "":
		b, err := unlock.ReadPassphraseFile(a.passphraseFile, a.notef)
		if err != nil {
			return nil, err
		}
		p = b
	default:
		t, err := openTTY()
		if err != nil {
			return nil, fmt.Errorf("no new passphrase: set HUSH_NEW_PASSPHRASE (there is no terminal to ask on)")
		}
		defer t.Close()
		for try := 1; ; try++ {
			p1, err := t.readHidden("New passphrase: ")
			if err != nil {
				return nil, err
			}
			if err := unlock.CheckNew(p1); err != nil {
				if try == 3 {
					return nil, err
				}
				t.printf("%v\n", err)
				continue
			}
			p2, err := t.readHidden("Repeat it: ")
			if err != nil {
				return nil, err
			}
			same := bytes.Equal(p1, p2)
			crypto.Wipe(p2)
			if same {
				return p1, nil
			}
			crypto.Wipe(p1)
			if try == 3 {
				return nil, errors.New("the passphrases did not match")
			}
			t.printf("the passphrases did not match, try again\n")
		}
	}
	if err := unlock.CheckNew(p); err != nil {
		return nil, err
	}
	return p, nil
}

// askHidden reads one hidden line from the terminal: noTerminal when there
// is none, empty when nothing was typed.
func askHidden(prompt string, noTerminal, empty error) ([]byte, error) {
	t, err := openTTY()
	if err != nil {
		return nil, noTerminal
	}
	defer t.Close()
	v, err := t.readHidden(prompt)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, empty
	}
	return v, nil
}
