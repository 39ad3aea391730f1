//go:build !linux

package keychain

// macOS, Windows and the BSDs have no kernel keyring: there is no fast
// cache, and the OS keychain (Keychain, Credential Manager, Secret
// Service) holds the remembered key. Its expiry is stored beside the key
// and enforced by hush at every read ([OS.Get] deletes an expired entry);
// nothing deletes it at the minute it expires if no hush runs, and it
// survives a reboot, which the kernel keyring does not.
//
// The expiry is not sealed under a separate key: whoever can edit the
// keychain item to push its expiry back can read the key in it anyway, so
// a seal would protect nothing and only look as if it did.

func fastStore() Store { return nil }

func defaultStores() []Store {
	return []Store{NewOS()}
}
