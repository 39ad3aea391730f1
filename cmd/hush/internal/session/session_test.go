package session

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

const passphrase = "correct horse battery"

// newSession is a session on a real vault file under a temporary
// HUSH_HOME, unlocked by HUSH_PASSPHRASE, with its notes kept.
func newSession(t *testing.T) (*Session, *[]string) {
	t.Helper()
	var notes []string
	s := &Session{Env: map[string]string{"HUSH_HOME": t.TempDir(), "HUSH_PASSPHRASE": passphrase},
		Notef: func(f string, args ...any) { notes = append(notes, fmt.Sprintf(f, args...)) }}
	_, path, err := s.VaultPath()
	if err != nil {
		t.Fatal(err)
	}
	v, err := vault.Create(path, []byte(passphrase), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	return s, &notes
}

func TestOpenSaysHowToMakeTheMissingVault(t *testing.T) {
	s := &Session{Env: map[string]string{"HUSH_HOME": t.TempDir()}}
	if _, err := s.Open(); err == nil || !strings.HasSuffix(err.Error(), "run `hush init`") {
		t.Fatalf("Open without a vault: %v", err)
	}
	s.VaultName = "work"
	if _, err := s.Open(); err == nil || !strings.HasSuffix(err.Error(), "run `hush init --vault work`") {
		t.Fatalf("Open without the vault work: %v", err)
	}
	s.VaultName = "../work"
	if _, err := s.Open(); !usage.Is(err) || !errors.Is(err, vault.ErrVaultName) {
		t.Fatalf("a bad vault name is not a usage error: %v", err)
	}
}

func TestAuditedRecordsEachActionWithItsResult(t *testing.T) {
	s, notes := newSession(t)
	err := s.Audited("set", []string{"app/KEY"}, func(v *vault.Vault) error {
		_, err := v.Set("app/KEY", []byte("v1"), vault.Update{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	failed := errors.New("no secret app/OTHER")
	if err := s.Audited("get", []string{"app/OTHER"}, func(*vault.Vault) error { return failed }); err != failed {
		t.Fatalf("Audited returned %v, not fn's error", err)
	}
	var got []string
	err = s.WithVault(func(v *vault.Vault) error {
		entries, err := v.Audit()
		for _, e := range entries {
			got = append(got, e.Action+" "+strings.Join(e.Names, ",")+" "+e.Result)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"set app/KEY ok", "get app/OTHER no secret app/OTHER"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(*notes) != 0 {
		t.Fatalf("a vault in no team said: %q", *notes)
	}
}

func TestForUIUnlocksWhereTheChainCanAndLeavesTheRestToTheUI(t *testing.T) {
	empty := &Session{Env: map[string]string{"HUSH_HOME": t.TempDir()}}
	if v, name, path, _, err := empty.ForUI(); err != nil || v != nil || name != "default" || path == "" {
		t.Fatalf("ForUI without a vault: %v, %q, %q, %v", v, name, path, err)
	}
	s, _ := newSession(t)
	v, _, _, by, err := s.ForUI()
	if err != nil || v == nil || v.Locked() || by == "" {
		t.Fatalf("ForUI with HUSH_PASSPHRASE: %v, %q, %v", v, by, err)
	}
	v.Close()
	delete(s.Env, "HUSH_PASSPHRASE")
	v, _, _, by, err = s.ForUI()
	if err != nil || v == nil || !v.Locked() || by != "" {
		t.Fatalf("ForUI with nothing to unlock by: %v, %q, %v", v, by, err)
	}
	v.Close()
}
