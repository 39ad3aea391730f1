package client

import (
	"context"

	"github.com/hush-secrets/hush/vault"
)

// CreateV1 is Create for a team whose changes are not a chain, as a hush
// before the change chain made it (benchmarks compare the two).
func CreateV1(ctx context.Context, v *vault.Vault, o CreateOptions) (*State, error) {
	o.legacy = true
	return Create(ctx, v, o)
}

// SetV1 makes this Team sync with v1 only.
func (t *Team) SetV1(on bool) { t.legacy = on }
