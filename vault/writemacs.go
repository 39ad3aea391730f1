package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"hash"
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
	// in is the input being MACed, reused; out is where the MACs handed
	// out are cut from, up to a few hundred at a time (next: how many
	// the next allocation holds, doubling from a few, so that a write of
	// one secret allocates little): a few allocations a batch instead of
	// two per MAC (an import makes three per secret).
	in, out []byte
	next    int
}

func (v *Vault) newWriteMACs() *writeMACs {
	return &writeMACs{v: v,
		lookup: hmac.New(sha256.New, v.keys.lookup[:]),
		row:    hmac.New(sha256.New, v.keys.row[:]),
		rowSet: hmac.New(sha256.New, v.keys.rowSet[:]),
	}
}

// macsPerAlloc is how many MACs one allocation of writeMACs.out holds.
const macsPerAlloc = 256

func (m *writeMACs) sum(h hash.Hash, data []byte) []byte {
	h.Reset()
	h.Write(data)
	if len(m.out) < sha256.Size {
		m.next = min(max(2*m.next, 8), macsPerAlloc)
		m.out = make([]byte, m.next*sha256.Size)
	}
	mac := h.Sum(m.out[:0:sha256.Size])
	m.out = m.out[sha256.Size:]
	return mac
}

// nameMAC is [Vault.nameMAC]: crypto.AD("name", name), built in the
// reused buffer.
func (m *writeMACs) nameMAC(name string) []byte { return m.lookupMAC("name", name) }

// folderMAC is [Vault.folderMAC].
func (m *writeMACs) folderMAC(folder string) []byte { return m.lookupMAC("folder", folder) }

// lookupMAC is the lookup key's MAC of crypto.AD(label, s), built in the
// reused buffer.
func (m *writeMACs) lookupMAC(label, s string) []byte {
	b := binary.BigEndian.AppendUint32(m.in[:0], uint32(len(label)))
	b = append(b, label...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	m.in = append(b, s...)
	return m.sum(m.lookup, m.in)
}

// writeNameMAC and writeFolderMAC are [Vault.nameMAC] and
// [Vault.folderMAC], computed with the batch's reused HMAC while a batch
// write runs. Only the write's own goroutine calls them (writeMACs is not
// safe for concurrent use; the parallel readers call nameMAC).
func (v *Vault) writeNameMAC(name string) []byte {
	if v.wmacs != nil {
		return v.wmacs.nameMAC(name)
	}
	return v.nameMAC(name)
}

func (v *Vault) writeFolderMAC(folder string) []byte {
	if v.wmacs != nil {
		return v.wmacs.folderMAC(folder)
	}
	return v.folderMAC(folder)
}

// rowMAC is [Vault.rowMAC].
func (m *writeMACs) rowMAC(s *rowState) []byte {
	m.in = m.v.appendRowMACInput(m.in[:0], s)
	return m.sum(m.row, m.in)
}

// rowElement is [Vault.rowElement].
func (m *writeMACs) rowElement(rowMAC []byte) []byte { return m.sum(m.rowSet, rowMAC) }
