package client

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
)

// ErrRemoved means this device was removed from the team.
var ErrRemoved = errors.New("this device was removed from the team: it can no longer sync (its secrets stay in this vault)")

// Quiet is how long a client goes without any change from the server
// before it warns that the server may be withholding updates.
const Quiet = 14 * 24 * time.Hour

// syncLog fetches the membership log after what this device has verified,
// checks every entry (chain, signatures, rules) and that the log neither
// went backwards nor forked, and updates the verified membership.
func (st *State) syncLog(ctx context.Context, c *conn) error {
	m := st.Members
	if m == nil {
		m = wire.NewMembership(st.Team)
	}
	var lg wire.Log
	if err := c.do(ctx, "GET", "/v1/log?since="+strconv.FormatInt(m.Seq, 10), nil, &lg); err != nil {
		return err
	}
	if lg.Head < m.Seq {
		return &RollbackError{fmt.Sprintf("its membership log has %d entries, but this device has verified %d", lg.Head, m.Seq)}
	}
	if int64(len(lg.Entries)) != lg.Head-m.Seq {
		return fmt.Errorf("%w: the server sent %d entries after %d but says the log has %d", wire.ErrLogFork, len(lg.Entries), m.Seq, lg.Head)
	}
	// Work on a copy: a bad entry leaves the verified state as it was.
	next := cloneMembership(m)
	for i := range lg.Entries {
		e := &lg.Entries[i]
		if err := next.Apply(e); err != nil {
			return fmt.Errorf("%w: %v", wire.ErrLogFork, err)
		}
		if e.Seq == 1 && st.Genesis != nil && !bytes.Equal(next.Genesis, st.Genesis) {
			return errors.New("the team's membership log does not start where the invitation says: this server is not showing the team you were invited to")
		}
		if e.Seq == st.PinSeq && !bytes.Equal(next.Head, st.PinHead) {
			return errors.New("the team's membership log does not pass through the entry the invitation names: this server is showing a different history of the team")
		}
	}
	if next.Seq < st.PinSeq {
		return fmt.Errorf("%w: the invitation names log entry %d, but the server shows only %d", wire.ErrLogFork, st.PinSeq, next.Seq)
	}
	if st.Genesis == nil {
		st.Genesis = next.Genesis
	}
	if next.Seq > m.Seq {
		st.LastChange = st.now().UTC()
	}
	if next.EpochSeq != m.EpochSeq {
		st.EpochAt = st.now().UTC()
	}
	st.Members = next
	d, ok := next.Devices[st.Device.ID]
	switch {
	case !ok:
		return ErrPending
	case !d.Active:
		return ErrRemoved
	case d.ID == st.Device.ID && d.Expired(st.now()):
		return &MachineExpiredError{d.Name, d.Expires}
	}
	st.Role = d.Role
	return nil
}

func cloneMembership(m *wire.Membership) *wire.Membership { return m.Clone() }

// entry makes the next log entry of the given kind, signed by this device.
func (st *State) entry(kind string) *wire.LogEntry {
	e := &wire.LogEntry{Kind: kind, Team: st.Team, Time: time.Now().UTC().Truncate(time.Second)}
	if st.Members != nil {
		e.Seq, e.Prev = st.Members.Seq+1, st.Members.Head
	} else {
		e.Seq = 1
	}
	return e
}

func (st *State) sign(e *wire.LogEntry) { e.Sign(st.Device.ID, st.signer()) }

// appendLog sends an entry (with keys for a new epoch) and, once the
// server took it, applies it to the verified membership.
func (st *State) appendLog(ctx context.Context, c *conn, e *wire.LogEntry, keys []wire.WrappedKey) error {
	next := cloneMembership(st.Members)
	if err := next.Apply(e); err != nil {
		return err
	}
	if err := c.do(ctx, "POST", "/v1/log", wire.AppendLog{Entry: *e, Keys: keys}, nil); err != nil {
		return err
	}
	st.Members = next
	return nil
}

