//go:build !linux

package keychain

import "testing"

func kernelStore(b *testing.B) Store {
	b.Skip("the kernel keyring is Linux only")
	return nil
}

func putRaw(t *testing.T, s Store, id string, raw []byte) {
	t.Skip("the kernel keyring is Linux only")
}
