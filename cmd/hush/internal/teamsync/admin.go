package teamsync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// ReadCA reads the CA certificate (PEM) a self-signed team server is
// trusted by (--ca); none when path is empty.
func ReadCA(path string) ([]byte, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	return b, nil
}

// Invite makes a one-time invitation code for a new member as role, or
// for another device of member (with their role), valid for ttl, holding
// only scopes if any. note says what the code is for, and what to do
// with it, and which folders became scopes for it, held by whom.
func Invite(ctx context.Context, t *client.Team, role, member string, ttl time.Duration, scopes []string) (code string, notes []string, err error) {
	if err := syncBeforeCarving(ctx, t, scopes); err != nil {
		return "", nil, err
	}
	before, _ := t.State().Folders()
	inv, err := t.InviteScoped(ctx, role, member, ttl, scopes)
	if err != nil {
		return "", nil, err
	}
	if member != "" {
		notes = append(notes, fmt.Sprintf("an invitation for another device of %s, valid once for %s. On that device: hush team join CODE", member, vault.FormatInterval(ttl)))
	} else {
		notes = append(notes, fmt.Sprintf("a %s invitation for a new member, valid once for %s. On the new device: hush team join CODE --member NAME", role, vault.FormatInterval(ttl)))
	}
	return inv.String(), append(notes, newScopeNotes(t, before, "")...), nil
}

// syncBeforeCarving syncs before an invitation with scopes: a folder made
// a scope then has its secrets sealed again into it from what this device
// holds, which must be the team's latest (attack22 C10: a teammate's
// change it had not pulled met the re-seal as a conflict, and the new
// scope's holders never got the secret). A grant syncs first likewise.
func syncBeforeCarving(ctx context.Context, t *client.Team, scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	return syncFirst(ctx, t, "making the scopes")
}

// syncFirst syncs before a team change that seals secrets again (a new
// key, a new scope): what is sealed is what this device holds, which must
// be the team's latest. A conflict that sync leaves stops the change: a
// secret in conflict is sealed again by neither side, and after a new key
// neither side of it could be kept (found by an outside test, attack23
// C3n, C10n; and `team rotate` dropped this device's unpushed edit, R1).
func syncFirst(ctx context.Context, t *client.Team, what string) error {
	rep, err := t.Sync(ctx)
	if err != nil {
		return fmt.Errorf("sync before %s: %w", what, err)
	}
	if len(rep.Conflicts) > 0 {
		return fmt.Errorf("not %s: %s in conflict (changed here and by a teammate); settle it first with `hush resolve NAME --keep mine|theirs`, then run this again",
			what, strings.Join(rep.Conflicts, ", "))
	}
	return nil
}

// newScopeNotes names, for each folder scope made since before (the
// team's folders then, by scope id), who holds it: the holders of the
// scope it was carved out of (attack18 F3, as Grant says), but except,
// the member or machine it was made for; none when only admins do.
func newScopeNotes(t *client.Team, before map[string]string, except string) []string {
	if before == nil {
		return nil // not known: no note rather than a wrong one
	}
	ss, err := t.State().Scopes()
	if err != nil {
		return nil
	}
	var notes []string
	for _, sc := range ss {
		if _, old := before[sc.ID]; old || sc.ID == "" {
			continue
		}
		var others []client.ScopeHolder
		news := false // someone who is no admin (admins hold every scope)
		for _, h := range sc.Holders {
			if h.Member != except {
				others = append(others, h)
				news = news || h.Role != wire.RoleAdmin
			}
		}
		parent := "/"
		if p := wire.DeepestScope(before, sc.Folder); p != "" {
			parent = before[p]
		}
		if news {
			notes = append(notes, fmt.Sprintf("%s is a new scope, also held by the holders of %s: %s (`hush team ungrant MEMBER %s` takes it from one)",
				sc.Folder, parent, holderList(others), sc.Folder))
		}
	}
	return notes
}

