package teamsync

import (
	"context"
	"fmt"

	"github.com/hush-secrets/hush/sync/client"
)

// Grant gives member name a folder scope with role, then syncs: a scope
// new to the team seals the secrets under it again, into it.
func Grant(ctx context.Context, t *client.Team, name, folder, role string) ([]string, error) {
	if _, err := t.Sync(ctx); err != nil {
		return nil, fmt.Errorf("sync before granting: %w", err)
	}
	if err := t.Grant(ctx, name, folder, role); err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("%s now holds %s as %s", name, folder, role)}
	rep, err := t.Sync(ctx)
	if err != nil {
		return notes, fmt.Errorf("the grant is done; the sync after it failed (run `hush sync`): %w", err)
	}
	if rep.Pushed > 0 {
		notes = append(notes, fmt.Sprintf("pushed %d secret(s) sealed into their scopes", rep.Pushed))
	}
	return notes, nil
}

// Ungrant takes a folder scope from member name: a new key epoch of that
// scope only, its secrets marked to be rotated, pushed sealed again.
func Ungrant(ctx context.Context, t *client.Team, name, folder string) ([]string, error) {
	if _, err := t.Sync(ctx); err != nil {
		return nil, fmt.Errorf("sync before ungranting: %w", err)
	}
	n, err := t.Ungrant(ctx, name, folder)
	if err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("%s no longer holds %s: a new key for it; %d secret(s) in it marked to be rotated (see `hush due`)", name, folder, n)}
	return pushResealed(ctx, t, notes)
}

// ScopeRows is `hush team scopes --json`.
type ScopeRows struct {
	Scopes []client.ScopeInfo `json:"scopes"`
}
