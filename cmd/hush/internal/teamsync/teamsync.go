// Package teamsync is what a front end (the command line, the terminal UI)
// does around a vault shared with a team: it opens the team state for one
// task ([With]), syncs on its own when the vault's settings ask for it
// ([AfterCommand], [Quiet]), follows the server's watch stream ([Watch]),
// reads the team part of a status ([ReadStatus]), and says in words what a
// sync did or what waits ([ReportNotes], [AutoNotes], [SyncWords]).
//
// It also runs the team's administration as a whole task each, with what
// to say about it: create, join, invite (a person or a machine), approve,
// change a role, grant and ungrant a folder scope, remove, rotate the key,
// resolve a conflict (ops.go, scopes.go, admin.go); and it writes the
// tables of members, scopes, the server's audit log and the verify
// fingerprint (tables.go), so that a second front end says them the same.
//
// The team state and the protocol are sync/client's; this package decides
// when to sync, how long to wait, and what a person is told. It never
// fails a command for a sync the command did not ask for: offline, it says
// so and the command goes on.
package teamsync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// Timeout bounds every conversation with the team server.
const Timeout = 2 * time.Minute

// autoTimeout bounds an automatic sync: a short one, since the command the
// person asked for waits on it.
const autoTimeout = 15 * time.Second

// With runs fn on v's team, owned for the task (client.Open: the sync
// lock, the state loaded once and saved by the methods that change it),
// within Timeout.
func With(v *vault.Vault, fn func(ctx context.Context, t *client.Team) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	t, err := client.Open(ctx, v)
	if err != nil {
		return err
	}
	defer t.Close()
	return fn(ctx, t)
}

// Now syncs v as its own owner of the team state (client.Open).
func Now(ctx context.Context, v *vault.Vault) (*client.Report, error) {
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	return t.Sync(ctx)
}

// auto is the sync automatic sync runs: a short one. It also returns
// what to say of folder scopes this device lost in it (LostNotes).
func auto(v *vault.Vault) (*client.Report, []string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), autoTimeout)
	defer cancel()
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, nil, err
	}
	defer t.Close()
	return syncNoting(ctx, t)
}

// syncNoting is t.Sync, with the notes for the folder scopes this device
// held before it and no longer holds after it: said once, by the sync
// that learns it (the log it verified is saved with it).
func syncNoting(ctx context.Context, t *client.Team) (*client.Report, []string, error) {
	before, _ := t.State().Held()
	rep, err := t.Sync(ctx)
	if err != nil || before == nil {
		return rep, nil, err
	}
	after, herr := t.State().Held()
	if herr != nil {
		return rep, nil, nil
	}
	return rep, LostNotes(before, after), nil
}

// LostNotes tell a member which folder scopes she held before and does
// not hold now (an admin ungranted them): the copies of their secrets
// on this device are old ones, marked out-of-scope, and get nothing new.
func LostNotes(before, after *client.Held) []string {
	var notes []string
	now := after.Folders()
	for _, f := range before.Folders() {
		if slices.Contains(now, f) {
			continue
		}
		what := f
		if f == "/" {
			what = "the team's root (/)"
		}
		notes = append(notes, fmt.Sprintf("you no longer hold %s: its secrets here are old copies that get no update (marked out-of-scope in `hush ls`); ask an admin for `hush team grant` if you need it", what))
	}
	return notes
}

// AfterCommand syncs when v's team settings ask for it: always after a
// change (changed, to names), before a read when the last sync is over a
// minute old. It returns what to tell the person, including that a change
// stays on this device (a reader's, or one outside the folder scopes it
// may write, which "created" alone would not say); it never fails.
func AfterCommand(v *vault.Vault, changed bool, names ...string) []string {
	if !client.InTeam(v) {
		return nil
	}
	st, err := client.Load(v)
	if err != nil {
		return nil
	}
	var notes []string
	switch {
	case changed && st.Role == "reader" && !st.WritesAny():
		notes = append(notes, "note: this device is a reader in the team: this change stays on this device")
	case changed:
		if out := st.Unwritable(names); len(out) > 0 {
			notes = append(notes, fmt.Sprintf("note: %s is outside the folder scopes this device may write: the change stays on this device and is not sent to the team (`hush team scopes`)", strings.Join(out, ", ")))
		}
	}
	if st.AutoSyncDue(changed, time.Now()) {
		rep, lost, err := auto(v)
		notes = append(append(notes, lost...), AutoNotes(rep, err)...)
	}
	return notes
}

