package crypto

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/crypto/argon2"
)

// KDFName is the only key derivation function hush knows. A vault header
// naming another is refused rather than guessed at.
const KDFName = "argon2id"

// KDFParams are Argon2id's cost parameters. They are stored in the vault
// header next to the salt.
type KDFParams struct {
	MemoryKiB uint32 // memory in KiB
	Passes    uint32 // time cost
	Lanes     uint8  // parallelism
}

var (
	// DefaultKDF is RFC 9106's second recommended option (64 MiB, 3 passes,
	// 4 lanes); [Calibrate] may raise it on a fast machine.
	DefaultKDF = KDFParams{MemoryKiB: 64 * 1024, Passes: 3, Lanes: 4}

	// FloorKDF is OWASP's minimum for Argon2id (19 MiB, 2 passes). A header
	// below it is refused: an attacker who can edit the file could otherwise
	// lower the cost of guessing the passphrase the next time it is changed.
	FloorKDF = KDFParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

	// ceilingKDF bounds what a header may ask for, so that a hostile file
	// cannot make hush allocate unbounded memory or spin for minutes: at
	// most 1 GiB, 64 passes, 16 lanes, and at most ceilingWork (memory
	// times passes: 4 GiB once, 64 MiB 64 times, or 1 GiB 4 times), about
	// 20 times the default's cost.
	ceilingKDF = KDFParams{MemoryKiB: 1024 * 1024, Passes: 64, Lanes: 16}
)

// ceilingWork bounds MemoryKiB × Passes (in KiB passes).
const ceilingWork = 4 * 1024 * 1024

// ErrWeakKDF is returned for parameters below [FloorKDF].
var ErrWeakKDF = errors.New("key derivation parameters below the floor")

// Validate refuses parameters below the floor or above a sane ceiling.
func (p KDFParams) Validate() error {
	if p.MemoryKiB < FloorKDF.MemoryKiB || p.Passes < FloorKDF.Passes || p.Lanes < 1 {
		return fmt.Errorf("%w: %s is below %s", ErrWeakKDF, p, FloorKDF)
	}
	if p.MemoryKiB > ceilingKDF.MemoryKiB || p.Passes > ceilingKDF.Passes || p.Lanes > ceilingKDF.Lanes ||
		uint64(p.MemoryKiB)*uint64(p.Passes) > ceilingWork {
		return fmt.Errorf("key derivation parameters %s exceed the maximum (at most 1024 MiB, 64 passes, 16 lanes, and memory × passes at most 4096 MiB)", p)
	}
	// Argon2 needs at least 8 KiB per lane.
	if p.MemoryKiB < 8*uint32(p.Lanes) {
		return fmt.Errorf("key derivation parameters %s: memory too small for %d lanes", p, p.Lanes)
	}
	return nil
}

func (p KDFParams) String() string {
	return fmt.Sprintf("argon2id(m=%d MiB, t=%d, p=%d)", p.MemoryKiB/1024, p.Passes, p.Lanes)
}

// SaltSize is the size of the random Argon2 salt.
const SaltSize = 32

// DeriveKey runs Argon2id over the passphrase. It validates p first, so a
// weakened header never gets as far as a derivation.
func DeriveKey(passphrase, salt []byte, p KDFParams) (*Key, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if len(salt) < 16 {
		return nil, fmt.Errorf("salt must be at least 16 bytes")
	}
	out := argon2.IDKey(passphrase, salt, p.Passes, p.MemoryKiB, p.Lanes, KeySize)
	k, err := KeyFromBytes(out)
	Wipe(out)
	return k, err
}

// Calibrate starts from base and doubles the number of passes while one
// derivation takes less than target, so a fast machine pays roughly target
// per unlock. Memory is not raised: 64 MiB is already more than most
// attackers' GPU memory per guess, and more would hurt small machines that
// share the vault. It never returns less than base.
func Calibrate(base KDFParams, target time.Duration) KDFParams {
	p := base
	salt := make([]byte, SaltSize)
	for i := 0; i < 4; i++ {
		start := time.Now()
		argon2.IDKey([]byte("calibration"), salt, p.Passes, p.MemoryKiB, p.Lanes, KeySize)
		took := time.Since(start)
		if took*2 > target || (KDFParams{MemoryKiB: p.MemoryKiB, Passes: p.Passes * 2, Lanes: p.Lanes}).Validate() != nil {
			break
		}
		p.Passes *= 2
	}
	return p
}
