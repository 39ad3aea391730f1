package listing

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/vault"
)

// History is a secret's versions as `history --json` shows them.
type History struct {
	Name     string       `json:"name"`
	Removed  bool         `json:"removed"`
	Versions []VersionRow `json:"versions"`
}

// VersionRow is one version in a History (never its value).
type VersionRow struct {
	Created string     `json:"created"`
	Current bool       `json:"current"`
	Name    string     `json:"name"` // the secret's name at that version
	Note    string     `json:"note"`
	Size    int        `json:"size"`
	Type    vault.Type `json:"type"`
	Version int        `json:"version"`
	Damaged string     `json:"damaged,omitempty"` // DamagedValue, when it does not authenticate
}

// HistoryRows are name's versions, and whether the secret is removed.
func HistoryRows(name string, hist []vault.VersionInfo, cur *vault.Secret) History {
	out := History{Name: name, Removed: !cur.Deleted.IsZero(), Versions: make([]VersionRow, 0, len(hist))}
	for _, h := range hist {
		out.Versions = append(out.Versions, VersionRow{Version: h.Version, Name: h.Name, Type: h.Type, Note: h.Note,
			Size: h.Size, Created: jsonout.Time(h.Created), Current: h.Current})
	}
	return out
}

// DueRow is one thing that needs attention, as `due --json` shows it.
type DueRow struct {
	Name    string `json:"name"`
	What    string `json:"what"`             // rotation, expiry, certificate
	Reason  string `json:"reason,omitempty"` // why, when it is not the schedule
	When    string `json:"when"`
	Overdue bool   `json:"overdue"`
}

// Due is what `hush due` lists in folder, soonest first: rotations,
// expiry dates and certificate ends that are overdue or fall within
// within (certWithin for certificates), and for the whole vault the
// team's machines whose access ends.
func Due(v *vault.Vault, folder string, now time.Time, within, certWithin time.Duration) ([]vault.DueItem, error) {
	entries, err := v.ListWithPolicies(folder)
	if err != nil {
		return nil, err
	}
	items := vault.Due(entries, now, within, certWithin)
	if folder == "" {
		items = append(items, machine.Due(v, now)...)
		slices.SortStableFunc(items, func(x, y vault.DueItem) int { return x.When.Compare(y.When) })
	}
	return items, nil
}

// DueRows are items as rows, and how many of them are overdue.
func DueRows(items []vault.DueItem) (rows []DueRow, overdue int) {
	rows = []DueRow{}
	for _, it := range items {
		if it.Overdue {
			overdue++
		}
		rows = append(rows, DueRow{it.Name, it.What, it.Reason, jsonout.Time(it.When), it.Overdue})
	}
	return rows, overdue
}

// DueError is `due`'s failure when overdue of items are: what to do, for
// secrets (rotate them) or, when only machines are overdue, for machines
// whose access has ended.
func DueError(items []vault.DueItem, overdue int) error {
	if overdue == 0 {
		return nil
	}
	ended := 0
	for _, it := range items {
		if it.Overdue && strings.HasPrefix(it.Name, "machine ") {
			ended++
		}
	}
	if ended == overdue {
		return fmt.Errorf("%d machine(s) whose access has ended: `hush team remove NAME`, and `hush team invite --machine` for a new token", ended)
	}
	return fmt.Errorf("%d overdue: rotate with `hush rotate NAME`, or `hush rotate --due` for those with a rotator", overdue)
}

// PolicyRow is a folder's policy as `policy --json` shows it.
type PolicyRow struct {
	Folder      string `json:"folder"`
	RotateEvery string `json:"rotate_every"`
}

// PolicyRows are the folder policies as rows.
func PolicyRows(ps []vault.Policy) []PolicyRow {
	out := make([]PolicyRow, 0, len(ps))
	for _, p := range ps {
		out = append(out, PolicyRow{p.Folder, vault.FormatInterval(p.RotateEvery)})
	}
	return out
}