// Quiet is AfterCommand for the terminal UI, after a change: one short
// status line (empty when nothing was synced).
func Quiet(v *vault.Vault) string {
	if !client.InTeam(v) {
		return ""
	}
	if st, err := client.Load(v); err != nil || !st.AutoSyncDue(true, time.Now()) {
		return ""
	}
	rep, lost, err := auto(v)
	switch {
	case err == nil && len(lost) > 0:
		return lost[0]
	case errors.Is(err, client.ErrOffline):
		return "the team server is unreachable: working offline"
	case err != nil:
		return "automatic sync failed: " + err.Error()
	case len(rep.Conflicts) > 0:
		return fmt.Sprintf("synced; %d in conflict: hush resolve", len(rep.Conflicts))
	}
	return fmt.Sprintf("synced (pulled %d, pushed %d)", rep.Pulled, rep.Pushed)
}

// Label is the terminal UI header's word on sync: empty for a vault of
// one's own.
func Label(v *vault.Vault) string {
	if !client.InTeam(v) {
		return ""
	}
	st, err := client.Load(v)
	if err != nil {
		return "team"
	}
	if st.Auto {
		return "sync: auto"
	}
	return "sync: hush sync"
}

// Freshness is the warning, for a vault in a team, that the server may be
// showing this device a frozen view; empty when there is none.
func Freshness(v *vault.Vault) string {
	if !client.InTeam(v) {
		return ""
	}
	if st, err := client.Load(v); err == nil {
		return FreshnessNote(st.Freshness(time.Now()))
	}
	return ""
}

// Theirs is the teammate's side of a conflict on name, and who made it
// ("member on device", or the device alone).
func Theirs(v *vault.Vault, name string) (th *client.Theirs, who string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	t, err := client.Open(ctx, v)
	if err != nil {
		return nil, "", err
	}
	th, err = t.Theirs(name)
	t.Close()
	if err != nil {
		return nil, "", err
	}
	who = th.Author
	if th.Member != "" && th.Member != th.Author {
		who = th.Member + " on " + th.Author
	}
	return th, who, nil
}

// MemberState is a member's state in one word: pending, active or removed.
func MemberState(m client.Member) string {
	switch {
	case m.Pending:
		return "pending"
	case m.Active:
		return "active"
	}
	return "removed"
}

// SyncOptions change a device's sync settings along with a sync.
type SyncOptions struct {
	Auto  *bool         // turn automatic sync on or off; nil: unchanged
	Fresh time.Duration // warn after this long without news from the team; 0: unchanged
}

// SyncFlags checks `hush sync`'s --auto (on, off or "") and
// --fresh-window (a duration or "") and, unless watch (which takes
// neither), makes them options.
func SyncFlags(auto, window string, watch bool) (SyncOptions, error) {
	var o SyncOptions
	if auto != "" && auto != "on" && auto != "off" {
		return o, usage.Errorf("--auto is on or off")
	}
	if watch {
		if auto != "" || window != "" {
			return o, usage.Errorf("--watch takes no other flag")
		}
		return o, nil
	}
	if window != "" {
		d, err := vault.ParseInterval(window)
		if err != nil || d <= 0 {
			return o, usage.Errorf("--fresh-window takes a duration like 3d or 7d")
		}
		o.Fresh = d
	}
	if auto != "" {
		on := auto == "on"
		o.Auto = &on
	}
	return o, nil
}

// Sync changes t's settings as o says and syncs, returning what to tell
// the person, in order, also when it fails. Automatic sync is turned off
// before the sync, but on only after a sync that worked: a sync that
// cannot reach the server now would only fail after every change.
func Sync(ctx context.Context, t *client.Team, o SyncOptions) (*client.Report, []string, error) {
	var notes []string
	if o.Auto != nil && !*o.Auto {
		if err := t.SetAuto(false); err != nil {
			return nil, notes, err
		}
		notes = append(notes, "automatic sync is off")
	}
	if o.Fresh > 0 {
		if err := t.SetFreshWindow(o.Fresh); err != nil {
			return nil, notes, err
		}
		notes = append(notes, "this device warns when it pushes but sees nothing new from the team for "+vault.FormatInterval(o.Fresh))
	}
	rep, lost, err := syncNoting(ctx, t)
	if rep != nil {
		notes = append(notes, ApprovalNotes(rep.Approvals)...)
	}
	if err != nil {
		if o.Auto != nil && *o.Auto {
			err = fmt.Errorf("%w; automatic sync stays off (run `hush sync --auto on` again when the server answers)", err)
		}
		return rep, notes, err
	}
	if o.Auto != nil && *o.Auto {
		if err := t.SetAuto(true); err != nil {
			return rep, notes, err
		}
		notes = append(notes, "automatic sync is on")
	}
	if rep.GotKey {
		notes = append(notes, "received the team key")
	}
	if len(rep.GotScopes) > 0 {
		notes = append(notes, ScopeKeysNote(rep.GotScopes))
	}
	notes = append(append(notes, lost...), fmt.Sprintf("pulled %d, pushed %d", rep.Pulled, rep.Pushed))
	return rep, append(notes, ReportNotes(rep)...), nil
}
