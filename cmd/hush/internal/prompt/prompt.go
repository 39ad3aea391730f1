// Package prompt asks a person on the controlling terminal: a hidden line
// (a passphrase, a value), a passphrase with retries, a new passphrase
// typed twice, a yes/no confirmation. It reads /dev/tty (the console on
// Windows), not stdin, so a prompt works with stdin and stdout redirected
// (`hush set NAME - < file` may still need to ask a passphrase); where
// there is no terminal it fails at once with [ErrNoTerminal] and the
// caller says what to set instead, so nothing ever waits in a script.
package prompt

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hush-secrets/hush/crypto"
)

// ErrNoTerminal: there is no terminal to ask on (cron, CI, an ssh without
// -t, a service).
var ErrNoTerminal = errors.New("no terminal")

// Tries is how many times a passphrase is asked before giving up.
const Tries = 3

// tty is the controlling terminal: in and out are one file on Unix
// (/dev/tty) and the console's input and output buffers on Windows.
type tty struct{ in, out *os.File }

func open() (*tty, error) {
	in, out, err := openTerminal()
	if err != nil {
		return nil, ErrNoTerminal
	}
	if !term.IsTerminal(int(in.Fd())) {
		closeTerminal(in, out)
		return nil, ErrNoTerminal
	}
	return &tty{in, out}, nil
}

func (t *tty) close() error { return closeTerminal(t.in, t.out) }

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

// Hidden reads one hidden line: noTerminal when there is no terminal,
// empty when nothing was typed.
func Hidden(prompt string, noTerminal, empty error) ([]byte, error) {
	t, err := open()
	if err != nil {
		return nil, noTerminal
	}
	defer t.close()
	v, err := t.readHidden(prompt)
	if err != nil {
		return nil, err
	}
	if len(v) == 0 {
		return nil, empty
	}
	return v, nil
}

// Passphrase asks a passphrase up to Tries times and hands each to use
// (which must not keep it: it is wiped after). It asks again while use
// fails with wrong; nothing typed fails with empty.
func Passphrase(prompt string, use func(p []byte) error, wrong, empty error) error {
	t, err := open()
	if err != nil {
		return err
	}
	defer t.close()
	for try := 1; ; try++ {
		p, err := t.readHidden(prompt)
		if err != nil {
			return err
		}
		if len(p) == 0 {
			return empty
		}
		err = use(p)
		crypto.Wipe(p)
		if !errors.Is(err, wrong) || try == Tries {
			return err
		}
		t.printf("wrong passphrase, try again\n")
	}
}

// NewPassphrase asks a new passphrase twice, up to Tries times: one that
// check refuses is asked again with check's words, and so is one not typed
// the same twice.
func NewPassphrase(check func([]byte) error) ([]byte, error) {
	t, err := open()
	if err != nil {
		return nil, err
	}
	defer t.close()
	for try := 1; ; try++ {
		p1, err := t.readHidden("New passphrase: ")
		if err != nil {
			return nil, err
		}
		if err := check(p1); err != nil {
			if try == Tries {
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
		if try == Tries {
			return nil, errors.New("the passphrases did not match")
		}
		t.printf("the passphrases did not match, try again\n")
	}
}

// Confirm asks "question? This cannot be undone. [y/N]" and reports
// whether the answer was y or yes.
func Confirm(question string) (bool, error) {
	t, err := open()
	if err != nil {
		return false, err
	}
	defer t.close()
	t.printf("%s? This cannot be undone. [y/N] ", question)
	line, _ := bufio.NewReader(t.in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
