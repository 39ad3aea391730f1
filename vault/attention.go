package vault

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// When a secret needs attention. Every front end (ls and get's flags, the
// terminal UI's marks, `hush due`) asks [Attention] or [Due] rather than
// comparing dates itself.
const (
	// ExpiryWarning is how long before its expiry date a secret is marked.
	ExpiryWarning = 14 * 24 * time.Hour
	// CertificateWarning is how long before a certificate's end it is marked.
	CertificateWarning = 30 * 24 * time.Hour
)

// Mark is one reason a secret needs attention. Its text is the flag the
// command line prints; other front ends may show shorter words.
type Mark string

// The marks, in the order [Attention] gives them.
const (
	MarkExpired          Mark = "expired"
	MarkExpiresSoon      Mark = "expires-soon"
	MarkRotationDue      Mark = "rotation-due"
	MarkCertificateEnded Mark = "certificate-ended"
	MarkCertificateEnds  Mark = "certificate-ends-soon"
	MarkRevoked          Mark = "revoked"
	// MarkOutOfScope: a team's copy of a secret in a folder scope this
	// device does not hold (an admin ungranted it, or it never held it):
	// it gets no newer version, and a change to it stays on this device.
	MarkOutOfScope Mark = "out-of-scope"
)

// Attention lists what needs attention about a secret last changed at
// updated, as of now: its expiry (passed, or within [ExpiryWarning]), its
// rotation (see [Meta.RotationDue]), its certificate's end (passed, or
// within [CertificateWarning]) and a revocation.
func Attention(m Meta, updated, now time.Time) []Mark {
	return AttentionIn(m, updated, now, true)
}

// AttentionIn is [Attention] for a secret of a team vault: held is
// whether this device holds the folder scope the secret belongs to
// ([MarkOutOfScope] when it does not). Only a front end that knows the
// team's scopes asks it; a vault of one's own holds everything.
func AttentionIn(m Meta, updated, now time.Time, held bool) []Mark {
	var out []Mark
	switch {
	case m.Expired(now):
		out = append(out, MarkExpired)
	case !m.Expires.IsZero() && m.Expires.Sub(now) < ExpiryWarning:
		out = append(out, MarkExpiresSoon)
	}
	if m.RotationDue(updated, now) {
		out = append(out, MarkRotationDue)
	}
	switch {
	case m.NotAfter.IsZero():
	case !m.NotAfter.After(now):
		out = append(out, MarkCertificateEnded)
	case m.NotAfter.Sub(now) < CertificateWarning:
		out = append(out, MarkCertificateEnds)
	}
	if m.Revoked != nil {
		out = append(out, MarkRevoked)
	}
	if !held {
		out = append(out, MarkOutOfScope)
	}
	return out
}

// DueItem is one date that needs attention: a rotation, an expiry or a
// certificate's end.
type DueItem struct {
	Name    string
	What    string // "rotation", "expiry" or "certificate end"
	Reason  string // why, when it is not the schedule (a member left)
	When    time.Time
	Overdue bool
}

// Due lists what is overdue, or falls due within the window (within; for
// a certificate's end, the longer of within and certWithin), soonest
// first. Revoked secrets are left out: they are retired, not due.
func Due(entries []Entry, now time.Time, within, certWithin time.Duration) []DueItem {
	var out []DueItem
	add := func(name, what string, t time.Time, window time.Duration) {
		if t.IsZero() || t.After(now.Add(window)) {
			return
		}
		out = append(out, DueItem{Name: name, What: what, When: t, Overdue: !t.After(now)})
	}
	for _, e := range entries {
		if e.Revoked != nil {
			continue
		}
		if e.Exposed != nil {
			// Someone who could read it left the team: due since then.
			out = append(out, DueItem{Name: e.Name, What: "rotation", Reason: e.Exposed.Reason, When: e.Exposed.At, Overdue: true})
		} else if e.RotateEvery > 0 {
			add(e.Name, "rotation", e.RotationStart(e.Updated).Add(e.RotateEvery), within)
		}
		add(e.Name, "expiry", e.Expires, within)
		add(e.Name, "certificate end", e.NotAfter, max(within, certWithin))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].When.Before(out[j].When) })
	return out
}

// ListWithPolicies is [Vault.List] with each secret's rotation interval
// inherited from its folder's policy when it has none of its own (and
// [Entry.RotateFrom] saying which folder): what [Attention] and [Due] need
// to see.
func (v *Vault) ListWithPolicies(folder string) ([]Entry, error) {
	entries, listErr := v.List(folder)
	var damaged *DamagedSecretsError
	if listErr != nil && !errors.As(listErr, &damaged) {
		return nil, listErr
	}
	ps, err := v.Policies()
	if err != nil {
		return nil, err
	}
	for i := range entries {
		entries[i].RotateFrom = Inherit(&entries[i].Meta, entries[i].Name, ps)
	}
	return entries, listErr // with a *DamagedSecretsError, the entries that could be read
}

// Ago is how long ago t was, as of now, in one short unit: "now", "5m",
// "3h", "12d", "4mo", "2y". Front ends add their own words around it.
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < 60*24*time.Hour:
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	case d < 2*365*24*time.Hour:
		return fmt.Sprintf("%dmo", int(d.Hours()/24/30))
	}
	return fmt.Sprintf("%dy", int(d.Hours()/24/365))
}

// RemovedInConflict lists, sorted, the secrets in conflict (as
// [Vault.Conflicts] gives them: id to name) in folder ("" for all) that
// are not among listed: removed here while a teammate changed them. A
// listing shows them so that the conflict is not out of sight.
func RemovedInConflict(listed []Entry, conflicts map[string]string, folder string) []string {
	if len(conflicts) == 0 {
		return nil // the common case: no map of every listed id
	}
	shown := make(map[string]bool, len(conflicts))
	for _, e := range listed {
		if _, ok := conflicts[e.ID]; ok {
			shown[e.ID] = true
		}
	}
	var out []string
	for id, name := range conflicts {
		if !shown[id] && (folder == "" || strings.HasPrefix(name, folder+"/")) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
