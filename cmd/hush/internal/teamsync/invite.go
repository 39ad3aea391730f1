package teamsync

import (
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// MaxInviteLife is how long a person's invitation code may stay valid.
const MaxInviteLife = 31 * 24 * time.Hour

// InviteLife is how long a person's invitation code is valid, from
// expires (like 1h or 7d, at most MaxInviteLife); anything else is a usage
// error.
func InviteLife(expires string) (time.Duration, error) {
	ttl, err := vault.ParseInterval(expires)
	if err != nil || ttl <= 0 || ttl > MaxInviteLife {
		return 0, usage.Errorf("--expires takes a duration up to 31d, like 1h or 7d")
	}
	return ttl, nil
}

// MachineTerms are what a new machine may be: a reader (when no role is
// given) or a writer, never an admin, for MachineLife or expires (at most
// wire.MaxMachineLife when given), and a member of its own (no member).
// What breaks them is a usage error.
func MachineTerms(member, role string, roleGiven bool, expires string, expiresGiven bool) (string, time.Duration, error) {
	if member != "" {
		return "", 0, usage.Errorf("--machine and --member do not go together: a machine is a member of its own")
	}
	if !roleGiven {
		role = wire.RoleReader
	}
	if role != wire.RoleReader && role != wire.RoleWriter {
		return "", 0, usage.Errorf("a machine is a reader or a writer (--role), never an admin")
	}
	life := MachineLife
	if expiresGiven {
		d, err := vault.ParseInterval(expires)
		if err != nil || d <= 0 || d > wire.MaxMachineLife {
			return "", 0, usage.Errorf("--expires takes a duration up to 366d for a machine, like 30d or 90d")
		}
		life = d
	}
	return role, life, nil
}
