package teamsync

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// Grant gives member name a folder scope with role, then syncs: a scope
// new to the team seals the secrets under it again, into it. A new scope
// is held by the holders of the one it is carved out of too: the notes
// name them, so that the admin is not surprised (attack18 F3).
func Grant(ctx context.Context, t *client.Team, name, folder, role string) ([]string, error) {
	if err := syncFirst(ctx, t, "granting"); err != nil {
		return nil, err
	}
	g, err := t.Grant(ctx, name, folder, role)
	if err != nil {
		return nil, err
	}
	notes := []string{fmt.Sprintf("%s now holds %s as %s", name, folder, role)}
	if g.Demoted {
		notes = append(notes, fmt.Sprintf("a new key for %s: what %s signs there from now on is refused", folder, name))
	}
	if g.New && len(g.Others) > 0 {
		notes = append(notes, fmt.Sprintf("%s is a new scope, also held by the holders of %s: %s (`hush team ungrant MEMBER %s` takes it from one)",
			folder, g.Parent, holderList(g.Others), folder))
	}
	// An ungrant before marked the scope's secrets to rotate because
	// name lost it: with it given back, that reason is gone.
	if n, err := t.ClearUngrantMarks(name, folder); err != nil {
		notes = append(notes, fmt.Sprintf("note: the marks to rotate an earlier ungrant of %s left on %s stay (%v)", name, folder, err))
	} else if n > 0 {
		notes = append(notes, fmt.Sprintf("%d secret(s) in %s no longer marked to be rotated: %s was ungranted it before, and holds it again", n, folder, name))
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
	if err := syncFirst(ctx, t, "ungranting"); err != nil {
		return nil, err
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

// NotHeldError is a name (or a folder) outside every folder scope this
// device holds: it is "not found" here because the team does not give
// this device its scope, whether or not it exists (which is not said).
type NotHeldError struct {
	Name   string
	Folder bool
	Held   []string // the folders this device holds ("/": the root)
	Scope  string   // the folder of the scope Name belongs to
}

func (e *NotHeldError) Error() string {
	what := e.Name
	if e.Folder {
		what = "folder " + e.Name
	}
	if slices.Contains(e.Held, "/") {
		// "not in your scopes (/ only)" would read as holding it all.
		return fmt.Sprintf("%s: in %s, a folder scope you do not hold; ask an admin for `hush team grant`", what, e.Scope)
	}
	return fmt.Sprintf("%s: not in your scopes (%s only); ask an admin for `hush team grant`", what, strings.Join(e.Held, ", "))
}

// Unwrap makes it a vault.ErrNotFound for callers that test for one.
func (e *NotHeldError) Unwrap() error { return vault.ErrNotFound }

// NotHeld is a *NotHeldError when name (folder: a folder; "" is the
// whole team) lies outside every folder scope this device holds by the
// log it verified last; nil when it holds it, when v is not in a team or
// the team has no folder scopes, or when that cannot be told.
func NotHeld(v *vault.Vault, name string, folder bool) error {
	h := scoped(v)
	if h == nil || h.Covers(name, folder) {
		return nil
	}
	in := name
	if folder {
		in = strings.TrimSuffix(name, "/") + "/\x00" // the scope the folder lies in
	}
	return &NotHeldError{Name: name, Folder: folder, Held: h.Folders(), Scope: h.ScopeOf(in)}
}

// OutOfSight is err, or, when err is a vault.ErrNotFound for name and
// name lies outside every scope this device holds, a *NotHeldError: "not
// found" would send a contractor looking for a typo.
func OutOfSight(v *vault.Vault, name string, folder bool, err error) error {
	if !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	if nh := NotHeld(v, name, folder); nh != nil {
		return nh
	}
	return err
}

// HeldNames says whether this device holds the folder scope a name
// belongs to, by the log it verified last: what marks a copy
// vault.MarkOutOfScope in a listing. Nil (everything held) when v is not
// in a team, the team has no folder scopes, or that cannot be told.
func HeldNames(v *vault.Vault) func(name string) bool {
	st := teamState(v)
	h, moved := heldOf(st), movedOut(v, st)
	switch {
	case len(moved) > 0:
		return func(name string) bool { return !moved[name] && (h == nil || h.Name(name)) }
	case h != nil:
		return h.Name
	}
	return nil
}

// movedOut is the names of v's team secrets whose copy here a teammate's
// move into a folder scope this device does not hold left behind
// (client.State.MovedOut, as the last sync saw): old copies, like those
// of a scope ungranted.
func movedOut(v *vault.Vault, st *client.State) map[string]bool {
	if st == nil || len(st.MovedOut) == 0 {
		return nil
	}
	names := map[string]bool{}
	for id := range st.MovedOut {
		raw, err := hex.DecodeString(id)
		if err != nil {
			continue
		}
		if name, err := v.Replica().NameByID(raw); err == nil {
			names[name] = true
		}
	}
	return names
}

// teamState is v's team state as the last sync left it; nil when v is
// not in a team or it cannot be read.
func teamState(v *vault.Vault) *client.State {
	if !client.InTeam(v) {
		return nil
	}
	st, err := client.Load(v)
	if err != nil {
		return nil
	}
	return st
}

// scoped is what this device holds of v's team with folder scopes, by
// the log it verified last; nil when v is not in a team, the team has no
// folder scopes, the log does not list this device as active (pending or
// removed: status says so), or that cannot be told.
func scoped(v *vault.Vault) *client.Held { return heldOf(teamState(v)) }

// heldOf is scoped for a state already loaded.
func heldOf(st *client.State) *client.Held {
	if st == nil || st.Members == nil || len(st.Members.Scopes) == 0 && len(st.Members.RootOff) == 0 {
		return nil
	}
	if d, ok := st.Members.Devices[st.Device.ID]; !ok || !d.Active {
		return nil
	}
	h, err := st.Held()
	if err != nil {
		return nil
	}
	return h
}

// Shared reports whether v belongs to a team.
func Shared(v *vault.Vault) bool { return client.InTeam(v) }

// Purge deletes names from v for good, all or none (vault.PurgeMany),
// and, in a team, sees that each removal goes to the team in the right
// folder scope, or not at all for a name this device may not write
// (client.Team.Purge). t is v's team when the caller holds it already (a
// machine token's, whose vault lives in memory); nil: opened here. It
// returns what to tell the person, a line a name.
func Purge(v *vault.Vault, t *client.Team, names []string) ([]string, error) {
	local := map[string]bool{}
	purge := func(_ context.Context, t *client.Team) error {
		l, err := t.Purge(names)
		for _, n := range l {
			local[n] = true
		}
		return err
	}
	var err error
	switch {
	case t != nil:
		err = purge(context.Background(), t)
	case client.InTeam(v):
		err = With(v, purge)
	default:
		err = v.PurgeMany(names)
	}
	if err != nil {
		return nil, err
	}
	notes := make([]string, 0, len(names))
	for _, n := range names {
		if local[n] {
			notes = append(notes, fmt.Sprintf("purged %s and its history on this device only: this device may not write its folder scope (or is a reader), so no removal is sent and the team keeps its version", n))
		} else {
			notes = append(notes, fmt.Sprintf("purged %s and its history", n))
		}
	}
	return notes, nil
}
