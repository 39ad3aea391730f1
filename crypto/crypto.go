// Package crypto holds every cryptographic primitive hush uses, and nothing
// else: no files, no database, no terminal.
//
// # Model
//
// A vault has one random 256-bit vault [Key] per key epoch. The passphrase
// never encrypts data directly: Argon2id ([DeriveKey]) turns it into a
// key-encryption key that wraps the vault key ([Seal] with the vault header as
// associated data). Each purpose (sealing names, sealing values, computing
// name lookups) uses its own subkey derived from the vault key with HKDF
// ([Key.Subkey]), so no key is ever used for two things.
//
// Data is sealed with XChaCha20-Poly1305 and a random 192-bit nonce, whose
// size makes random nonces safe for any number of messages a vault will ever
// hold. The associated data ([AD]) binds a ciphertext to where it belongs, so
// a ciphertext copied to another secret, field, version or epoch does not
// open.
//
// Failures to open are reported as [ErrDecrypt] and nothing else: callers
// never learn which byte was wrong, and never receive partial plaintext.
package crypto

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"
)

// KeySize is the size of every symmetric key hush uses.
const KeySize = 32

// Overhead is what [Seal] adds to a plaintext: nonce and tag.
const Overhead = chacha20poly1305.NonceSizeX + chacha20poly1305.Overhead

// ErrDecrypt means a ciphertext did not authenticate: the key is wrong, or
// the ciphertext or its associated data was changed.
var ErrDecrypt = errors.New("ciphertext failed authentication")

// Key is a 256-bit symmetric key. Keys are passed by pointer so that [Key.Wipe]
// clears the one copy in use.
type Key [KeySize]byte

// NewKey returns a fresh random key.
func NewKey() (*Key, error) {
	k := new(Key)
	if _, err := io.ReadFull(rand.Reader, k[:]); err != nil {
		return nil, fmt.Errorf("failed to read random key: %w", err)
	}
	return k, nil
}

// KeyFromBytes copies b into a new key. b must be exactly [KeySize] bytes.
func KeyFromBytes(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("key must be %d bytes, not %d", KeySize, len(b))
	}
	k := new(Key)
	copy(k[:], b)
	return k, nil
}

// Wipe overwrites the key with zeros. Go may have copied key material
// elsewhere (the garbage collector moves nothing, but callers may have), so
// this is best effort: it shortens the time a key sits in memory.
func (k *Key) Wipe() {
	if k == nil {
		return
	}
	Wipe(k[:])
}

// Wipe overwrites b with zeros.
func Wipe(b []byte) {
	clear(b)
}

// Subkey derives the key for one purpose with HKDF-SHA256. salt should be
// public and specific to the vault (its id); purpose names the use, e.g.
// "hush/v1/value".
func (k *Key) Subkey(salt []byte, purpose string) *Key {
	return deriveSubkey(k[:], salt, purpose)
}

// Subkeys derives the subkeys for several purposes at once: each is what
// [Key.Subkey] gives for it, but HKDF's extract step, which depends only on
// k and salt, runs once instead of once per purpose (a vault opens seven).
func (k *Key) Subkeys(salt []byte, purposes ...string) []*Key {
	prk := hkdf.Extract(sha256.New, k[:], salt)
	defer clear(prk)
	out := make([]*Key, len(purposes))
	for i, p := range purposes {
		sub := new(Key)
		if _, err := io.ReadFull(hkdf.Expand(sha256.New, prk, []byte(p)), sub[:]); err != nil {
			panic("hkdf: " + err.Error()) // 32 bytes never fail
		}
		out[i] = sub
	}
	return out
}

func deriveSubkey(ikm, salt []byte, purpose string) *Key {
	r := hkdf.New(sha256.New, ikm, salt, []byte(purpose))
	sub := new(Key)
	if _, err := io.ReadFull(r, sub[:]); err != nil {
		// HKDF-SHA256 can produce 255*32 bytes; 32 never fails.
		panic("hkdf: " + err.Error())
	}
	return sub
}

