package session

import (
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
)

// KDFFlags are --kdf-memory (MiB) and --kdf-passes, 0 when not given.
type KDFFlags struct {
	MemoryMiB int
	Passes    int
}

// Set reports whether either flag was given.
func (f *KDFFlags) Set() bool { return f.MemoryMiB != 0 || f.Passes != 0 }

// Params turns the flags into parameters, starting from base; a value out
// of range is a usage error.
func (f *KDFFlags) Params(base crypto.KDFParams) (crypto.KDFParams, error) {
	p := base
	if f.MemoryMiB != 0 {
		if f.MemoryMiB < 0 || f.MemoryMiB > 1024 {
			return p, usage.Errorf("--kdf-memory must be between 19 and 1024 MiB")
		}
		p.MemoryKiB = uint32(f.MemoryMiB) * 1024
	}
	if f.Passes != 0 {
		if f.Passes < 0 || f.Passes > 64 {
			return p, usage.Errorf("--kdf-passes must be between 2 and 64")
		}
		p.Passes = uint32(f.Passes)
	}
	return p, p.Validate()
}

// Chosen is the key derivation cost the flags give, or zero (for
// vault.Create to calibrate) when they give none.
func (f *KDFFlags) Chosen() (crypto.KDFParams, error) {
	if !f.Set() {
		return crypto.KDFParams{}, nil
	}
	return f.Params(crypto.DefaultKDF)
}
