package crypto

import (
	"crypto/ed25519"
	"crypto/sha512"

	"filippo.io/edwards25519"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// SignEd25519 returns the Ed25519 signature (RFC 8032) of msg by the key
// whose seed is seed: byte for byte what crypto/ed25519.Sign gives with
// ed25519.NewKeyFromSeed(seed) (Ed25519 signatures are deterministic;
// TestSignEd25519IsStdlibs and FuzzSignEd25519IsStdlibs compare the two).
//
// Why not crypto/ed25519: its first signature in a process builds a table
// of multiples of the base point (256 field inversions, about 10 million
// instructions), which pays off only after hundreds of signatures. A hush
// command signs once or twice (a sync's request, a record), so it computes
// both base-point multiplications with the constant-time variable-base
// ScalarMult instead (about 0.4 million instructions together). The
// arithmetic is filippo.io/edwards25519, the code crypto/ed25519 itself is
// built on.
func SignEd25519(seed, msg []byte) []byte {
	if len(seed) != ed25519.SeedSize {
		panic("crypto: bad Ed25519 seed length")
	}
	h := sha512.Sum512(seed)
	defer clear(h[:])
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic("crypto: " + err.Error()) // 32 bytes never fail
	}
	B := edwards25519.NewGeneratorPoint()
	pub := new(edwards25519.Point).ScalarMult(s, B).Bytes()

	var digest [sha512.Size]byte
	d := sha512.New()
	d.Write(h[32:])
	d.Write(msg)
	r, err := edwards25519.NewScalar().SetUniformBytes(d.Sum(digest[:0]))
	if err != nil {
		panic("crypto: " + err.Error()) // 64 bytes never fail
	}
	R := new(edwards25519.Point).ScalarMult(r, B).Bytes()

	d.Reset()
	d.Write(R)
	d.Write(pub)
	d.Write(msg)
	k, err := edwards25519.NewScalar().SetUniformBytes(d.Sum(digest[:0]))
	if err != nil {
		panic("crypto: " + err.Error())
	}
	S := edwards25519.NewScalar().MultiplyAdd(k, s, r)
	clear(digest[:])
	return append(R, S.Bytes()...)
}

// Ed25519PrivateKey returns the private key of seed (seed and public key,
// as crypto/ed25519.NewKeyFromSeed gives it) without building
// crypto/ed25519's base-point table: see [SignEd25519].
func Ed25519PrivateKey(seed []byte) ed25519.PrivateKey {
	if len(seed) != ed25519.SeedSize {
		panic("crypto: bad Ed25519 seed length")
	}
	h := sha512.Sum512(seed)
	defer clear(h[:])
	s, err := edwards25519.NewScalar().SetBytesWithClamping(h[:32])
	if err != nil {
		panic("crypto: " + err.Error())
	}
	pub := new(edwards25519.Point).ScalarMult(s, edwards25519.NewGeneratorPoint()).Bytes()
	return append(append(make(ed25519.PrivateKey, 0, ed25519.PrivateKeySize), seed...), pub...)
}

// SignEd25519Many returns crypto/ed25519.Sign(priv, msg), byte for byte
// (Ed25519 signatures are deterministic; TestSignEd25519ManyIsStdlibs
// and FuzzSignEd25519ManyIsStdlibs compare the two), for a device that
// signs many messages at once: a push's records and chain entries.
//
// Why not always crypto/ed25519: on amd64 with AVX2, curve25519-voi's
// constant-time multiplication by the base point (its precomputed table,
// vectorised) takes about half the time, and the table costs about
// 0.2 ms to build on first use where crypto/ed25519's costs
// milliseconds. voi computes the same RFC 8032 signature: r from the
// key's prefix and the message, R = rB, S = r + H(R, A, msg)·a; the key's
// bytes are crypto/ed25519's (seed, then public key). Elsewhere (arm64,
// `-tags purego`) voi's portable code is slower, and crypto/ed25519 signs.
func SignEd25519Many(priv ed25519.PrivateKey, msg []byte) []byte {
	if len(priv) != ed25519.PrivateKeySize {
		panic("crypto: bad Ed25519 private key length")
	}
	if !voiSigns {
		return ed25519.Sign(priv, msg)
	}
	return voi.Sign(voi.PrivateKey(priv), msg)
}
