package teamsync

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/sync/client"
)

// RemovedWords is what a device the team server no longer knows is told,
// instead of the server's "unauthenticated (HTTP 401)".
const RemovedWords = "the team server no longer knows this device: it was removed from the team (or its join was turned away, or the server lost its data). " +
	"It can no longer sync; its secrets stay in this vault. To take part again, join with a new invitation (`hush team join CODE`)"

// Removed reports whether err is the team server refusing a device it
// does not know: removed, or the server's data was lost.
func Removed(err error) bool {
	return errors.Is(err, client.ErrRemoved) || client.UnknownDevice(err)
}

// ReportNotes are the notes a sync's report calls for: changes that stay
// here, records not applied, changes to push again, and the freshness
// warning.
func ReportNotes(rep *client.Report) []string {
	var notes []string
	if len(rep.ReadAgain) > 0 {
		notes = append(notes, fmt.Sprintf("read the team's changes again from the start for %s, held by this device since its last sync: the secrets already there are here now (in the count pulled)", strings.Join(rep.ReadAgain, ", ")))
	}
	if rep.ReadOnly > 0 {
		notes = append(notes, fmt.Sprintf("note: this device is a reader: %d local change(s) stay here and are not sent to the team", rep.ReadOnly))
	}
	if rep.MovedAway > 0 {
		notes = append(notes, fmt.Sprintf("note: %d local change(s) are to secrets the team server holds a newer version of that this device may not read (moved out of its folder scopes by a teammate?): they stay here; the rest was pushed. Ask an admin where the secret went (`hush team scopes`)", rep.MovedAway))
	}
	if rep.OutOfScope > 0 {
		notes = append(notes, fmt.Sprintf("note: %d local change(s) are outside the scopes this device may write (a folder scope it does not write, or the root for a reader): they stay here (see `hush team scopes`)", rep.OutOfScope))
	}
	if len(rep.Carved) > 0 {
		notes = append(notes, fmt.Sprintf("warning: %d record(s) were dated before their folder became a scope of its own and reached the team after (by %s): not applied, since the admin's re-seal at the carve is the version to take; if the author could not write the new scope, a server passed on what it should have refused (`hush team verify` with an admin)",
			len(rep.Carved), strings.Join(slices.Compact(slices.Sorted(slices.Values(rep.Carved))), ", ")))
	}
	if rep.Vouched > 0 {
		notes = append(notes, fmt.Sprintf("pushed %d secret(s) a writer machine wrote last again, signed by this device: the machine's access ends within a week (or has), after which teammates no longer take what it signed", rep.Vouched))
	}
	if rep.ByExpired > 0 {
		notes = append(notes, fmt.Sprintf("note: %d record(s) were last written by machine %s, whose access has ended, and were not applied (what its key signs now cannot be told from what it signed before): an admin's `hush team remove %s` seals them again, as does any writer's next change of them",
			rep.ByExpired, strings.Join(rep.ExpiredMachines, ", "), rep.ExpiredMachines[0]))
	}
	if rep.Skipped > 0 {
		notes = append(notes, fmt.Sprintf("note: %d record(s) on the server are sealed under an old team key and were not applied: an admin's next sync seals them again", rep.Skipped))
	}
	if len(rep.TakenIn) > 0 {
		marked := ""
		if rep.TakenInExposed {
			marked = "; they are marked to rotate, since a member who left holds that key (`hush due`)"
		}
		notes = append(notes, fmt.Sprintf("note: %d record(s) a teammate wrote under the previous team key, before the new one began, were taken in and go up again sealed under the new key%s", len(rep.TakenIn), marked))
		// A member who has left chose the value, not only saw it: named
		// one by one (the rest are teammates' writes, counted above).
		for _, t := range rep.TakenIn {
			if !t.Removed {
				continue
			}
			name := cmp.Or(t.Name, "a removal")
			notes = append(notes, fmt.Sprintf("warning: %s was taken in as %s's device %s wrote it, and %s is no longer in the team: the value is theirs, not only seen by them; check it before trusting it", name, t.Member, t.Device, t.Member))
		}
	}
	if len(rep.Superseded) > 0 {
		notes = append(notes, fmt.Sprintf("warning: a teammate changed %s under the previous team key, which this device no longer holds: its copy, sealed again under the new key, replaces that change; ask who changed it to check the value", strings.Join(rep.Superseded, ", ")))
	}
	if len(rep.Unpurged) > 0 {
		notes = append(notes, fmt.Sprintf("note: %s, purged here, was changed by a teammate before the purge reached the team: their version is back here; purge it again to remove it for everyone", strings.Join(rep.Unpurged, ", ")))
	}
	for _, u := range rep.Unreadable {
		what := "secret " + u.ID
		if u.Name != "" {
			what = fmt.Sprintf("secret %s (%s)", u.Name, u.ID)
		}
		notes = append(notes, fmt.Sprintf("warning: %s's device %s signed version %d of %s, but it cannot be read (%s): skipped, this device keeps its last readable version. That device is broken or compromised: check it, or remove it (`hush team remove %s`); the next change of the secret replaces the unreadable version",
			u.Member, u.Device, u.Version, what, u.Reason, u.Member))
	}
	if rep.Unconfirmed > 0 {
		notes = append(notes, fmt.Sprintf("note: the team server said it took %d change(s) but did not show them back: they stay unpushed and go again with the next `hush sync`", rep.Unconfirmed))
	}
	if rep.Stale > 0 {
		notes = append(notes, fmt.Sprintf("note: the team changed during this sync; %d change(s) go up with the next `hush sync`", rep.Stale))
	}
	if n := FreshnessNote(rep.Fresh); n != "" {
		notes = append(notes, n)
	}
	return notes
}

