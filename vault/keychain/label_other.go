//go:build !((dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd)

package keychain

import "github.com/zalando/go-keyring"

// setLabelled stores secret with go-keyring: the Keychain shows the
// service ("hush") and the account (the vault's id), the Credential
// Manager "hush:<id>".
func setLabelled(service, user, _, secret string) error {
	return keyring.Set(service, user, secret)
}
