package vault

import (
	"fmt"
	"strings"
)

// DamagedSecretsError lists secrets whose rows no longer fit together (the
// current version a secret points to is gone: an edited head, a flipped
// byte in an id), found while reading a folder. A folder read never leaves
// such a secret out quietly: it fails with this error, which unwraps to
// [ErrTampered]. [Vault.List] also returns the secrets it could read.
type DamagedSecretsError struct {
	Secrets []DamagedSecret
}

// DamagedSecret is one damaged secret: its name as its newest remaining version
// has it (or its id when no version opens), and what is wrong.
type DamagedSecret struct {
	Name string
	Why  string
	// Named is false when no remaining version gives the name: Name is
	// then "the secret with id …", which no command takes.
	Named bool
}

func (e *DamagedSecretsError) Error() string {
	parts := make([]string, len(e.Secrets))
	for i, d := range e.Secrets {
		parts[i] = d.Name + " is damaged (" + d.Why + ")"
	}
	return ErrTampered.Error() + ": " + strings.Join(parts, "; ")
}

func (e *DamagedSecretsError) Unwrap() error { return ErrTampered }

// damagedRow is a secret row seen without its current version.
type damagedRow struct {
	id   []byte
	head int
}

// damaged names the rows in a [*DamagedSecretsError]. folder, unless nil, keeps
// only those whose remaining name is in it (and those without a name:
// where they belong is unknown, so they belong everywhere). It runs after
// the listing query is closed (the vault has one connection).
func (v *Vault) damaged(rows []damagedRow, in func(name string) bool) error {
	var e DamagedSecretsError
	for _, r := range rows {
		d := DamagedSecret{Name: "the secret with id " + idString(r.id), Why: fmt.Sprintf("its current version %d is missing", r.head)}
		var n, epoch int
		var ct []byte
		err := v.db.QueryRow(`SELECT version, epoch, name FROM versions WHERE secret_id = ? ORDER BY version DESC LIMIT 1`, r.id).Scan(&n, &epoch, &ct)
		if err == nil {
			if name, err := v.openName(r.id, n, epoch, ct); err == nil {
				if in != nil && !in(name) {
					continue
				}
				d.Name, d.Named = name, true
			}
		}
		e.Secrets = append(e.Secrets, d)
	}
	if len(e.Secrets) == 0 {
		return nil
	}
	return &e
}
