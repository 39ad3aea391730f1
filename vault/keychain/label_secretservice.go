//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

package keychain

import (
	ss "github.com/zalando/go-keyring/secret_service"
)

// setLabelled stores secret as go-keyring's Set does (same attributes, so
// its Get and Delete find it), but under a label that says what the item
// is: go-keyring's own is "Password for '<id>' on 'hush'", which names
// neither the vault nor the key.
func setLabelled(service, user, label, secret string) error {
	svc, err := ss.NewSecretService()
	if err != nil {
		return err
	}
	session, err := svc.OpenSession()
	if err != nil {
		return err
	}
	defer svc.Close(session)
	collection := svc.GetLoginCollection()
	if err := svc.Unlock(collection.Path()); err != nil {
		return err
	}
	return svc.CreateItem(collection, label, map[string]string{"username": user, "service": service}, ss.NewSecret(session.Path(), secret))
}
