// Package client is hush's sync client: this device's identity and team
// settings (sealed in the local vault), the signed HTTP conversation with a
// team server, creating and joining a team, and sync itself: pull, apply,
// detect conflicts, push compare-and-set, refuse a server that goes
// backwards. Team keys never leave this package unwrapped except into the
// vault's sealed settings.
//
// One [Team] owns the team state for the length of a command: [Open] takes
// the vault's sync lock and loads the state once; its methods (Sync,
// Approve, Invite, SetRole, Remove, Rotate, Verify, Members, Audit,
// Resolve) work on that copy and write it when they change it. [Create]
// and [Join] make a new team state; [Load] and [ReadStatus] read it for
// display only.
package client

import (
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// stateKey is the vault setting the team state lives under.
const stateKey = "team"

// ErrNoTeam means the vault does not belong to a team.
var ErrNoTeam = errors.New("this vault is not shared with a team: see `hush team create` or `hush team join`")

// State is everything this device knows about its team, sealed in the
// vault as one setting.
type State struct {
	Server      string           `json:"server"`
	CA          []byte           `json:"ca,omitempty"` // PEM roots for a self-signed server
	Team        string           `json:"team"`
	TeamName    string           `json:"team_name"`
	Device      wire.Device      `json:"device"`
	SignSeed    []byte           `json:"sign_seed"`
	BoxIdentity string           `json:"box_identity"`
	Role        string           `json:"role"`
	Keys        map[int64][]byte `json:"keys"` // team key per epoch; empty until approved
	Epoch       int64            `json:"epoch"`
	// ScopeKeys: each folder scope's key this device holds, by scope id,
	// at the scope's current epoch (the root's is Keys). NamesKey: the
	// team's names key (scope ids, sealed folder names), once it has one.
	ScopeKeys map[string]ScopeKey `json:"scope_keys,omitempty"`
	NamesKey  []byte              `json:"names_key,omitempty"`
	// Purged: the name of each secret purged here whose removal the team
	// has not taken yet, by record id: a purge leaves no name, and the
	// removal goes in the scope of the one it had (see Purge).
	Purged map[string]string `json:"purged,omitempty"`
	// MovedAway: the record ids of local changes the last sync that met
	// them kept here, because a teammate moved the secret out of this
	// device's scopes (Report.MovedAway): `hush status` counts them as
	// staying, not as waiting to be pushed.
	MovedAway map[string]bool `json:"moved_away,omitempty"`
	// MovedOut: the record ids of secrets this device holds a copy of
	// whose newest version the chain shows in a folder scope it does not
	// hold (a teammate moved the secret there; attack23 G1n): the copy
	// here gets no update, and `hush ls` marks it out-of-scope, as it
	// marks the secrets of a scope ungranted. A later version in a scope
	// it holds takes the mark away.
	MovedOut map[string]bool `json:"moved_out,omitempty"`
	// MachineWrites: the records whose version this device applied was
	// written by a writer machine, by record id (an admin's device vouches
	// for them before the machine's access ends: vouchMachineWrites).
	MachineWrites map[string]MachineWrite `json:"machine_writes,omitempty"`
	Head          int64                   `json:"head"` // server sequence pulled up to
	Seen          int64                   `json:"seen"` // highest server sequence seen, pushes included
	// Chain is the change chain's position and hash this device verified
	// (sync v2): it moves only on entries that passed every check.
	// Chained: the team's changes are a chain (this device created it so,
	// or verified an entry): never again v1.
	Chain   wire.ChainCursor `json:"chain,omitzero"`
	Chained bool             `json:"chained,omitempty"`
	// ChainAtLog is the membership log position of the entry at Chain:
	// the next entry may not name one below it (wire.CheckLogOrder). 0
	// in a state saved before it was kept: the next entry sets it.
	ChainAtLog int64 `json:"chain_at_log,omitempty"`
	// ScopeHeads is the last entry of each scope in the chain up to Chain
	// (what this device's next entry of a scope links to, and what the
	// next entry of a scope it pulls must link to). Nil in a state saved
	// before scope links: the next sync walks the chain once to find them.
	ScopeHeads wire.ScopeHeads `json:"scope_heads,omitempty"`
	// HeldRead is the scopes this device held (ids, "" the root) when it
	// last moved its cursor: their records up to Chain are here. A scope
	// it holds now and not then (granted since, given back after an
	// ungrant, the admin role) that has entries up to Chain is read again
	// from the chain's start at the next pull (pullChain: attack22 G1),
	// else its secrets from before the grant would never come. Nil in a
	// state saved before it was kept: read once.
	HeldRead []string `json:"held_read,omitempty"`
	// ChainLogSeq is the highest membership log position of a chain entry
	// this device verified, and EpochAt when it verified the log entry that
	// began the team's current key epoch (this device's clock): an epoch
	// begun with no entry written in it shown here is a stalled view.
	ChainLogSeq int64     `json:"chain_log_seq,omitempty"`
	EpochAt     time.Time `json:"epoch_at,omitzero"`
	// PrevKey is the team key of the epoch before the current one, kept
	// by the admin device that began the current one: records written
	// under it before the new epoch began (at log positions before it, by
	// members who could write then) that reach the chain after the new
	// epoch began (a push racing the removal, or held back by the server)
	// are taken in and sealed again under the new key (openRecord,
	// apply). Nil on every other device.
	PrevKey *PrevKey `json:"prev_key,omitempty"`

	LastSync time.Time            `json:"last_sync"`
	Invites  map[string]InviteKey `json:"invites,omitempty"`
	// Members is the membership the verified log leads to; Genesis pins
	// the log's first entry (from the invitation, or made here).
	Members *wire.Membership `json:"members,omitempty"`
	Genesis []byte           `json:"genesis,omitempty"`
	// PinSeq and PinHead: the log entry the invitation named; the log
	// this device accepts must pass through it.
	PinSeq     int64     `json:"pin_seq,omitempty"`
	PinHead    []byte    `json:"pin_head,omitempty"`
	LastChange time.Time `json:"last_change"` // when the server last showed anything new
	// LastWrite is when this device last sent changes (whatever the
	// server answered: its answer is not signed); FreshWindow
	// how long it may write without seeing anything new from the team
	// before it warns (0: DefaultFreshWindow).
	LastWrite   time.Time        `json:"last_write,omitzero"`
	FreshWindow time.Duration    `json:"fresh_window,omitempty"`
	clock       func() time.Time // nil: time.Now (tests move it)
	// folders: the scopes' folder names, opened at log position
	// foldersSeq (prepareFolders, before a push seals and a pull opens
	// records on every core, which only read it).
	folders    map[string]string
	foldersSeq int64

	Auto bool `json:"auto"`
	// Removed: at the last contact the server no longer knew this device
	// (removed from the team, its join turned away, or the server's data
	// lost), or the log showed it removed. Cleared by a sync that works.
	Removed bool `json:"removed,omitempty"`
}

// ScopeKey is a folder scope's key at one epoch.
type ScopeKey struct {
	Epoch int64  `json:"epoch"`
	Key   []byte `json:"key"`
}

// PrevKey is the key of the epoch before Next, and when this device
// began Next (its clock).
type PrevKey struct {
	Epoch int64     `json:"epoch"`
	Key   []byte    `json:"key"`
	Next  int64     `json:"next"`
	Began time.Time `json:"began"`
}

// beginEpoch makes key, of the epoch this device just began, the team
// key, and keeps the one before it (PrevKey).
func (st *State) beginEpoch(epoch int64, key []byte) {
	st.PrevKey = nil
	if old, ok := st.Keys[st.Epoch]; ok && st.Epoch < epoch {
		st.PrevKey = &PrevKey{Epoch: st.Epoch, Key: old, Next: epoch, Began: st.now().UTC()}
	}
	st.Keys, st.Epoch = map[int64][]byte{epoch: key}, epoch
}

// InviteKey is an invite this (admin) device made and has not yet seen
// used: the secret it checks a joiner's binding with.
type InviteKey struct {
	Secret  []byte    `json:"secret"`
	Role    string    `json:"role"`
	Expires time.Time `json:"expires"`
	Member  string    `json:"member,omitempty"` // a device for this member; empty: a new member
	Scopes  []string  `json:"scopes,omitempty"` // a new member holding only these scope ids
}

// Load reads the team state from an unlocked vault; ErrNoTeam if none.
// It is a snapshot for display (status, labels): whatever changes the
// state goes through [Open], under the sync lock.
func Load(v *vault.Vault) (*State, error) {
	b, err := v.Replica().SyncState(stateKey)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, ErrNoTeam
	}
	defer crypto.Wipe(b)
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("team settings are unreadable: %w", err)
	}
	return &st, nil
}

