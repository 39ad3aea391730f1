package client

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// MachineExpiredError says that a machine's access ended: its own client
// (the token's holder) stops with it.
type MachineExpiredError struct {
	Name    string
	Expires time.Time
}

func (e *MachineExpiredError) Error() string {
	return fmt.Sprintf("machine %s's access to the team expired on %s: ask an admin for a new token", e.Name, e.Expires.UTC().Format("2006-01-02 15:04 UTC"))
}

func (e *MachineExpiredError) Unwrap() error { return wire.ErrMachineExpired }

// expiredAuthorError: a record signed by a machine whose access has ended
// (by this device's clock). It is skipped like a record of an old key
// epoch: applied by nobody, and it does not stop the sync. The check uses
// this device's clock, so a record a writer machine pushed just before it
// expired and that this device pulls after is skipped too; on a chained
// team the record's entry carries the author's signed time, which could
// tell them apart (not wired yet).
type expiredAuthorError struct {
	StaleRecordError
	name string
}

func (e *expiredAuthorError) Error() string {
	return fmt.Sprintf("record %s: written by machine %s, whose access has expired", e.ID, e.name)
}

func (e *expiredAuthorError) Unwrap() error { return &e.StaleRecordError }

// InviteMachine adds a machine to the team (admin only) and returns its
// token, which holds the machine's private keys: show it once. This
// device makes the machine's key pairs, registers a single-use invitation
// and the machine's join with them, and approves it at once with a
// machine entry of the membership log (role reader or writer, access until
// now+life) and the team key wrapped to the machine: no code goes
// anywhere, since no other party made a key.
func (t *Team) InviteMachine(ctx context.Context, name, role string, life time.Duration) (*Token, error) {
	return t.InviteMachineScoped(ctx, name, role, life, nil)
}

// InviteMachineScoped is InviteMachine for a machine that holds only the
// folder scopes given (none: the root, like every member), with its role:
// each folder that is not a scope yet becomes one first (held by the
// holders of the scope it is carved out of), and the machine gets the
// keys of its scopes and not the team key.
func (t *Team) InviteMachineScoped(ctx context.Context, name, role string, life time.Duration, folders []string) (*Token, error) {
	st := t.st
	if role != wire.RoleReader && role != wire.RoleWriter {
		return nil, fmt.Errorf("a machine is a reader or a writer, not %q", role)
	}
	if life <= 0 || life > wire.MaxMachineLife {
		return nil, fmt.Errorf("a machine's access lasts up to %d days", int(wire.MaxMachineLife.Hours()/24))
	}
	c, err := t.admin(ctx, "add a machine")
	if err != nil {
		return nil, err
	}
	if _, _, err := st.FindMember(name); err == nil {
		return nil, fmt.Errorf("%q is already a member or a device of the team: a machine needs a name of its own", name)
	}
	_, ok := st.Keys[st.Members.Epoch]
	if !ok || st.Epoch != st.Members.Epoch {
		return nil, errors.New("this device does not hold the team's current key: run `hush sync` first")
	}
	// A token reads the team's change chain only (OpenToken): a server's
	// word that the chain has not started cannot send it back to v1,
	// where the server alone says what exists.
	if !st.Chained {
		return nil, errors.New("this team's changes are not a signed chain yet: run `hush sync` first (an admin's sync starts it)")
	}
	var scopes, clean []string
	for _, f := range folders {
		f, err := cleanScopeFolder(f, false)
		if err != nil {
			return nil, err
		}
		if f == "" {
			return nil, scopeErr("a machine with scopes does not hold the root: name folders (or no --scope for the whole team)")
		}
		if slices.Contains(clean, f) {
			continue
		}
		id, err := t.makeScope(ctx, c, f)
		if err != nil {
			return nil, err
		}
		scopes, clean = append(scopes, id), append(clean, f)
	}
	ms, err := newIdentity(name, name)
	if err != nil {
		return nil, err
	}
	ms.Server, ms.CA, ms.Team = st.Server, st.CA, st.Team
	secret, err := crypto.Random(32)
	if err != nil {
		return nil, err
	}
	defer crypto.Wipe(secret)
	// The invitation lives minutes and is never kept in this device's
	// state: if this command stops half way, no later sync approves the
	// machine as an ordinary member.
	inv := wire.Invite{ID: wire.NewID(), Role: role, Expires: time.Now().Add(10 * time.Minute).UTC().Truncate(time.Second)}
	if err := c.do(ctx, "POST", "/v1/invites", inv, nil); err != nil {
		return nil, err
	}
	mc, err := ms.conn()
	if err != nil {
		return nil, err
	}
	j := wire.Join{Team: st.Team, Invite: inv.ID, Device: ms.Device, Binding: binding(secret, st.Team, inv.ID, &ms.Device)}
	if err := mc.do(ctx, "POST", "/v1/join", j, nil); err != nil {
		return nil, err
	}
	e := st.entry(wire.LogMachine)
	d := ms.Device
	e.Device, e.Role, e.Expires, e.Scopes = &d, role, e.Time.Add(life).Truncate(time.Second), scopes
	st.sign(e)
	next := cloneMembership(st.Members)
	if err := next.Apply(e); err != nil {
		return nil, err
	}
	// The root's key, or the key of each of its scopes.
	wks, err := st.wrapHeld(next, &ms.Device)
	if err != nil {
		return nil, err
	}
	if err := c.do(ctx, "POST", "/v1/joins/approve", wire.Approve{Invite: inv.ID, Device: d.ID, Key: wks[0], Keys: wks[1:], Entry: *e}, nil); err != nil {
		return nil, err
	}
	st.Members = next
	if err := t.save(); err != nil {
		return nil, err
	}
	return &Token{Server: st.Server, CA: st.CA, Team: st.Team, TeamName: st.TeamName, Device: d.ID, Name: name,
		SignSeed: ms.SignSeed, Box: ms.BoxIdentity, Genesis: st.Genesis, PinSeq: next.Seq, PinHead: next.Head, Expires: e.Expires,
		Scopes: clean}, nil
}

