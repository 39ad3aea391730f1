package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"hash"

	"github.com/hush-secrets/hush/crypto"
)

// writeMACs computes the MACs a batch write makes for every new secret
// (its name's lookup MAC, its row MAC and its element of the anchor's
// digest) with one HMAC per key, reused: after the first, Reset restores
// the keyed state instead of hashing the key's pads again, half the
// SHA-256 blocks of a short MAC ([Vault.rowsDigest] does the same). The
// MACs are the same bytes as [Vault.nameMAC], [Vault.rowMAC] and
// [Vault.rowElement] (TestWriteMACsAreTheVaultsMACs).
//
// It is not safe for concurrent use: a write makes one for its own
// transaction ([Vault.SetMany], [Vault.ApplyRemote]) and drops it after.
type writeMACs struct {
	v                   *Vault
	lookup, row, rowSet hash.Hash
}

func (v *Vault) newWriteMACs() *writeMACs {
	return &writeMACs{v: v,
		lookup: hmac.New(sha256.New, v.keys.lookup[:]),
		row:    hmac.New(sha256.New, v.keys.row[:]),
		rowSet: hmac.New(sha256.New, v.keys.rowSet[:]),
	}
}

func sum(h hash.Hash, data []byte) []byte {
	h.Reset()
	h.Write(data)
	return h.Sum(make([]byte, 0, sha256.Size))
}

// nameMAC is [Vault.nameMAC].
func (m *writeMACs) nameMAC(name string) []byte { return sum(m.lookup, crypto.AD("name", name)) }

// rowMAC is [Vault.rowMAC].
func (m *writeMACs) rowMAC(s *rowState) []byte { return sum(m.row, m.v.rowMACInput(s)) }

// rowElement is [Vault.rowElement].
func (m *writeMACs) rowElement(rowMAC []byte) []byte { return sum(m.rowSet, rowMAC) }
