//go:build linux

package unlock

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

const pass = "correct horse battery staple"

func newVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "test.db"), []byte(pass), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Lock()
	t.Cleanup(func() { v.Close() })
	return v
}

// The chain's order without a keychain: HUSH_PASSPHRASE, then the file,
// then nothing (the front end asks).
func TestChainGivenOrder(t *testing.T) {
	v := newVault(t)
	file := filepath.Join(t.TempDir(), "pass")
	if err := os.WriteFile(file, []byte(pass+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c       Chain
		by      string
		wantErr error
	}{
		{Chain{Passphrase: pass, PassphraseFile: "/nonexistent"}, ByPassphraseVar, nil},
		{Chain{PassphraseFile: file}, ByPassphraseFile, nil},
		{Chain{Passphrase: "wrong passphrase", PassphraseFile: file}, ByPassphraseVar, vault.ErrWrongPassphrase},
		{Chain{}, "", ErrNotGiven},
	} {
		v.Lock()
		by, err := tc.c.Unlock(v)
		if by != tc.by || !errors.Is(err, tc.wantErr) || (err == nil) == v.Locked() {
			t.Errorf("%+v: by %q, err %v, locked %v", tc.c, by, err, v.Locked())
		}
	}
}

// With the real kernel keyring: a remembered key comes first, a key that
// does not open the vault is forgotten (and the person told), Forget
// forgets, and Status says where a key is.
func TestChainNewGivenOrder(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	newFile, curFile := file("new", "new passphrase from a file"), file("cur", "current from a file")
	for _, tc := range []struct {
		c            Chain
		newFile      string
		allowCurrent bool
		want         string
		wantErr      error
	}{
		{Chain{NewPassphrase: "the new variable", Passphrase: pass}, newFile, true, "the new variable", nil},
		{Chain{Passphrase: pass}, newFile, true, "new passphrase from a file", nil},
		{Chain{Passphrase: pass, PassphraseFile: curFile}, "", true, pass, nil},
		{Chain{PassphraseFile: curFile}, "", true, "current from a file", nil},
		// passwd: the current passphrase is never taken for the new one.
		{Chain{Passphrase: pass, PassphraseFile: curFile}, "", false, "", ErrNotGiven},
		{Chain{}, "", true, "", ErrNotGiven},
		{Chain{NewPassphrase: "short"}, "", true, "", ErrShortPassphrase},
	} {
		p, err := tc.c.NewGiven(tc.newFile, tc.allowCurrent)
		if string(p) != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("%+v, %q, %v: got %q, %v; want %q, %v", tc.c, tc.newFile, tc.allowCurrent, p, err, tc.want, tc.wantErr)
		}
	}
}

func TestChainRememberedKernelKeyring(t *testing.T) {
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false); err != nil {
		if keychaintest.Real() {
			t.Fatalf("no kernel keyring: %v", err)
		}
		t.Skipf("no kernel keyring here: %v", err)
	}
	v := newVault(t)
	var notes []string
	c := Chain{Stores: []keychain.Store{keychain.Kernel{}}, Passphrase: "wrong passphrase",
		Notef: func(f string, a ...any) { notes = append(notes, f) }}
	if err := v.Unlock([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	used, failed, err := c.Remember(v, keychain.Entry{}, false)
	if err != nil || !slices.Equal(used, []string{"kernel keyring"}) || len(failed) != 0 {
		t.Fatalf("remember: %v %v %v", used, failed, err)
	}
	t.Cleanup(func() { c.Forget(v) })
	v.Lock()
	if by, err := c.Unlock(v); by != "kernel keyring" || err != nil || v.Locked() {
		t.Fatalf("by %q, %v: the remembered key should win over a wrong HUSH_PASSPHRASE", by, err)
	}
	if held, _ := c.Status(v); len(held) != 1 || held[0].Store != "kernel keyring" {
		t.Errorf("status: %+v", held)
	}
	// Another vault's key under this vault's id: forgotten, then the next way.
	other := newVault(t)
	if err := other.Unlock([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	key, _ := other.Key()
	if err := (keychain.Kernel{}).Put(idOf(v), keychain.Entry{Key: key}); err != nil {
		t.Fatal(err)
	}
	v.Lock()
	if _, err := c.Unlock(v); !errors.Is(err, vault.ErrWrongPassphrase) {
		t.Fatalf("a wrong remembered key, then a wrong passphrase: %v", err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "does not open this vault") {
		t.Errorf("notes: %q", notes)
	}
	if forgot, err := c.Forget(v); err != nil || len(forgot) != 0 {
		t.Errorf("forget after the wrong key was dropped: %v %v", forgot, err)
	}
}

func TestScrub(t *testing.T) {
	got := Scrub([]string{"A=1", "HUSH_PASSPHRASE=x", "HUSH_NEW_PASSPHRASE=y", "HUSH_VAULT=v", "HUSH_PASSPHRASE_FILE=z"})
	if want := []string{"A=1", "HUSH_VAULT=v", "HUSH_PASSPHRASE_FILE=z"}; !slices.Equal(got, want) {
		t.Errorf("%q, want %q", got, want)
	}
}

func idOf(v *vault.Vault) string { return hexID(v) }

// RememberFor keeps the key for the time asked; RotateKey forgets it in
// every store, so the old key opens nothing and lies nowhere.
func TestChainRememberForThenRotateKeyForgets(t *testing.T) {
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false); err != nil {
		if keychaintest.Real() {
			t.Fatalf("no kernel keyring: %v", err)
		}
		t.Skipf("no kernel keyring here: %v", err)
	}
	v := newVault(t)
	c := Chain{Stores: []keychain.Store{keychain.Kernel{}}}
	if err := v.Unlock([]byte(pass)); err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	used, _, expires, err := c.RememberFor(v, "test", v.Path(), time.Hour, false)
	if err != nil || !slices.Equal(used, []string{"kernel keyring"}) {
		t.Fatalf("RememberFor: %v %v", used, err)
	}
	t.Cleanup(func() { c.Forget(v) })
	if expires.Before(before.Add(time.Hour-time.Second)) || expires.After(before.Add(time.Hour+time.Minute)) {
		t.Fatalf("expires %v, asked for an hour from %v", expires, before)
	}
	if held, _ := c.Status(v); len(held) != 1 || !held[0].Expires.Equal(expires) {
		t.Fatalf("status: %+v", held)
	}
	if err := c.RotateKey(v, []byte(pass), crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	if _, err := (keychain.Kernel{}).Get(idOf(v)); !errors.Is(err, keychain.ErrNotFound) {
		t.Fatalf("the old key is still remembered after RotateKey: %v", err)
	}
	if _, ok := c.Remembered(v); ok {
		t.Fatal("a remembered key opens the vault after RotateKey")
	}
}
