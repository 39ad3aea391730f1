package crypto

import (
	"crypto/ed25519"
	"sync"

	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// VerifyEd25519 reports whether sig is pub's Ed25519 signature of msg,
// deciding exactly as crypto/ed25519.Verify does (a wrong-sized key is
// false here, a panic there): the same rules for every odd input — S
// must be below the group order, R is compared byte for byte with the
// canonical encoding of [S]B - [k]A (cofactorless), A may be of small
// order or encoded non-canonically, and k hashes A's bytes as given.
// TestVerifyEd25519IsStdlibs checks that on the edge-case vectors of
// C2SP's CCTV, ZIP 215 and "Taming the many EdDSAs", and
// FuzzVerifyEd25519IsStdlibs on whatever the fuzzer makes.
//
// Why not crypto/ed25519: a team server checks two or three signatures
// per push (the request's, each record's, each chain entry's) and clients
// check every entry they pull; that was the largest part of a push's
// CPU (docs/benchmarks.md). curve25519-voi computes the same equation
// about twice as fast on amd64 (AVX2 point arithmetic, and each key's
// table of multiples built once and kept: [ed25519Keys]). Signing many
// messages with one key goes through it too ([SignEd25519Many]).
func VerifyEd25519(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	k := keys.get(pub)
	if k == nil {
		// Not a point at all: crypto/ed25519 refuses every signature.
		return false
	}
	return voi.VerifyExpandedWithOptions(k, msg, sig, stdlibRules)
}

// stdlibRules are crypto/ed25519's verification rules (voi's
// VerifyOptionsStdLib: cofactorless, small-order A and R allowed, a
// non-canonical A allowed, a non-canonical R refused).
var stdlibRules = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// ed25519Keys keeps the expanded form of the public keys verified lately
// (about 1.5 KiB each): a team's devices sign everything it checks, so
// the few keys in use are expanded once. A key's expanded form depends
// on its 32 bytes alone, so what the cache holds can change how fast a
// check is, never what it decides. Bounded: past maxKeys, an arbitrary
// key goes for each new one (a stranger's self-signed request can make a
// server expand a key, and must not make it hold them all).
type ed25519Keys struct {
	mu sync.RWMutex
	m  map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey
}

const maxKeys = 4096

var keys = &ed25519Keys{m: map[[ed25519.PublicKeySize]byte]*voi.ExpandedPublicKey{}}

// get returns pub expanded, or nil if its bytes are not a curve point.
func (c *ed25519Keys) get(pub ed25519.PublicKey) *voi.ExpandedPublicKey {
	id := [ed25519.PublicKeySize]byte(pub)
	c.mu.RLock()
	k, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return k
	}
	k, err := voi.NewExpandedPublicKey(voi.PublicKey(pub))
	if err != nil {
		k = nil
	}
	c.mu.Lock()
	if len(c.m) >= maxKeys {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[id] = k
	c.mu.Unlock()
	return k
}