// MAC returns HMAC-SHA256 of data under k. hush uses it for name lookups,
// so that the database can find a secret by name without holding the name.
//
// For the short inputs hush MACs (names, row states, up to macStack bytes)
// it is RFC 2104 computed with two one-shot SHA-256 sums over buffers on
// the stack: crypto/hmac allocates two hash states and both pads per call,
// which an import of 10,000 secrets paid 30,000 times. The pads and the
// inner sum are cleared before returning. Longer inputs go through
// crypto/hmac. TestMACIsHMAC and FuzzMACIsHMAC compare the two.
func (k *Key) MAC(data []byte) []byte {
	if len(data) > macStack {
		m := hmac.New(sha256.New, k[:])
		m.Write(data)
		return m.Sum(nil)
	}
	var inner [sha256.BlockSize + macStack]byte
	var outer [sha256.BlockSize + sha256.Size]byte
	for i := range sha256.BlockSize {
		pad := byte(0)
		if i < len(k) {
			pad = k[i]
		}
		inner[i] = pad ^ 0x36
		outer[i] = pad ^ 0x5c
	}
	copy(inner[sha256.BlockSize:], data)
	sum := sha256.Sum256(inner[:sha256.BlockSize+len(data)])
	copy(outer[sha256.BlockSize:], sum[:])
	mac := sha256.Sum256(outer[:])
	clear(inner[:])
	clear(outer[:])
	clear(sum[:])
	return mac[:]
}

// macStack is the longest input [Key.MAC] hashes on the stack.
const macStack = 448

// Seal encrypts and authenticates plaintext with XChaCha20-Poly1305 under k,
// binding ad. The result is nonce || ciphertext || tag.
func Seal(k *Key, plaintext, ad []byte) ([]byte, error) {
	// The nonce is read straight into the output, which the ciphertext is
	// appended to: one allocation instead of two (an import seals three
	// fields per secret).
	out := make([]byte, chacha20poly1305.NonceSizeX, Overhead+len(plaintext))
	if _, err := io.ReadFull(rand.Reader, out); err != nil {
		return nil, fmt.Errorf("failed to read random nonce: %w", err)
	}
	return sealAfterNonce(k, out, plaintext, ad)
}

func sealWithNonce(k *Key, nonce, plaintext, ad []byte) ([]byte, error) {
	out := make([]byte, 0, len(nonce)+len(plaintext)+chacha20poly1305.Overhead)
	return sealAfterNonce(k, append(out, nonce...), plaintext, ad)
}

// sealAfterNonce appends the ciphertext of plaintext to out, which holds
// the nonce (and has room for the rest).
func sealAfterNonce(k *Key, out, plaintext, ad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, out, plaintext, ad), nil
}

// Open reverses [Seal]. Any change to the ciphertext, the key or ad gives
// [ErrDecrypt].
func Open(k *Key, sealed, ad []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrDecrypt
	}
	aead, err := chacha20poly1305.NewX(k[:])
	if err != nil {
		return nil, err
	}
	nonce, ct := sealed[:chacha20poly1305.NonceSizeX], sealed[chacha20poly1305.NonceSizeX:]
	pt, err := aead.Open(nil, nonce, ct, ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// Random returns n bytes from the operating system's secure source.
func Random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, fmt.Errorf("failed to read random bytes: %w", err)
	}
	return b, nil
}

// AD builds associated data from parts with an unambiguous encoding: each
// part is prefixed with its length, so ("ab","c") and ("a","bc") differ.
// Integers are written as 8 bytes big-endian.
func AD(parts ...any) []byte {
	// One allocation of the exact size: AD is built for every field
	// sealed or opened.
	n := 0
	for _, p := range parts {
		switch x := p.(type) {
		case []byte:
			n += 4 + len(x)
		case string:
			n += 4 + len(x)
		case int, int64, uint32:
			n += 4 + 8
		default:
			panic(fmt.Sprintf("crypto.AD: unsupported part type %T", p))
		}
	}
	b := make([]byte, 0, n)
	for _, p := range parts {
		switch x := p.(type) {
		case []byte:
			b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
			b = append(b, x...)
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(x)))
			b = append(b, x...)
		case int:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(x))
		case int64:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(x))
		case uint32:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(x))
		}
	}
	return b
}
