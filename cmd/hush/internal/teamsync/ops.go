package teamsync

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// The team changes below return what to tell the person, in order, also
// when they fail part way: a change the server took stays done.

// Create makes v the team's on a server, this device its admin, and
// pushes v's secrets with a first sync.
func Create(v *vault.Vault, o client.CreateOptions) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	st, err := client.Create(ctx, v, o)
	if err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("created team %s on %s; this device (%s) is its admin", o.Name, st.Server, st.Device.Name)}
	rep, err := Now(ctx, v)
	if err != nil {
		return notes, fmt.Errorf("the team exists, but the first sync failed (run `hush sync` again): %w", err)
	}
	return append(notes, "pushed "+human.Count(rep.Pushed, "secret")+". Next: `hush team invite --role writer`"), nil
}

// SetRole gives member name role, for all their devices, after a sync
// (what is sealed again under a new key is what this device holds: else
// a teammate's change it had not pulled would be replaced by its older
// copy, attack22 C3). A scope the member can no longer write, or gains
// (an admin holds every one), starts a new key epoch, and its secrets are
// pushed sealed under it at once, not at this device's next sync.
func SetRole(ctx context.Context, t *client.Team, name, role string) ([]string, error) {
	if err := syncFirst(ctx, t, "changing the role"); err != nil {
		return nil, err
	}
	member, ds, _ := t.State().FindMember(name)
	wasAdmin := len(ds) > 0 && ds[0].Role == "admin"
	ch, err := t.SetRole(ctx, name, role)
	if err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("%s is now a %s", name, role)}
	if m := t.State().Members; wasAdmin {
		// On the root a member holds the team role: an admin made
		// something else holds it, also one who held folder scopes only
		// before she was an admin (attack22 C5). Said, with the way back.
		if r, ok := m.ScopesOf(member, m.Seq)[""]; ok {
			notes = append(notes, fmt.Sprintf("%s holds the root (/) as %s, as every %s does: `hush team ungrant %s /` takes it", member, r, role, member))
		}
	}
	if ch.Epoch > 0 {
		notes = append(notes, fmt.Sprintf("new team key epoch %d: what a former writer signs from now on is refused", ch.Epoch))
	}
	if len(ch.Scopes) > 0 {
		notes = append(notes, fmt.Sprintf("new keys for %s", strings.Join(ch.Scopes, ", ")))
	}
	if ch.Epoch == 0 && len(ch.Scopes) == 0 {
		return notes, nil
	}
	return pushResealed(ctx, t, notes)
}

// Remove removes a member, or one device, from the team: after a sync
// (what is sealed again under the new key is what this device holds), a
// new key epoch, every secret they could read marked to be rotated, every
// secret pushed sealed under the new key.
func Remove(ctx context.Context, t *client.Team, name string) ([]string, error) {
	if err := syncFirst(ctx, t, "removing"); err != nil {
		return nil, err
	}
	var notes []string
	rm, err := t.Remove(ctx, name)
	if rm != nil {
		notes = append(notes, fmt.Sprintf("removed %s (%s)", rm.Member, strings.Join(rm.Devices, ", ")))
	}
	if err != nil {
		return notes, err
	}
	switch {
	case rm.Epoch > 0:
		notes = append(notes, fmt.Sprintf("new team key epoch %d; %s", rm.Epoch, dueNote(rm.Exposed, rm.Due, "")))
	case len(rm.Scopes) > 0:
		notes = append(notes, fmt.Sprintf("new keys for the scopes they held (%s); %s", strings.Join(rm.Scopes, ", "), dueNote(rm.Exposed, rm.Due, " in them")))
	default:
		notes = append(notes, "they held no key: nothing to rotate")
	}
	return pushResealed(ctx, t, notes)
}

// Rotate starts a new team key epoch and pushes every secret sealed under
// it.
func Rotate(ctx context.Context, t *client.Team) ([]string, error) {
	if err := syncFirst(ctx, t, "rotating the key"); err != nil {
		return nil, err
	}
	epoch, err := t.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	return pushResealed(ctx, t, []string{fmt.Sprintf("new team key epoch %d", epoch)})
}

// pushResealed syncs after a new key epoch: every secret goes up sealed
// under the new key. The team change itself is done whatever happens here.
func pushResealed(ctx context.Context, t *client.Team, notes []string) ([]string, error) {
	rep, err := t.Sync(ctx)
	if err != nil {
		return notes, fmt.Errorf("the team change is done; pushing the re-sealed secrets failed (run `hush sync`): %w", err)
	}
	notes = append(notes, fmt.Sprintf("pushed %d secret(s) sealed under the new key", rep.Pushed))
	return append(notes, ConflictNotes(rep.Conflicts)...), nil
}

// Join registers v, a vault made for it, with the team of invitation inv,
// and closes v. record writes the audit entry of the attempt before v
// closes; its failure is only a note when the join worked. A failed join
// removes the vault again: it holds nothing yet, and a retry starts clean.
func Join(v *vault.Vault, inv *client.Invite, o client.JoinOptions, record func(error) error) (*client.State, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	st, err := client.Join(ctx, v, inv, o)
	var notes []string
	if rerr := record(err); err == nil && rerr != nil {
		notes = append(notes, fmt.Sprintf("note: %v", rerr))
	}
	path := v.Path()
	v.Close()
	if err != nil {
		vault.Remove(path)
		return nil, notes, err
	}
	return st, notes, nil
}

// MachineLife is how long a machine's access lasts unless its invitation
// says otherwise.
const MachineLife = 90 * 24 * time.Hour

// InviteMachine adds machine name to the team at once, as role (reader or
// writer) for life, holding only scopes if any, and returns its token,
// shown once. A folder made a scope now has its secrets pushed sealed into
// it; when that sync fails, the machine is added all the same and a note
// says so.
func InviteMachine(ctx context.Context, t *client.Team, name, role string, life time.Duration, scopes []string) (*client.Token, []string, error) {
	if err := syncBeforeCarving(ctx, t, scopes); err != nil {
		return nil, nil, err
	}
	before, _ := t.State().Folders()
	tok, err := t.InviteMachineScoped(ctx, name, role, life, scopes)
	if err != nil {
		return nil, nil, err
	}
	notes := newScopeNotes(t, before, name)
	if len(scopes) > 0 {
		if _, err := t.Sync(ctx); err != nil {
			notes = append(notes, fmt.Sprintf("note: the sync after making its scopes failed (run `hush sync`): %v", err))
		}
	}
	return tok, notes, nil
}

// MachineAdded is what to tell the admin after the token of machine name
// was printed.
func MachineAdded(name, role string, tok *client.Token) string {
	return fmt.Sprintf("machine %s added as a %s until %s. This token is shown once: store it in your CI system's secret store and give it as HUSH_TOKEN (or --token-file). `hush team remove %s` ends it.",
		name, role, tok.Expires.Local().Format("2006-01-02 15:04"), name)
}
