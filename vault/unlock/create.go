package unlock

import (
	"errors"
	"fmt"
	"os"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// Create makes the vault name at path, for a front end's init or team
// join. It refuses at once when a vault is there, before ask is called
// for the key derivation cost (zero: vault.Create calibrates it) and the
// new passphrase, which it wipes; hint follows "already exists". note is
// what to tell the person: an earlier vault's audit log kept aside.
func Create(name, path, hint string, ask func() (crypto.KDFParams, []byte, error)) (v *vault.Vault, note string, err error) {
	exists := fmt.Errorf("vault %s already exists at %s%s", name, path, hint)
	if _, err := os.Stat(path); err == nil {
		return nil, "", exists
	}
	params, pass, err := ask()
	if err != nil {
		return nil, "", err
	}
	defer crypto.Wipe(pass)
	v, err = vault.Create(path, pass, vault.CreateOptions{KDF: params})
	if errors.Is(err, vault.ErrVaultExists) {
		return nil, "", exists
	}
	if err == nil && v.KeptAuditLog() != "" {
		note = fmt.Sprintf("note: the audit log an earlier vault %s left was kept as %s: it opens only with a backup of that vault", name, v.KeptAuditLog())
	}
	return v, note, err
}