// admin is what every admin command starts with: the verified log, and a
// check that this device may change it.
func (t *Team) admin(ctx context.Context, what string) (*conn, error) {
	c, err := t.verifyLog(ctx)
	if err != nil {
		return nil, err
	}
	if t.st.Role != wire.RoleAdmin {
		return nil, errors.New("only an admin can " + what)
	}
	return c, nil
}

// FindMember resolves a member name or a device name to the active devices
// it means.
func (st *State) FindMember(name string) (member string, devices []*wire.LogDevice, err error) {
	if st.Members == nil {
		return "", nil, errors.New("sync first: this device has not seen the team's members yet")
	}
	for _, d := range st.Members.Devices {
		if d.Active && d.Member == name {
			devices = append(devices, d)
		}
	}
	if len(devices) > 0 {
		return name, devices, nil
	}
	for _, d := range st.Members.Devices {
		if d.Active && (d.Name == name || d.ID == name) {
			return d.Member, []*wire.LogDevice{d}, nil
		}
	}
	return "", nil, fmt.Errorf("no member or device named %q in the team (see `hush team members`)", name)
}

// RoleChange says what SetRole did besides the role entry.
type RoleChange struct {
	// Epoch is the root's new key epoch (0: none): the member can no
	// longer write it, or is made an admin from folder scopes only.
	Epoch int64
	// Scopes are the folders of the folder scopes that got a new epoch:
	// given to a new admin, lost by a former one, or one the member could
	// write and now only reads. Their secrets are marked to be sealed
	// again: the caller's next sync pushes them.
	Scopes []string
}