// FreshnessNote warns, on every command that reads the team state, when
// the server may be showing this device a frozen view; empty otherwise.
func FreshnessNote(f client.Freshness) string { return f.Warning() }

// ConflictNotes name the secrets a sync left in conflict, and how to settle
// them; nothing when there are none.
func ConflictNotes(names []string) []string {
	if len(names) == 0 {
		return nil
	}
	return []string{
		fmt.Sprintf("%d in conflict (changed here and by a teammate): %s", len(names), strings.Join(names, ", ")),
		"keep one side with `hush resolve NAME --keep mine` or `--keep theirs`",
	}
}

// ApprovalNotes say which joins a sync approved or refused.
func ApprovalNotes(as []client.Approval) []string {
	var notes []string
	for _, ap := range as {
		if ap.Refused != "" {
			notes = append(notes, fmt.Sprintf("refused the join of %s (%s): %s", ap.Device, ap.Member, ap.Refused))
		} else {
			notes = append(notes, fmt.Sprintf("approved %s (%s) as %s", ap.Device, ap.Member, ap.Role))
		}
	}
	return notes
}

// WatchNotes say what one sync of `sync --watch` did: nothing when it
// had nothing to do.
func WatchNotes(rep *client.Report) []string {
	notes := ApprovalNotes(rep.Approvals)
	if rep.GotKey {
		notes = append(notes, "received the team key")
	}
	if len(rep.GotScopes) > 0 {
		notes = append(notes, ScopeKeysNote(rep.GotScopes))
	}
	if rep.Pulled > 0 || rep.Pushed > 0 {
		notes = append(notes, fmt.Sprintf("pulled %d, pushed %d", rep.Pulled, rep.Pushed))
	}
	notes = append(notes, ReportNotes(rep)...)
	return append(notes, ConflictNotes(rep.Conflicts)...)
}

// AutoNotes say how a sync the person did not ask for went: offline and
// failures are notes, never errors.
func AutoNotes(rep *client.Report, err error) []string {
	switch {
	case errors.Is(err, client.ErrOffline):
		return []string{"note: the team server is unreachable: working offline (changes sync later)"}
	case Removed(err):
		return []string{"note: " + RemovedWords}
	case err != nil:
		return []string{"note: automatic sync failed: " + err.Error()}
	}
	return append(ConflictNotes(rep.Conflicts), ReportNotes(rep)...)
}

// SyncWords says what waits to be pushed, and what to do about it: nothing
// when nothing waits; a reader's changes are never pushed, so a reader is
// not told to push them.
func SyncWords(s *client.Status) string { return syncWords(s, 0) }

// syncWords is SyncWords when kept of the changes not yet pushed are
// outside the folder scopes this device may write: a sync keeps those
// here (and says so), so they are not "to push".
func syncWords(s *client.Status, kept int) string {
	auto := ""
	if s.Auto {
		auto = "; automatic sync on"
	}
	kept = min(kept, s.Unpushed)
	stay := ""
	if kept > 0 {
		stay = fmt.Sprintf("%d local change(s) stay on this device: outside the folder scopes it may write, or moved out of them by a teammate (`hush team scopes`)", kept)
	}
	switch n := s.Unpushed - kept; {
	case s.Role == "reader" && !s.WritesScopes && s.Unpushed > 0:
		return fmt.Sprintf("%d local change(s) stay on this device (a reader's changes are not sent to the team)%s", s.Unpushed, auto)
	case s.Unpushed == 0:
		return "nothing to push" + auto
	case n == 0:
		return stay + auto
	case kept > 0:
		stay = "; " + stay
	}
	n := s.Unpushed - kept
	if s.Auto {
		return fmt.Sprintf("%d local change(s) not yet pushed (automatic sync sends them at the next change, or run `hush sync`)%s", n, stay)
	}
	return fmt.Sprintf("%d local change(s) not yet pushed: run `hush sync`%s", n, stay)
}

// ScopeKeysNote names the folder scopes whose key a sync received: a
// member who holds only folder scopes never gets the team key, and a
// note saying so would be wrong.
func ScopeKeysNote(folders []string) string {
	if len(folders) == 1 {
		return "received the key of the folder scope " + folders[0]
	}
	return "received the keys of the folder scopes " + strings.Join(folders, ", ")
}
