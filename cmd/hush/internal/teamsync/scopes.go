package teamsync

import (
	"context"
	"fmt"
	"strings"

	"github.com/hush-secrets/hush/sync/client"
)

// Grant gives member name a folder scope with role, then syncs: a scope
// new to the team seals the secrets under it again, into it. A new scope
// is held by the holders of the one it is carved out of too: the notes
// name them, so that the admin is not surprised (attack18 F3).
func Grant(ctx context.Context, t *client.Team, name, folder, role string) ([]string, error) {
	if _, err := t.Sync(ctx); err != nil {
		return nil, fmt.Errorf("sync before granting: %w", err)
	}
	g, err := t.Grant(ctx, name, folder, role)
	if err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("%s now holds %s as %s", name, folder, role)}
	if g.New && len(g.Others) > 0 {
		notes = append(notes, fmt.Sprintf("%s is a new scope, also held by the holders of %s: %s (`hush team ungrant MEMBER %s` takes it from one)",
			folder, g.Parent, holderList(g.Others), folder))
	}
	rep, err := t.Sync(ctx)
	if err != nil {
		return notes, fmt.Errorf("the grant is done; the sync after it failed (run `hush sync`): %w", err)
	}
	if rep.Pushed > 0 {
		notes = append(notes, fmt.Sprintf("pushed %d secret(s) sealed into their scopes", rep.Pushed))
	}
	return notes, nil
}

// holderList is "alice (admin), carol (writer)".
func holderList(hs []client.ScopeHolder) string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = fmt.Sprintf("%s (%s)", h.Member, h.Role)
	}
	return strings.Join(out, ", ")
}

// Ungrant takes folder and every scope below it from member name: a new
// key epoch of each scope taken (and no other), their secrets marked to
// be rotated, pushed sealed again.
func Ungrant(ctx context.Context, t *client.Team, name, folder string) ([]string, error) {
	if _, err := t.Sync(ctx); err != nil {
		return nil, fmt.Errorf("sync before ungranting: %w", err)
	}
	u, err := t.Ungrant(ctx, name, folder)
	if u == nil || len(u.Folders) == 0 {
		return nil, err
	}
	each, in := "it", "it"
	if len(u.Folders) > 1 {
		each, in = "each", "them"
	}
	notes := []string{fmt.Sprintf("%s no longer holds %s: a new key for %s; %s", u.Member, strings.Join(u.Folders, ", "), each, dueNote(u.Marked, u.Due, " in "+in))}
	if u.Above != "" {
		notes = append(notes, fmt.Sprintf("the names in %s that are in no deeper scope belong to %s, which %s still holds", folder, u.Above, u.Member))
	}
	if len(u.Kept) > 0 {
		notes = append(notes, fmt.Sprintf("%s still holds the scopes below it: %s (`hush team ungrant %s FOLDER` takes one, `hush team remove %s` everything)",
			u.Member, strings.Join(u.Kept, ", "), u.Member, u.Member))
	}
	if err != nil {
		return notes, err
	}
	return pushResealed(ctx, t, notes)
}

// dueNote says how many secrets (in where: " in them", or "") are to be
// rotated: marked now, and marked before by an earlier ungrant or
// removal ("0 marked" alone would read as nothing to rotate: attack18 F5).
func dueNote(marked, due int, where string) string {
	if due <= marked {
		return fmt.Sprintf("%d secret(s)%s marked to be rotated (see `hush due`)", marked, where)
	}
	return fmt.Sprintf("%d secret(s)%s to be rotated: %d marked now, %d already marked (see `hush due`)", due, where, marked, due-marked)
}

// ScopeRows is `hush team scopes --json`.
type ScopeRows struct {
	Scopes []client.ScopeInfo `json:"scopes"`
}