// SetRole changes a member's role (admin only). Whenever the member gains
// a scope it did not hold (an admin holds every one), or can no longer
// write one it could (it still holds the key: what it signs from now on,
// or backdates, must be refused), that scope gets a new key epoch.
func (t *Team) SetRole(ctx context.Context, name, role string) (*RoleChange, error) {
	st := t.st
	if !wire.ValidRole(role) {
		return nil, fmt.Errorf("role %q: use admin, writer or reader", role)
	}
	c, err := t.admin(ctx, "change the team")
	if err != nil {
		return nil, err
	}
	member, ds, err := st.FindMember(name)
	if err != nil {
		return nil, err
	}
	if ds[0].Role == role {
		return nil, fmt.Errorf("%s is already a %s", member, role)
	}
	held := map[string]bool{}
	for _, id := range st.Members.HeldScopes(ds[0].ID) {
		held[id] = true
	}
	before := st.Members.Seq
	e := st.entry(wire.LogRole)
	e.Member, e.Role = member, role
	st.sign(e)
	if err := st.appendLog(ctx, c, e, nil); err != nil {
		return nil, err
	}
	if err := t.save(); err != nil {
		return nil, err
	}
	ch := &RoleChange{}
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	rotated := map[string]bool{}
	rotate := func(ids []string, why string) error {
		for _, id := range ids {
			if err := t.rotateScope(ctx, c, id); err != nil {
				return fmt.Errorf("%s is now a %s, but the new key of %s%s failed: %w", member, role, folders[id], why, err)
			}
			rotated[id] = true
			ch.Scopes = append(ch.Scopes, folders[id])
		}
		return nil
	}
	// An admin holds every scope: each folder scope she did not hold gets
	// a new epoch, its key wrapped to every holder, her devices included
	// (a role entry carries no keys; attack20 H6), and its secrets go up
	// again sealed under it.
	if role == wire.RoleAdmin {
		if !held[""] {
			// The root too, for one who held only folder scopes (attack21 N2).
			if ch.Epoch, err = t.rotateEpoch(ctx, c); err != nil {
				return nil, fmt.Errorf("%s is now an admin, but the new team key, which gives it to them, failed: %w", member, err)
			}
		}
		var ids []string
		for id := range st.Members.Scopes {
			if !held[id] {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		if err := rotate(ids, ", which gives it to them,"); err != nil {
			return nil, err
		}
	}
	// An admin made something else keeps the folder scopes she holds by
	// a grant only: each other one she held as an admin gets a new epoch
	// without her, its secrets marked to be rotated and sealed again, as
	// an ungrant does (attack21 N3).
	if ds[0].Role == wire.RoleAdmin && role != wire.RoleAdmin {
		now := map[string]bool{}
		for _, id := range st.Members.HeldScopes(ds[0].ID) {
			now[id] = true
		}
		var lost []string
		for id := range held {
			if id != "" && !now[id] {
				lost = append(lost, id)
			}
		}
		slices.Sort(lost)
		if len(lost) > 0 {
			in := func(name string) bool { return slices.Contains(lost, wire.DeepestScope(folders, name)) }
			if _, err := t.v.Replica().MarkExposedWhere(in, fmt.Sprintf("%s is no longer an admin", member), time.Now()); err != nil {
				return nil, err
			}
			if err := rotate(lost, ""); err != nil {
				return nil, err
			}
		}
	}
	// A folder scope the member could write and now only reads (an admin
	// made a writer keeps a reader's grant; made a reader, every grant
	// reads): a new epoch, so that nothing she signs from now on, or
	// dates back to when she could write, passes (attack22 B1).
	if err := rotate(st.demotedScopes(member, before, rotated), ""); err != nil {
		return nil, err
	}
	if len(rotated) > 0 {
		in := func(name string) bool { return rotated[wire.DeepestScope(folders, name)] }
		if err := t.v.Replica().ResealWhere(in); err != nil {
			return nil, err
		}
	}
	// Who can no longer write the root still holds its key: a new epoch
	// makes anything they seal from now on (or backdate) refused.
	if wire.CanWrite(ds[0].Role) && !wire.CanWrite(role) && ch.Epoch == 0 {
		if ch.Epoch, err = t.rotateEpoch(ctx, c); err != nil {
			return nil, fmt.Errorf("%s is now a %s, but the new key epoch failed (run `hush team rotate`): %w", member, role, err)
		}
	}
	return ch, nil
}

// demotedScopes are the folder scopes (but those in skip) that member
// could write right after log entry before and can hold but not write now.
func (st *State) demotedScopes(member string, before int64, skip map[string]bool) []string {
	var ids []string
	for id := range st.Members.Scopes {
		if skip[id] {
			continue
		}
		was, had := st.Members.RoleOn(member, id, before)
		is, has := st.Members.RoleOn(member, id, st.Members.Seq)
		if had && has && wire.CanWrite(was) && !wire.CanWrite(is) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Removal says what Remove did.
type Removal struct {
	Member  string
	Devices []string // names
	Epoch   int64    // the new key epoch of the root (0: they did not hold it)
	Scopes  []string // the folders of the other scopes that got a new epoch
	Exposed int      // secrets marked for rotation now
	Due     int      // secrets they could read marked for rotation, now or before
}

// Remove takes a member (every device) or one device out of the team: the
// server stops serving it at once; then each scope the removed devices
// held gets a new key epoch, wrapped to its remaining holders, and its
// secrets are marked to be rotated and re-sealed at the next push. A
// holder of the root: a new team key epoch, and every secret is marked
// (as before scopes). A member who held only folder scopes (a scoped
// machine, a contractor): those scopes alone, so that retiring one CI
// token does not mark the whole team. The caller then syncs.
func (t *Team) Remove(ctx context.Context, name string) (*Removal, error) {
	st := t.st
	c, err := t.admin(ctx, "change the team")
	if err != nil {
		return nil, err
	}
	member, ds, err := st.FindMember(name)
	if err != nil {
		return nil, err
	}
	rm := &Removal{Member: member}
	// The scopes they held each get a new epoch after (a device holds
	// what its member holds).
	held := st.Members.ScopesOf(member, st.Members.Seq)
	_, root := held[""]
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	e := st.entry(wire.LogRemove)
	if len(ds) == 1 && ds[0].Member != name {
		e.Target = ds[0].ID // one device of a member
	} else {
		e.Member = member
	}
	for _, d := range ds {
		if d.ID == st.Device.ID {
			return nil, errors.New("this device cannot remove itself; ask another admin")
		}
		rm.Devices = append(rm.Devices, d.Name)
	}
	st.sign(e)
	if err := st.appendLog(ctx, c, e, nil); err != nil {
		return nil, err
	}
	// Invitations this device made and that were not used yet are void:
	// the removed member might hold one.
	st.Invites = map[string]InviteKey{}
	if err := t.save(); err != nil {
		return nil, err
	}
	// Marked before the new epoch, so that a failure there cannot leave
	// what they could read unmarked.
	reason := fmt.Sprintf("%s left the team", member)
	if e.Target != "" {
		reason = fmt.Sprintf("device %s of %s left the team", ds[0].Name, member)
	}
	in := func(name string) bool { _, ok := held[wire.DeepestScope(folders, name)]; return ok }
	if root {
		rm.Exposed, err = t.v.Replica().MarkExposed(reason, time.Now())
	} else {
		rm.Exposed, err = t.v.Replica().MarkExposedWhere(in, reason, time.Now())
	}
	if err != nil {
		return rm, err
	}
	// Some may have been marked before (an earlier ungrant, removal):
	// "0 marked" alone would read as nothing to rotate (attack18 F5).
	due := in
	if root {
		due = nil
	}
	if rm.Due, err = t.dueWhere(due); err != nil {
		return rm, err
	}
	if root {
		if rm.Epoch, err = t.rotateEpoch(ctx, c); err != nil {
			return rm, fmt.Errorf("removed, but the new key epoch failed (run `hush team rotate`): %w", err)
		}
	}
	ids := slices.Sorted(maps.Keys(held))
	for _, id := range ids {
		if id == "" {
			continue
		}
		if err := t.rotateScope(ctx, c, id); err != nil {
			return rm, fmt.Errorf("removed, but the new key of one of their scopes failed: %w", err)
		}
		rm.Scopes = append(rm.Scopes, folders[id])
	}
	slices.Sort(rm.Scopes)
	if !root {
		// Their scopes' secrets go up again, sealed under the new keys.
		return rm, t.v.Replica().ResealWhere(in)
	}
	return rm, nil
}

// Rotate starts a new key epoch without removing anyone.
func (t *Team) Rotate(ctx context.Context) (int64, error) {
	c, err := t.admin(ctx, "change the team")
	if err != nil {
		return 0, err
	}
	return t.rotateEpoch(ctx, c)
}

func (t *Team) rotateEpoch(ctx context.Context, c *conn) (int64, error) {
	st := t.st
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		return 0, err
	}
	e := st.entry(wire.LogEpoch)
	e.Epoch = st.Members.Epoch + 1
	st.sign(e)
	var keys []wire.WrappedKey
	for _, d := range st.Members.Devices {
		if !d.Active || !st.Members.Holds(d.ID, "") {
			continue // the root's key goes to the root's holders
		}
		wk, err := st.wrapKeyFor(&d.Device, e.Epoch, key)
		if err != nil {
			return 0, err
		}
		keys = append(keys, *wk)
	}
	if err := st.appendLog(ctx, c, e, keys); err != nil {
		return 0, err
	}
	// Only the new epoch's key is the team key: records sealed under an
	// old one are no longer accepted from anyone, except, by this device,
	// those written under the one before it before it ended (PrevKey).
	st.beginEpoch(e.Epoch, key)
	if err := t.save(); err != nil {
		return 0, err
	}
	// Every secret goes up again, sealed under the new key, at the next push.
	return e.Epoch, t.v.Replica().Reseal()
}

// Fingerprint is the team's identity (the hash of its log's first entry)
// and the log position this device has verified, to compare out of band.
type Fingerprint struct {
	Team    string
	Genesis string
	Seq     int64
	Head    string
	// ChainPos and ChainHead: the change chain's position and hash this
	// device verified (its last sync).
	ChainPos  int64
	ChainHead string
	// Hash is one hash over the membership log's head and the chain's:
	// two devices synced to the same point that show different hashes
	// are shown different histories (a fork).
	Hash    string
	Offline bool // the server was unreachable: this is what was verified last
	// Refused is why the server's answer was refused (a lie, an error):
	// the rest is what this device verified last, still worth comparing,
	// since the server checked must not decide whether the check runs.
	Refused error
}

// verifyHash is Fingerprint.Hash.
func (st *State) verifyHash() []byte {
	h := sha256.Sum256(crypto.AD("hush/v2/team-verify", st.Team, st.Members.Seq, st.Members.Head, st.Chain.Pos, st.Chain.PrevHash()))
	return h[:]
}

// Verify syncs the membership log and returns what to compare.
func (t *Team) Verify(ctx context.Context) (*Fingerprint, error) {
	st := t.st
	offline := false
	var refused error
	if _, err := t.verifyLog(ctx); errors.Is(err, ErrOffline) && st.Members != nil {
		offline = true // what this device verified last is still worth comparing
	} else if err != nil && !errors.Is(err, ErrPending) {
		if st.Members == nil {
			return nil, err
		}
		refused = err
	}
	if st.Members == nil {
		return nil, errors.New("this device has not verified the team's membership log yet: sync first")
	}
	if refused == nil {
		if err := t.save(); err != nil {
			return nil, err
		}
	}
	return &Fingerprint{Team: st.Team, Genesis: short(st.Members.Genesis), Seq: st.Members.Seq, Head: short(st.Members.Head),
		ChainPos: st.Chain.Pos, ChainHead: short(st.Chain.PrevHash()), Hash: short(st.verifyHash()), Offline: offline, Refused: refused}, nil
}

// short prints a hash as groups of hex, like an SSH fingerprint.
func short(h []byte) string {
	s := hex.EncodeToString(h)
	out := ""
	for i := 0; i < len(s) && i < 32; i += 4 {
		if i > 0 {
			out += " "
		}
		out += s[i : i+4]
	}
	return out
}

// AuditEvent is a server audit line with names instead of ids where this
// device can tell them.
type AuditEvent struct {
	wire.AuditEvent
	DeviceName, Member string
	Names              []string
}

// Audit fetches the server's audit log since a time (admin only).
func (t *Team) Audit(ctx context.Context, since time.Time) ([]AuditEvent, error) {
	st, v := t.st, t.v
	c, err := t.admin(ctx, "see the team's audit log")
	if err != nil {
		return nil, err
	}
	var evs []wire.AuditEvent
	if err := c.do(ctx, "GET", "/v1/audit?since="+strconv.FormatInt(since.Unix(), 10), nil, &evs); err != nil {
		return nil, err
	}
	names := map[string]string{}
	ts, err := v.Replica().Tracked()
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if !t.Exists {
			continue
		}
		if sec, err := v.Replica().ByID(t.ID); err == nil {
			clear(sec.Value)
			names[hex.EncodeToString(t.ID)] = sec.Name
		}
	}
	out := make([]AuditEvent, 0, len(evs))
	for _, e := range evs {
		a := AuditEvent{AuditEvent: e, DeviceName: e.Device, Member: "?"}
		if d, ok := st.Members.Devices[e.Device]; ok {
			a.DeviceName, a.Member = d.Name, d.Member
		}
		for _, id := range e.Records {
			if n, ok := names[id]; ok {
				a.Names = append(a.Names, n)
			} else if d, ok := st.Members.Devices[id]; ok {
				a.Names = append(a.Names, "device "+d.Name)
			} else {
				a.Names = append(a.Names, id)
			}
		}
		out = append(out, a)
	}
	return out, nil
}