// InTeam reports, without the key, whether a vault belongs to a team.
func InTeam(v *vault.Vault) bool { return v.Replica().HasSyncState(stateKey) }

// save seals the state into the vault. The caller holds the sync lock
// (Open, or a new team's Create or Join): nobody else wrote it meanwhile,
// so there is nothing to merge.
func (st *State) save(v *vault.Vault) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	defer crypto.Wipe(b)
	return v.Replica().SetSyncState(stateKey, b)
}

// highest is the newest server sequence this device knows of: a server
// whose head is below it went backwards.
func (st *State) highest() int64 { return max(st.Head, st.Seen) }

func (st *State) signer() ed25519.PrivateKey { return crypto.Ed25519PrivateKey(st.SignSeed) }

func (st *State) teamKey() (*crypto.Key, error) {
	k, ok := st.Keys[st.Epoch]
	if !ok {
		return nil, ErrPending
	}
	key, err := crypto.KeyFromBytes(k)
	if err != nil {
		return nil, err
	}
	return key.Subkey([]byte(st.Team), "hush/v1/team-records"), nil
}

// ErrPending means this device joined but no admin has approved it yet.
var ErrPending = errors.New("this device is waiting for an admin to approve it: ask an admin to run `hush sync` (or `hush team approve`)")

// DefaultName is user@host, the name a device or member gets by default.
func DefaultName() string {
	name := "me"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		return name
	}
	return name + "@" + host
}

