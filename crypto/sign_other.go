//go:build !amd64 || purego

package crypto

// voiSigns: without curve25519-voi's AVX2 backend, crypto/ed25519 signs
// faster (see sign_amd64.go).
const voiSigns = false
