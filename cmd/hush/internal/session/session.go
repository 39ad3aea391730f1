// Package session owns one command's vault, the same for every command
// and for any other front end that runs in a hush process: which vault
// (--vault, HUSH_VAULT), opened with a hint when there is none, unlocked
// by the one chain (vault/unlock) or else a prompt on the terminal, or
// read with a machine token instead (internal/machine); its audited
// actions: the audit entry fails closed, and a change is pushed, or the
// vault synced, after it (internal/teamsync); and the vault's own life:
// creating it, remembering and forgetting its key, changing its
// passphrase.
package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/prompt"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
	"github.com/hush-secrets/hush/vault/unlock"
)

// Session is what a command knows of its vault: the environment and the
// global flags. The command line fills it from its flags.
type Session struct {
	Env map[string]string

	VaultName      string // --vault; "" is $HUSH_VAULT or "default"
	PassphraseFile string // --passphrase-file

	// Stores remember vault keys between commands, fastest first.
	Stores []keychain.Store

	// NoAutoSync is set by commands that talk to the team server
	// themselves (sync, team, resolve).
	NoAutoSync bool

	// TokenFile (--token-file) or HUSH_TOKEN: read with a machine token,
	// no vault; Command is the running command's name and TokenNames
	// what it reads (machine.Names), checked against the token's scopes.
	TokenFile  string
	Command    string
	TokenNames []machine.Name

	// Notef tells the person something (on stderr).
	Notef func(format string, args ...any)

	tokenSession *machine.Session // a writer machine's change: pushed by Record
}

// Getenv reads the environment hush was started with.
func (s *Session) Getenv(k string) string { return s.Env[k] }

// Home is the folder that holds the vaults.
func (s *Session) Home() (string, error) { return vault.Home(s.Getenv) }

// VaultPath resolves --vault / HUSH_VAULT to the vault file.
func (s *Session) VaultPath() (name, path string, err error) {
	name, path, err = vault.Locate(s.VaultName, s.Getenv)
	if errors.Is(err, vault.ErrVaultName) {
		return "", "", usage.Wrap(err)
	}
	return name, path, err
}

// Open opens the chosen vault, locked, with a friendly message when there
// is none.
func (s *Session) Open() (*vault.Vault, error) {
	if src := machine.Source(s.Getenv, s.TokenFile); src != "" {
		if s.Command == "set" { // set opens, then unlocks (a no-op here)
			return s.tokenVault(src)
		}
		return nil, machine.OnlyError(src) // the others go through Unlocked
	}
	name, path, err := s.VaultPath()
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(path)
	if errors.Is(err, vault.ErrNoVault) {
		hint := "run `hush init`"
		if name != "default" {
			hint = fmt.Sprintf("run `hush init --vault %s`", name)
		}
		return nil, fmt.Errorf("no vault at %s: %s", path, hint)
	}
	return v, err
}

// Unlocked opens the chosen vault and unlocks it.
func (s *Session) Unlocked() (*vault.Vault, error) {
	if src := machine.Source(s.Getenv, s.TokenFile); src != "" {
		return s.tokenVault(src)
	}
	v, err := s.Open()
	if err != nil {
		return nil, err
	}
	if err := s.Unlock(v); err != nil {
		v.Close()
		return nil, err
	}
	s.AutoSync(v, false)
	return v, nil
}

// WithVault runs fn on the unlocked vault and closes it (wiping its keys).
func (s *Session) WithVault(fn func(v *vault.Vault) error) error {
	v, err := s.Unlocked()
	if err != nil {
		return err
	}
	defer v.Close()
	err = fn(v)
	if n := v.PutBackEntry(); n > 0 {
		s.Notef("note: the audit log was one entry short of the vault (a crash during its last change, or a copy of the log from before it put back): entry %d went back in, as the vault's anchor kept it", n)
	}
	return err
}

// Audited is WithVault for commands that read a value or change the
// vault: the action, the names and the result go into the vault's audit
// log.
func (s *Session) Audited(action string, names []string, fn func(v *vault.Vault) error) error {
	return s.WithVault(func(v *vault.Vault) error {
		// The entry goes in with the change, or before the value is
		// handed out: see vault.Intend.
		v.IntendAction(action, names)
		err := fn(v)
		if rerr := s.Record(v, action, names, err); err == nil {
			err = rerr
		}
		return err
	})
}

// Change runs fn, a change to the open vault v, with its audit entry: the
// entry goes in with the change (vault.Intend) and Record writes the
// result; an entry that cannot be written fails the change.
func (s *Session) Change(v *vault.Vault, action string, names []string, fn func() error) error {
	v.Intend(action, names)
	err := fn()
	if rerr := s.Record(v, action, names, err); err == nil {
		err = rerr
	}
	return err
}

