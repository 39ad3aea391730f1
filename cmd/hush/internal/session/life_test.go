package session

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func floor() (crypto.KDFParams, error) { return crypto.FloorKDF, nil }

func TestCreateThenChangeThePassphrase(t *testing.T) {
	var notes []string
	s := &Session{Env: map[string]string{"HUSH_HOME": t.TempDir(), "HUSH_NEW_PASSPHRASE": passphrase},
		Notef: func(f string, args ...any) { notes = append(notes, fmt.Sprintf(f, args...)) }}
	v, name, _, err := s.Create(floor, "")
	if err != nil || name != "default" {
		t.Fatalf("Create: %s, %v", name, err)
	}
	v.Close()
	if _, _, _, err := s.Create(floor, ": try --vault"); err == nil || !strings.HasSuffix(err.Error(), ": try --vault") {
		t.Fatalf("Create over a vault: %v", err)
	}

	s.Env["HUSH_PASSPHRASE"] = passphrase
	s.Env["HUSH_NEW_PASSPHRASE"] = "a new passphrase, longer"
	if err := s.ChangePassphrase(func(base crypto.KDFParams) (crypto.KDFParams, error) { return base, nil }, "", false); err != nil {
		t.Fatal(err)
	}
	if got := notes[len(notes)-1]; !strings.HasPrefix(got, "passphrase changed (key derivation: ") {
		t.Fatalf("said %q", got)
	}
	if err := s.WithVault(func(*vault.Vault) error { return nil }); err == nil {
		t.Fatal("the old passphrase still opens the vault")
	}
	s.Env["HUSH_PASSPHRASE"] = "a new passphrase, longer"
	err = s.WithVault(func(v *vault.Vault) error {
		entries, err := v.Audit()
		if err == nil && (len(entries) == 0 || entries[len(entries)-1].Action != "passwd") {
			t.Errorf("no passwd entry last in the audit log: %+v", entries)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Forget(); err != nil || notes[len(notes)-1] != "vault default is locked (no key was remembered)" {
		t.Fatalf("Forget with no store: %v, said %q", err, notes[len(notes)-1])
	}
}
