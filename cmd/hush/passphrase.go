package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// minPassphraseLen is the shortest new passphrase hush accepts. Argon2id
// slows guessing; it cannot save a four-letter word.
const minPassphraseLen = 8

var errNoTerminal = errors.New("no terminal")

// tty is the controlling terminal, used for hidden prompts even when stdin
// is a pipe (`hush set NAME - < file` may still need to ask a passphrase).
type tty struct{ f *os.File }

func openTTY() (*tty, error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errNoTerminal
	}
	if !term.IsTerminal(int(f.Fd())) {
		f.Close()
		return nil, errNoTerminal
	}
	return &tty{f}, nil
}

func (t *tty) Close() error { return t.f.Close() }

// readHidden prints prompt and reads a line without echo.
func (t *tty) readHidden(prompt string) ([]byte, error) {
	fmt.Fprint(t.f, prompt)
	b, err := term.ReadPassword(int(t.f.Fd()))
	fmt.Fprintln(t.f)
	if err != nil {
		return nil, fmt.Errorf("failed to read from the terminal: %w", err)
	}
	return b, nil
}

func (t *tty) printf(format string, args ...any) { fmt.Fprintf(t.f, format, args...) }

// readPassphraseFile reads --passphrase-file, without its final newline.
// Like ssh with a key file, it refuses a file others can write (they could
// choose your next passphrase) and warns about one others can read.
func (a *app) readPassphraseFile(path string) ([]byte, error) {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		switch perm := st.Mode().Perm(); {
		case perm&0o022 != 0:
			return nil, fmt.Errorf("passphrase file %s is writable by group or others (mode %04o): run `chmod 600 %s`", path, perm, path)
		case perm&0o044 != 0:
			a.notef("warning: passphrase file %s is readable by group or others (mode %04o): run `chmod 600 %s`", path, perm, path)
		}
	}
	b, err := os.ReadFile(path)
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

// unlock tries, in order: a key remembered by `hush unlock` (kernel
// keyring, then OS keychain), HUSH_PASSPHRASE, --passphrase-file, a hidden
// prompt on the terminal (three tries). Without any of them it fails with a
// message saying what to set. docs/unlock.md explains the order.
func (a *app) unlock(v *vault.Vault) error {
	if _, ok := a.unlockFromCache(v); ok {
		return nil
	}
	return a.unlockWithPassphrase(v)
}

// unlockWithPassphrase is unlock without the caches.
func (a *app) unlockWithPassphrase(v *vault.Vault) error {
	if p := a.getenv("HUSH_PASSPHRASE"); p != "" {
		return v.Unlock([]byte(p))
	}
	if a.passphraseFile != "" {
		p, err := a.readPassphraseFile(a.passphraseFile)
		if err != nil {
			return err
		}
		defer crypto.Wipe(p)
		return v.Unlock(p)
	}
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
	case a.getenv("HUSH_NEW_PASSPHRASE") != "":
		p = []byte(a.getenv("HUSH_NEW_PASSPHRASE"))
	case fileFlag != "":
		b, err := a.readPassphraseFile(fileFlag)
		if err != nil {
			return nil, err
		}
		p = b
	case allowCurrent && a.getenv("HUSH_PASSPHRASE") != "":
		p = []byte(a.getenv("HUSH_PASSPHRASE"))
	case allowCurrent && a.passphraseFile != "":
		b, err := a.readPassphraseFile(a.passphraseFile)
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
			if err := checkNewPassphrase(p1); err != nil {
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
	if err := checkNewPassphrase(p); err != nil {
		return nil, err
	}
	return p, nil
}

func checkNewPassphrase(p []byte) error {
	if len([]rune(string(p))) < minPassphraseLen {
		return fmt.Errorf("passphrase too short: use at least %d characters (a few random words are best)", minPassphraseLen)
	}
	return nil
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
