// Package keychain remembers a vault's key between commands, so that a
// person types the passphrase once (`hush unlock`) instead of at every
// command. It stores only the 32-byte vault key and when to forget it.
//
// # Stores
//
// A [Store] is one place that can remember keys:
//
//   - [Kernel] (Linux): the kernel's per-user keyring. Answers in
//     microseconds, works headless and over SSH, and the kernel itself
//     deletes the key when its timeout runs out. Gone at reboot.
//   - [OS]: the OS keychain through github.com/zalando/go-keyring (Secret
//     Service on Linux desktops, Keychain on macOS, Credential Manager on
//     Windows): service "hush", account = the vault's id. Survives reboots.
//
// [Default] lists the stores of this platform, fastest first. A store that
// cannot be reached (no D-Bus, no Secret Service, a locked collection, a
// kernel that refuses keyctl) returns an error wrapping [ErrUnavailable],
// never hangs: every OS keychain call has its own timeout.
//
// An entry is the key, its expiry and a format tag; one that cannot be
// decoded gives [ErrCorrupt] and should be deleted by the caller.
package keychain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

var (
	// ErrNotFound: the store holds no key for this vault (or it expired).
	ErrNotFound = errors.New("no remembered key")
	// ErrUnavailable: the store cannot be used on this machine right now.
	ErrUnavailable = errors.New("unavailable")
	// ErrCorrupt: an entry exists but is not a key hush wrote.
	ErrCorrupt = errors.New("remembered key is damaged")
)

// Entry is a remembered vault key.
type Entry struct {
	Key     *crypto.Key
	Expires time.Time // zero: until `hush lock` (or reboot, for the kernel keyring)
	// Label is how a keychain that shows its items names this one (the
	// vault, and that it is its key); not part of what is stored, not
	// returned by Get.
	Label string
}

// Expired reports whether the entry's time is up.
func (e Entry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Store remembers keys by vault id. Implementations must be safe to call
// from one goroutine at a time and must not block for long.
type Store interface {
	// Name is how messages call the store, e.g. "kernel keyring".
	Name() string
	// Get returns the entry for vaultID; an expired entry is deleted and
	// reported as ErrNotFound.
	Get(vaultID string) (Entry, error)
	// Put remembers e for vaultID, replacing what was there.
	Put(vaultID string, e Entry) error
	// Delete forgets vaultID's key; nil when there was none.
	Delete(vaultID string) error
}

// The stored form: "hush-key-v1" (11 bytes), expiry in unix seconds as a
// big-endian uint64 (0: none), then the 32-byte key.
const magic = "hush-key-v1"

const encodedSize = len(magic) + 8 + crypto.KeySize

func encode(e Entry) []byte {
	b := make([]byte, 0, encodedSize)
	b = append(b, magic...)
	var exp uint64
	if !e.Expires.IsZero() {
		exp = uint64(e.Expires.Unix())
	}
	b = binary.BigEndian.AppendUint64(b, exp)
	return append(b, e.Key[:]...)
}

func decode(b []byte) (Entry, error) {
	if len(b) != encodedSize || string(b[:len(magic)]) != magic {
		return Entry{}, ErrCorrupt
	}
	var e Entry
	if exp := binary.BigEndian.Uint64(b[len(magic):]); exp != 0 {
		if exp > 1<<40 {
			return Entry{}, ErrCorrupt
		}
		e.Expires = time.Unix(int64(exp), 0)
	}
	k, err := crypto.KeyFromBytes(b[len(magic)+8:])
	if err != nil {
		return Entry{}, ErrCorrupt
	}
	e.Key = k
	return e, nil
}

func unavailable(store string, err error) error {
	return fmt.Errorf("%s %w: %v", store, ErrUnavailable, err)
}

// Silent reports whether s answers at once and never asks the person
// anything (the kernel keyring; an OS keychain may show an unlock prompt).
// Shell completion reads only such stores.
func Silent(s Store) bool {
	_, ok := s.(interface{ silent() })
	return ok
}

// Default returns this platform's stores, fastest first.
func Default() []Store {
	return defaultStores()
}

// Fast returns this platform's fast cache, or nil where it has none: a
// store that answers in microseconds without a prompt or a daemon and
// forgets by itself. On Linux it is the kernel keyring ([Kernel]); macOS
// and Windows have no equivalent, so the OS keychain is their only store
// and hush enforces the expiry it keeps beside the key.
func Fast() Store { return fastStore() }
