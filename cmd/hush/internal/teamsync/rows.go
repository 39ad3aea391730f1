package teamsync

import (
	"slices"
	"strings"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/sync/client"
)

// MemberRow is one device of a member, as `team members --json` shows it.
type MemberRow struct {
	Device     string `json:"device"`
	ID         string `json:"id"`
	Joined     string `json:"joined"`
	LastSeen   string `json:"last_seen"`
	Member     string `json:"member"`
	Role       string `json:"role"`
	State      string `json:"state"` // MemberState
	ThisDevice bool   `json:"this_device"`
	// A machine's access ends at Expires.
	Machine bool   `json:"machine,omitempty"`
	Expires string `json:"expires,omitempty"`
	// Scopes the member holds and their role on each, root ("/") first;
	// only in a team with folder scopes.
	Scopes []client.ScopeRole `json:"scopes,omitempty"`
}

// ScopesCell is a member's scopes for the SCOPES column of `team members`
// ("/:reader app/staging:writer"), and whether the team has scopes at all.
func ScopesCell(m client.Member) (string, bool) {
	if m.Scopes == nil {
		return "", false
	}
	if len(m.Scopes) == 0 {
		return "-", true
	}
	parts := make([]string, len(m.Scopes))
	for i, s := range m.Scopes {
		parts[i] = s.Folder + ":" + s.Role
	}
	return strings.Join(parts, " "), true
}

// RoleCell is a member's role for the ROLE column of `team members`: the
// team role, or, for a member who does not hold the root (a contractor
// invited with --scope, a machine made with one), what they hold instead
// ("writer on app/staging"): the team role says nothing of what they see.
func RoleCell(m client.Member) string {
	if m.Scopes == nil || !m.Active || m.Pending || slices.ContainsFunc(m.Scopes, func(s client.ScopeRole) bool { return s.Folder == "/" }) {
		return m.Role
	}
	if len(m.Scopes) == 0 {
		return "no scope"
	}
	parts := make([]string, len(m.Scopes))
	for i, s := range m.Scopes {
		parts[i] = s.Role + " on " + s.Folder
	}
	return strings.Join(parts, ", ")
}

// MemberRows are ms as rows; thisDevice is this device's id.
func MemberRows(ms []client.Member, thisDevice string) []MemberRow {
	out := make([]MemberRow, 0, len(ms))
	for _, m := range ms {
		out = append(out, MemberRow{Member: m.Member, Device: m.Name, ID: m.ID, Role: m.Role, State: MemberState(m),
			Joined: jsonout.Time(m.Joined), LastSeen: jsonout.Time(m.LastSeen), ThisDevice: m.ID == thisDevice,
			Machine: m.Machine, Expires: jsonout.Time(m.Expires), Scopes: m.Scopes})
	}
	return out
}

// AuditRow is one event of the server's audit log, as `team audit --json`
// shows it.
type AuditRow struct {
	Action  string   `json:"action"`
	Device  string   `json:"device"`
	Member  string   `json:"member"`
	Result  string   `json:"result"`
	Secrets []string `json:"secrets"` // never null
	Time    string   `json:"time"`
}

// AuditRows are evs as rows.
func AuditRows(evs []client.AuditEvent) []AuditRow {
	out := make([]AuditRow, 0, len(evs))
	for _, e := range evs {
		out = append(out, AuditRow{Time: jsonout.Time(e.Time), Member: e.Member, Device: e.DeviceName, Action: e.Action, Secrets: jsonout.List(e.Names), Result: e.Result})
	}
	return out
}
