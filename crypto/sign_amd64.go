//go:build amd64 && !purego

package crypto

import "golang.org/x/sys/cpu"

// voiSigns says whether [SignEd25519Many] signs with curve25519-voi: only
// with its AVX2 backend is it faster than crypto/ed25519 (about half the
// time); its portable code takes about 1.5 times crypto/ed25519's.
var voiSigns = cpu.X86.HasAVX2
