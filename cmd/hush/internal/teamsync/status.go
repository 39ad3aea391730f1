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
	// Scopes are the folder scopes this device holds, with its role on
	// each, when it does not hold the team's root: it sees only a part of
	// the team.
	Scopes []client.ScopeRole `json:"scopes,omitempty"`
	// Kept counts the local changes not yet pushed that no sync will send:
	// outside the folder scopes this device may write.
	Kept int `json:"kept_here,omitempty"`
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
	out := &Status{Status: s, LastSync: jsonout.Time(s.LastSync)}
	if st, err := client.Load(v); err == nil {
		rs, err := st.HeldRoles()
		if err != nil {
			return nil, err
		}
		if len(rs) > 0 && rs[0].Folder != "/" {
			out.Scopes = rs
		}
		if out.Kept, err = st.KeptHere(v); err != nil {
			return nil, err
		}
	}
	return out, nil
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
		out = append(out, Line{"sync", fmt.Sprintf("last %s; %s", human.Ago(s.Status.LastSync.Truncate(time.Second), now), syncWords(s.Status, s.Kept))})
	}
	if len(s.Scopes) > 0 {
		var held []string
		for _, r := range s.Scopes {
			held = append(held, r.Folder+" ("+r.Role+")")
		}
		out = append(out, Line{"scopes", strings.Join(held, ", ") + " only: this device does not hold the team's root, so it sees only these folders (`hush team scopes`)"})
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