// Record writes an audit entry. The log fails closed: when the entry
// cannot be written, the command fails (a change or a read that carried
// its entry with vault.Intend did not happen; see docs/security.md).
func (s *Session) Record(v *vault.Vault, action string, names []string, result error) error {
	err := v.Record(action, names, result)
	if err != nil {
		err = fmt.Errorf("the audit log could not be written: %w", err)
		if result != nil && !strings.Contains(result.Error(), rerrText(err)) {
			s.Notef("note: %v", err) // the command fails with its own error
		}
		return err
	}
	if result == nil && vault.Changes(action) {
		if s.tokenSession != nil {
			ctx, cancel := context.WithTimeout(context.Background(), teamsync.Timeout)
			defer cancel()
			return s.tokenSession.Push(ctx)
		}
		s.AutoSync(v, true, names...) // also tells when the change stays here
	}
	return nil
}

// rerrText is the vault's part of a record error.
func rerrText(err error) string {
	return strings.TrimPrefix(err.Error(), "the audit log could not be written: ")
}

// AutoSync syncs when the vault's team settings ask for it (see
// teamsync.AfterCommand), unless the command talks to the server itself.
func (s *Session) AutoSync(v *vault.Vault, changed bool, names ...string) {
	if !s.NoAutoSync {
		for _, n := range teamsync.AfterCommand(v, changed, names...) {
			s.Notef("%s", n)
		}
	}
}

// TokenTeam is the team of the machine token a changing command runs
// with (its vault lives in memory); nil without one.
func (s *Session) TokenTeam() *client.Team {
	if s.tokenSession == nil {
		return nil
	}
	return s.tokenSession.Team
}

// tokenVault is the vault a command reads when a machine token is given:
// the team, synced into memory with the token (internal/machine).
func (s *Session) tokenVault(src string) (*vault.Vault, error) {
	if !machine.Commands[s.Command] {
		return nil, machine.OnlyError(src)
	}
	ctx, cancel := context.WithTimeout(context.Background(), teamsync.Timeout)
	defer cancel()
	m, err := machine.Open(ctx, s.Getenv, s.TokenFile, s.TokenNames)
	if err != nil {
		return nil, err
	}
	if m.Note != "" {
		s.Notef("%s", m.Note)
	}
	if vault.Changes(s.Command) {
		if err := m.Writable(); err != nil {
			m.Vault.Close()
			return nil, err
		}
		s.tokenSession = m // Record pushes the change
	}
	return m.Vault, nil
}

// ForUI opens the chosen vault for a front end that asks the passphrase
// itself (the terminal UI): unlocked by the chain where it can (how, in
// unlockedBy), else locked; nil when there is no vault yet (the UI offers
// to create one).
func (s *Session) ForUI() (v *vault.Vault, name, path, unlockedBy string, err error) {
	if name, path, err = s.VaultPath(); err != nil {
		return nil, "", "", "", err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, name, path, "", nil
	}
	if v, err = vault.Open(path); err != nil {
		return nil, "", "", "", err
	}
	// The commands' chain; where it ends, the UI asks instead of a prompt.
	unlockedBy, err = s.Chain().Unlock(v)
	if err != nil && !errors.Is(err, unlock.ErrNotGiven) {
		v.Close()
		return nil, "", "", "", err
	}
	return v, name, path, unlockedBy, nil
}

// Chain is the unlock order every front end uses (docs/unlock.md), from
// this process's environment and flags.
func (s *Session) Chain() *unlock.Chain {
	return &unlock.Chain{Stores: s.Stores, Passphrase: s.Getenv(unlock.PassphraseVar), PassphraseFile: s.PassphraseFile,
		NewPassphrase: s.Getenv(unlock.NewPassphraseVar), Notef: s.Notef}
}

// Unlock unlocks v by the chain (a key remembered by `hush unlock`,
// HUSH_PASSPHRASE, --passphrase-file), else with a hidden prompt on the
// terminal (three tries). Without any of them it fails with a message
// saying what to set.
func (s *Session) Unlock(v *vault.Vault) error {
	if v.Memory() {
		return nil // a machine token's vault: open from the start
	}
	_, err := s.Chain().Unlock(v)
	if errors.Is(err, unlock.ErrNotGiven) {
		return s.askPassphrase(v)
	}
	return err
}

// unlockWithPassphrase is Unlock without the remembered keys.
func (s *Session) unlockWithPassphrase(v *vault.Vault) error {
	_, err := s.Chain().Given(v)
	if errors.Is(err, unlock.ErrNotGiven) {
		return s.askPassphrase(v)
	}
	return err
}

// askPassphrase asks the passphrase on the terminal, three tries.
func (s *Session) askPassphrase(v *vault.Vault) error {
	name, _, _ := s.VaultPath()
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
func (s *Session) newPassphrase(newFile string, allowCurrent bool) ([]byte, error) {
	p, err := s.Chain().NewGiven(newFile, allowCurrent)
	if !errors.Is(err, unlock.ErrNotGiven) {
		return p, err
	}
	p, err = prompt.NewPassphrase(unlock.CheckNew)
	if errors.Is(err, prompt.ErrNoTerminal) {
		return nil, errors.New("no new passphrase: set HUSH_NEW_PASSPHRASE (there is no terminal to ask on)")
	}
	return p, err
}
