package teamsync

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
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

// Line is one line of a status for a person: a label ("team", "sync")
// and its text.
type Line struct{ Label, Text string }

// Lines are the team part of a status for a person; none for a vault of
// one's own (a nil Status).
func (s *Status) Lines(now time.Time) []Line {
	if s == nil {
		return nil
	}
	if s.Status == nil {
		return []Line{{"team", "shared (unlock to see its sync state)"}}
	}
	name, role := s.Team, s.Role
	if name == "" {
		name = "a team"
	}
	if role == "" {
		role = "not yet approved"
	}
	out := []Line{{"team", fmt.Sprintf("%s on %s, as %s (%s)", name, s.Server, s.Device, role)}}
	switch {
	case s.Removed:
		out = append(out, Line{"sync", RemovedWords})
	case s.NoScopes:
		out = append(out, Line{"sync", "this device holds no scope of the team any more (an admin ungranted them): it keeps the copies it had and gets nothing new; `hush team scopes` shows who holds what"})
	case !s.Approved:
		out = append(out, Line{"sync", "waiting for an admin to approve this device, then `hush sync`"})
	case s.Status.LastSync.IsZero():
		out = append(out, Line{"sync", "never synced: run `hush sync`"})
	default:
		out = append(out, Line{"sync", fmt.Sprintf("last %s; %s", human.Ago(s.Status.LastSync.Truncate(time.Second), now), SyncWords(s.Status))})
	}
	if cs := s.Conflicts; len(cs) > 0 {
		out = append(out, Line{"conflict", strings.Join(cs, ", ") + ": `hush resolve NAME --keep mine|theirs`"})
	}
	return out
}

// Warning is the freshness warning a status calls for (see
// FreshnessNote); empty when there is none, or the status is locked.
func (s *Status) Warning() string {
	if s == nil || s.Status == nil {
		return ""
	}
	return FreshnessNote(s.Fresh)
}