// newIdentity makes this device's key pairs.
func newIdentity(name, member string) (*State, error) {
	seed, err := crypto.Random(ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	box, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	st := &State{SignSeed: seed, BoxIdentity: box.String(), Keys: map[int64][]byte{}, Invites: map[string]InviteKey{}}
	st.Device = wire.Device{ID: wire.NewID(), Name: name, Member: member,
		SignKey: st.signer().Public().(ed25519.PublicKey), Box: box.Recipient().String()}
	if err := st.Device.Check(); err != nil {
		return nil, err
	}
	return st, nil
}

// AutoSyncDue reports whether automatic sync should run now: it is on,
// this device holds the team key (or a scope's), and this is after a change (force) or
// the last sync is over a minute old.
func (st *State) AutoSyncDue(force bool, now time.Time) bool {
	if !st.Auto || len(st.Keys) == 0 && len(st.ScopeKeys) == 0 {
		return false
	}
	return force || now.Sub(st.LastSync) >= time.Minute
}

// now is the state's clock: time.Now, unless a test set another.
func (st *State) now() time.Time {
	if st.clock != nil {
		return st.clock()
	}
	return time.Now()
}

// DefaultFreshWindow is how long a device may push without seeing anything
// new from the team before it warns.
const DefaultFreshWindow = 7 * 24 * time.Hour

// Freshness is what this device can tell of whether the server still
// shows it the team's changes. The server signs nothing, so this comes
// from the team: only authentic changes new to this device count (a
// verified log entry, a record of a version it had not seen).
type Freshness struct {
	Quiet time.Duration // how long the server has shown nothing new; 0: no warning
	Wrote bool          // this device sent changes in that time: its view may be frozen
	// Stalled: the verified membership log began a new key epoch that
	// long ago (a member left, a key rotated), and every secret is sealed
	// again under it by the admin who began it, but the change chain this
	// device is shown has no entry written since.
	Stalled bool
}

// Freshness says, at now, whether this device should warn: it wrote but
// has seen nothing new for longer than its fresh window, or it has seen
// nothing new for longer than Quiet.
func (st *State) Freshness(now time.Time) Freshness {
	w := st.FreshWindow
	if w <= 0 {
		w = DefaultFreshWindow
	}
	// Devices were active in the verified log (a new epoch, whose admin
	// seals every secret again) while the chain shown has not moved since.
	if st.Chained && st.Chain.Pos > 0 && st.Members != nil && st.Members.EpochSeq > st.ChainLogSeq && !st.EpochAt.IsZero() {
		if q := now.Sub(st.EpochAt); q > w {
			return Freshness{Quiet: q, Stalled: true}
		}
	}
	if st.LastChange.IsZero() {
		return Freshness{}
	}
	q := now.Sub(st.LastChange)
	switch {
	case st.LastWrite.After(st.LastChange) && q > w:
		return Freshness{Quiet: q, Wrote: true}
	case q > Quiet:
		return Freshness{Quiet: q}
	}
	return Freshness{}
}

// Warning is what a command that reads the team state says on stderr (and
// `hush status --json` carries): empty when there is nothing to warn of.
func (f Freshness) Warning() string {
	switch {
	case f.Stalled:
		return fmt.Sprintf("warning: the team's key changed %s ago (a member left, or a key was rotated) and every secret was to be sealed again under it, but the team server has shown this device no change since: it may be showing this device a frozen view. Run `hush team verify` and compare the hash with a teammate", quietFor(f.Quiet))
	case f.Wrote:
		return fmt.Sprintf("warning: this device has pushed changes, but the team server has shown nothing new from the team for %s: it may be showing this device a frozen view. Run `hush team verify` and compare the hash with a teammate", quietFor(f.Quiet))
	case f.Quiet > 0:
		return fmt.Sprintf("warning: the team server has shown nothing new for %s. If teammates have been making changes, the server may be withholding them: compare `hush team verify` with a teammate", quietFor(f.Quiet))
	}
	return ""
}

// quietFor says how long the team has been quiet: in days, or in hours
// (or less than an hour) for a fresh window shorter than a day.
func quietFor(d time.Duration) string {
	switch days := int(d.Hours() / 24); {
	case days > 1:
		return fmt.Sprintf("%d days", days)
	case days == 1:
		return "1 day"
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	case d >= time.Hour:
		return "an hour"
	}
	return "less than an hour"
}
