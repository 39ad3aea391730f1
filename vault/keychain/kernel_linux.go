package keychain

import (
	"errors"
	"math"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hush-secrets/hush/crypto"
)

// Kernel is the Linux kernel's per-user keyring (keyrings(7)). Keys are
// "user" keys described "hush:v1:VAULTID" in the user keyring, readable
// only by their owner (possessor and user permissions, none for group or
// others), with a kernel timeout when they expire.
type Kernel struct{}

func (Kernel) Name() string { return "kernel keyring" }

func (Kernel) silent() {} // see Silent

func description(vaultID string) string { return "hush:v1:" + vaultID }

// permissions: everything for the possessor and the owning user, nothing
// for group or others.
const keyPerm = 0x3f3f0000

func kernelErr(err error) error {
	switch {
	case errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED):
		return ErrNotFound
	}
	return unavailable("kernel keyring", err)
}

func (k Kernel) find(vaultID string) (int, error) {
	id, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", description(vaultID), 0)
	if err != nil {
		return 0, kernelErr(err)
	}
	return id, nil
}

func (k Kernel) Get(vaultID string) (Entry, error) {
	id, err := k.find(vaultID)
	if err != nil {
		return Entry{}, err
	}
	buf := make([]byte, encodedSize+1)
	defer crypto.Wipe(buf)
	n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
	if err != nil {
		return Entry{}, kernelErr(err)
	}
	if n > len(buf) {
		return Entry{}, ErrCorrupt
	}
	e, err := decode(buf[:n])
	if err != nil {
		return Entry{}, err
	}
	if e.Expired(time.Now()) {
		k.Delete(vaultID)
		return Entry{}, ErrNotFound
	}
	return e, nil
}

func (k Kernel) Put(vaultID string, e Entry) error {
	var timeout uint
	if !e.Expires.IsZero() {
		d := time.Until(e.Expires)
		if d <= 0 {
			return k.Delete(vaultID)
		}
		timeout = uint(math.Ceil(d.Seconds()))
	}
	payload := encode(e)
	defer crypto.Wipe(payload)
	// add_key replaces an existing key of the same description in place.
	id, err := unix.AddKey("user", description(vaultID), payload, unix.KEY_SPEC_USER_KEYRING)
	if err != nil {
		return unavailable("kernel keyring", err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SETPERM, id, keyPerm, 0, 0); err != nil {
		k.Delete(vaultID)
		return unavailable("kernel keyring", err)
	}
	// A timeout of 0 clears any timeout an earlier unlock set.
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, int(timeout), 0, 0); err != nil {
		k.Delete(vaultID)
		return unavailable("kernel keyring", err)
	}
	return nil
}

func (k Kernel) Delete(vaultID string) error {
	id, err := k.find(vaultID)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Invalidate destroys the key at once, wherever else it is linked.
	if _, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0); err != nil {
		if _, err := unix.KeyctlInt(unix.KEYCTL_UNLINK, id, unix.KEY_SPEC_USER_KEYRING, 0, 0); err != nil {
			return kernelErr(err)
		}
	}
	return nil
}

func fastStore() Store { return Kernel{} }

func defaultStores() []Store {
	return []Store{Kernel{}, NewOS()}
}
