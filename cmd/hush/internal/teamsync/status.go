package teamsync

import (
	"encoding/json"
	"errors"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// Status is the team part of a vault's status. Reading it needs the vault
// key: a locked vault's Status has a nil client.Status.
type Status struct {
	*client.Status        // nil: locked
	LastSync       string `json:"last_sync,omitempty"` // RFC 3339, UTC
}

// MarshalJSON writes a locked vault's team status as {"team": "(locked)"}.
func (s *Status) MarshalJSON() ([]byte, error) {
	if s.Status == nil {
		return json.Marshal(map[string]string{"team": "(locked)"})
	}
	type plain Status // without this method
	return json.Marshal((*plain)(s))
}

// ReadStatus reads v's team status: nil for a vault of one's own.
func ReadStatus(v *vault.Vault) (*Status, error) {
	if !client.InTeam(v) {
		return nil, nil
	}
	if v.Locked() {
		return &Status{}, nil
	}
	s, err := client.ReadStatus(v)
	if errors.Is(err, client.ErrNoTeam) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &Status{Status: s, LastSync: jsonout.Time(s.LastSync)}, nil
}
