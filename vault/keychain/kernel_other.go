//go:build !linux

package keychain

func defaultStores() []Store {
	return []Store{NewOS()}
}
