package sshagent

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// With no remembered key the agent does not start: it says how to unlock,
// and never asks for a passphrase.
func TestCheckSaysHowToUnlockALockedVault(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vaults", "default.db")
	v, err := vault.Create(path, []byte("correct horse battery"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	fv := &FolderVault{Open: func() (*vault.Vault, error) { return vault.Open(path) }, Chain: &unlock.Chain{Passphrase: "correct horse battery"},
		Folder: "ssh", Notef: t.Logf}
	n, err := fv.Check()
	if err == nil || n != 0 || !strings.HasPrefix(err.Error(), "vault is locked: run `hush unlock` first") {
		t.Fatalf("Check on a locked vault: %d, %v", n, err)
	}
}