// OpenToken is the team of a machine token, held in v: a vault of its
// own (an in-memory one: vault.CreateMemory) that is not in a team. Its
// Sync fetches and verifies the membership log from the token's pins,
// fetches the team key and pulls every record, with every check of an
// ordinary device's sync.
func OpenToken(v *vault.Vault, tok *Token) (*Team, error) {
	if InTeam(v) {
		return nil, errors.New("this vault is already shared with a team")
	}
	st, err := tok.state()
	if err != nil {
		return nil, err
	}
	st.Chained = true // InviteMachineScoped makes tokens of chained teams only
	return &Team{v: v, st: st, token: true}, nil
}

// Machines is the team's machines whose access ends before now+within,
// soonest first (already expired ones included), from the verified log
// this device holds.
func (st *State) Machines(now time.Time, within time.Duration) []*wire.LogDevice {
	var out []*wire.LogDevice
	if st.Members == nil {
		return nil
	}
	for _, d := range st.Members.Devices {
		if d.Active && d.Machine && d.Expires.Before(now.Add(within)) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b *wire.LogDevice) int { return a.Expires.Compare(b.Expires) })
	return out
}

// MachineWrite is a writer machine's version of a record, as this device
// applied it.
type MachineWrite struct {
	Device  string `json:"device"`
	Version int64  `json:"version"`
}

// vouchWithin is how long before a writer machine's access ends an
// admin's device vouches for the records it wrote last.
const vouchWithin = 7 * 24 * time.Hour

// noteWriter remembers, on an admin's device (the one that vouches),
// whether r, just applied, was written by a writer machine (a removal is
// nobody's to vouch for). Other devices keep no such list: it would grow
// with every record a machine writes.
func (st *State) noteWriter(r *wire.Record, removed bool) {
	if st.Role != wire.RoleAdmin {
		return
	}
	d := st.memberDevice(r.Author)
	if d == nil || !d.Machine || removed {
		delete(st.MachineWrites, r.ID)
		return
	}
	if st.MachineWrites == nil {
		st.MachineWrites = map[string]MachineWrite{}
	}
	st.MachineWrites[r.ID] = MachineWrite{Device: r.Author, Version: r.Version}
}

// vouchMachineWrites: on an admin's device, each secret whose newest
// version a writer machine wrote, when the machine's access ends within
// vouchWithin or has ended, goes up again as a new version sealed and
// signed by this device, with the content this device applied (checked
// then, while the machine could write). A device that reads it after the
// machine's expiry skips a record signed by the machine, since it cannot
// tell what the machine signed before from what its key signs after; the
// admin's version it takes (attack22 E1: a CI writer token expiring on
// schedule made every deploy token lose every secret the job had set).
// Only a copy in step with the server is vouched for: a local change or a
// conflict is the person's to settle.
func (s *syncer) vouchMachineWrites() error {
	st := s.st
	if st.Role != wire.RoleAdmin || len(st.MachineWrites) == 0 || st.Members == nil {
		return nil
	}
	horizon := st.now().Add(vouchWithin)
	var ids [][]byte
	for id, w := range st.MachineWrites {
		d := st.Members.Devices[w.Device]
		if d == nil || !d.Machine || d.Expires.IsZero() || d.Expires.After(horizon) {
			continue
		}
		raw, err := hex.DecodeString(id)
		if err != nil {
			delete(st.MachineWrites, id)
			continue
		}
		ids = append(ids, raw)
	}
	if len(ids) == 0 {
		return nil
	}
	ts, err := s.v.TrackedByID(ids)
	if err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range ts {
		t := &ts[i]
		id := hex.EncodeToString(t.ID)
		w := st.MachineWrites[id]
		delete(st.MachineWrites, id)
		if !t.Exists || t.Deleted || t.Dirty() || t.Mark == nil || t.Mark.Theirs != nil || t.Mark.Base != w.Version {
			continue
		}
		sec, err := s.v.ByID(t.ID)
		if err != nil {
			return err
		}
		clear(sec.Value)
		names[sec.Name] = true
	}
	if len(names) == 0 {
		return nil
	}
	if err := s.v.ResealWhere(func(name string) bool { return names[name] }); err != nil {
		return err
	}
	s.rep.Vouched += len(names)
	return nil
}
