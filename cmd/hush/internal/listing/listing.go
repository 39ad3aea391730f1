// Package listing is what hush shows about secrets without their values
// and, for `get --json`, with one: the listing of a folder (`hush ls`),
// with each secret's flags (the attention marks of vault.Attention, a
// sync conflict), the secrets a sync removed here while a teammate changed
// them, and the damaged ones; and the typed JSON rows of a listed entry
// and of a secret; the history, due and audit rows; and the text tables
// of all of them (table.go), so that the words in a cell are decided next
// to the rows. The commands print what it gives, as a table or JSON.
package listing

import (
	"errors"
	"slices"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/vault"
)

// Listing is a folder's secrets as `hush ls` shows them.
type Listing struct {
	Entries []vault.Entry // revoked ones only when asked for
	// Removed are the names removed here while a teammate changed them
	// (a sync conflict), listed so the conflict is not out of sight.
	Removed []string
	// Damaged are the secrets that do not open; Err is then the
	// *vault.DamagedSecretsError the listing ends with.
	Damaged []vault.DamagedSecret
	Err     error

	// Held says whether this device holds the team folder scope a name
	// belongs to (nil: it holds everything, as a vault of one's own): a
	// name outside is marked vault.MarkOutOfScope.
	Held func(name string) bool

	conflicts map[string]string // secret id -> name
}

// Read lists folder ("" for all), with revoked secrets when all.
func Read(v *vault.Vault, folder string, all bool) (*Listing, error) {
	listed, err := v.ListWithPolicies(folder)
	l := &Listing{}
	var damaged *vault.DamagedSecretsError
	if err != nil {
		if !errors.As(err, &damaged) {
			return nil, err
		}
		l.Damaged, l.Err = damaged.Secrets, err
	}
	if l.conflicts, err = v.Conflicts(); err != nil {
		return nil, err
	}
	// Filtered in place: an Entry is large, and copying 100,000 of them
	// into a growing slice cost more than printing them.
	l.Entries = listed[:0]
	for _, e := range listed {
		if all || e.Revoked == nil {
			l.Entries = append(l.Entries, e)
		}
	}
	l.Removed = vault.RemovedInConflict(l.Entries, l.conflicts, folder)
	return l, nil
}

// Empty reports whether there is nothing at all to show.
func (l *Listing) Empty() bool {
	return len(l.Entries) == 0 && len(l.Damaged) == 0 && len(l.Removed) == 0
}

// Rotates reports whether any listed secret rotates: only then does a
// listing show where each one's rotation comes from.
func (l *Listing) Rotates() bool {
	return slices.ContainsFunc(l.Entries, func(e vault.Entry) bool { return e.RotateEvery > 0 })
}

// Flags are what needs attention about e: its marks, and "conflict" when
// a sync left it in conflict.
func (l *Listing) Flags(e vault.Entry, now time.Time) []string {
	var f []string
	for _, mark := range vault.AttentionIn(e.Meta, e.Updated, now, l.Held == nil || l.Held(e.Name)) {
		f = append(f, string(mark))
	}
	if _, ok := l.conflicts[e.ID]; ok {
		f = append(f, "conflict")
	}
	return f
}

// Marks are vault.Attention's marks as words.
func Marks(m vault.Meta, updated, now time.Time) []string {
	var f []string
	for _, mark := range vault.Attention(m, updated, now) {
		f = append(f, string(mark))
	}
	return f
}

// RotationWords are a rotation interval and where it comes from: "every
// 30d", "every 90d (from app/prod)", or "-".
func RotationWords(every time.Duration, from string) string {
	switch {
	case every <= 0:
		return "-"
	case from != "":
		return "every " + vault.FormatInterval(every) + " (from " + from + ")"
	}
	return "every " + vault.FormatInterval(every)
}

// EntryRow is a listed secret as `ls --json` shows it.
type EntryRow struct {
	Created         string     `json:"created"`
	Flags           []string   `json:"flags"`
	Name            string     `json:"name"`
	RotateEvery     string     `json:"rotate_every,omitempty"`
	RotateEveryFrom string     `json:"rotate_every_from,omitempty"`
	Summary         string     `json:"summary,omitempty"`
	Tags            []string   `json:"tags"`
	Type            vault.Type `json:"type"`
	Updated         string     `json:"updated"`
	Version         int        `json:"version"`
}

// DamagedRow is a secret that does not open, as `ls --json` shows it.
type DamagedRow struct {
	Damaged string   `json:"damaged"` // why
	Flags   []string `json:"flags"`   // ["damaged"]
	Name    string   `json:"name"`
}

// Rows are the listing as `ls --json` shows it: an EntryRow for each
// entry, then a DamagedRow for each damaged secret.
func (l *Listing) Rows(now time.Time) []any {
	out := make([]any, 0, len(l.Entries)+len(l.Damaged))
	for _, e := range l.Entries {
		r := EntryRow{Name: e.Name, Type: e.Type, Version: e.Version, Created: jsonout.Time(e.Created), Updated: jsonout.Time(e.Updated),
			Tags: jsonout.List(e.Tags), Flags: jsonout.List(l.Flags(e, now)), Summary: e.Summary, RotateEveryFrom: e.RotateFrom}
		if e.RotateEvery > 0 {
			r.RotateEvery = vault.FormatInterval(e.RotateEvery)
		}
		out = append(out, r)
	}
	for _, d := range l.Damaged {
		out = append(out, DamagedRow{Name: d.Name, Flags: []string{"damaged"}, Damaged: d.Why})
	}
	return out
}