// JoinMember is the member a join with inv makes this device part of:
// the invitation's member for another device of theirs, else member,
// else the device's own name. An error means member contradicts the
// invitation.
func JoinMember(inv *client.Invite, member, device string) (string, error) {
	switch {
	case inv.Member != "" && member != "" && member != inv.Member:
		return "", fmt.Errorf("this invitation is for a device of %s: leave out --member, or use --member %s", inv.Member, inv.Member)
	case inv.Member != "":
		return inv.Member, nil
	case member == "":
		return device, nil
	}
	return member, nil
}

// Joined is what to tell the person after a join asked (Join) for vault
// name at path: what happens next.
func Joined(name, path string, st *client.State) []string {
	return []string{
		fmt.Sprintf("created vault %s at %s and asked to join the team as %s (%s)", name, path, st.Device.Name, st.Device.Member),
		"waiting for an admin: once one has run `hush sync`, run `hush sync` here",
	}
}

// Approve approves the joins made with this device's invitations (an
// admin's sync does it too).
func Approve(ctx context.Context, t *client.Team) ([]string, error) {
	as, err := t.Approve(ctx)
	notes := ApprovalNotes(as)
	if err == nil && t.State().Role != "admin" {
		return notes, errors.New("only an admin approves joins")
	}
	if err == nil && len(as) == 0 {
		notes = append(notes, "no joins are waiting for your invitations")
	}
	return notes, err
}

// Outstanding fails a sync that worked but left something for a person:
// changes the server said it took but did not show back, or conflicts.
// The exit status tells a script so.
func Outstanding(rep *client.Report) error {
	if rep == nil {
		return nil
	}
	if rep.Unconfirmed > 0 {
		// `hush set … && hush sync` must not believe a change went
		// up that the team never showed back.
		return fmt.Errorf("%d change(s) not pushed: the team server answered that it took them, but the team's changes do not show them; they go again with the next `hush sync` (if this repeats, the server is not passing them on: `hush team verify` and compare with a teammate)", rep.Unconfirmed)
	}
	if len(rep.Conflicts) > 0 {
		// The sync itself worked (and is audited so); the exit
		// status tells a script that something waits for a person.
		return fmt.Errorf("%d in conflict (changed here and by a teammate): %s\nkeep one side with `hush resolve NAME --keep mine` or `--keep theirs`",
			len(rep.Conflicts), strings.Join(rep.Conflicts, ", "))
	}
	return nil
}

// Resolve settles the conflict on name, keeping k's side, and syncs at
// once when automatic sync is on.
func Resolve(ctx context.Context, t *client.Team, name string, k client.Keep) ([]string, error) {
	if err := t.Resolve(ctx, name, k); err != nil {
		return nil, err
	}
	keep := "mine"
	if k == client.KeepTheirs {
		keep = "theirs"
	}
	if k == client.KeepMine {
		if why := keptHere(t.State(), name); why != "" {
			// Nothing will send it: saying it syncs next would be false.
			return []string{fmt.Sprintf("resolved %s: kept mine, on this device only: %s, so it is not sent to the team and the team keeps its version (`hush team scopes`)", name, why)}, nil
		}
	}
	notes := []string{fmt.Sprintf("resolved %s: kept %s (it syncs with the next `hush sync`)", name, keep)}
	if t.State().Auto {
		notes = append(notes, AutoNotes(t.Sync(ctx))...)
	}
	return notes, nil
}

// keptHere says why a change to name stays on this device and is never
// sent (a reader's, or outside the folder scopes it may write); empty when
// a sync sends it.
func keptHere(st *client.State, name string) string {
	switch {
	case st.Role == wire.RoleReader && !st.WritesAny():
		return "this device is a reader in the team"
	case len(st.Unwritable([]string{name})) > 0:
		return name + " is outside the folder scopes this device may write"
	}
	return ""
}
