package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

func signRecord(st *State, r *wire.Record) []byte {
	return crypto.SignEd25519(st.SignSeed, wire.RecordSigned(st.Team, r))
}

func verifyRecord(st *State, key []byte, r *wire.Record) bool {
	return len(key) == ed25519.PublicKeySize && crypto.VerifyEd25519(key, wire.RecordSigned(st.Team, r), r.Sig)
}

// CreateOptions name a new team and this device.
type CreateOptions struct {
	Server, Name, Device, Member string
	CA                           []byte
	// legacy: a team whose changes are not a chain (a v1 team, as a hush
	// before the change chain made it; tests of migration).
	legacy bool
}

// Create registers a new team on a server with this vault's device as its
// first admin, and makes a fresh team key (epoch 1). The vault's secrets
// are pushed by the next Sync.
func Create(ctx context.Context, v *vault.Vault, o CreateOptions) (*State, error) {
	if InTeam(v) {
		return nil, errors.New("this vault is already shared with a team")
	}
	if o.Name == "" || len(o.Name) > 64 {
		return nil, errors.New("a team needs a name of 1 to 64 characters (--name)")
	}
	st, err := newIdentity(o.Device, o.Member)
	if err != nil {
		return nil, err
	}
	if _, err := CheckServerURL(o.Server); err != nil {
		return nil, err
	}
	st.Server, st.CA, st.Team, st.TeamName, st.Role, st.Epoch = o.Server, o.CA, wire.NewID(), o.Name, wire.RoleAdmin, 1
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		return nil, err
	}
	st.Keys[1] = key
	// A team made by this hush has its names key (folder scopes) from
	// the start; an older team gets one at its first grant.
	if st.NamesKey, err = crypto.Random(crypto.KeySize); err != nil {
		return nil, err
	}
	c, err := st.conn()
	if err != nil {
		return nil, err
	}
	e := st.entry(wire.LogCreate)
	e.Name, e.Device, e.Role = o.Name, &st.Device, wire.RoleAdmin
	st.sign(e)
	m := wire.NewMembership(st.Team)
	if err := m.Apply(e); err != nil {
		return nil, err
	}
	// A team made by this hush is a chain from the start.
	if err := c.do(ctx, "POST", "/v1/teams", wire.CreateTeam{Team: st.Team, Name: o.Name, Device: st.Device, Log: *e, Chain: !o.legacy}, nil); err != nil {
		return nil, err
	}
	st.Chained = !o.legacy
	st.Members, st.Genesis, st.LastChange = m, m.Genesis, time.Now().UTC()
	return st, saveNew(ctx, v, st)
}

// saveNew writes the state of a team this vault just created or joined,
// under the sync lock.
func saveNew(ctx context.Context, v *vault.Vault, st *State) error {
	unlock, err := lockSync(ctx, v.Path())
	if err != nil {
		return err
	}
	defer unlock()
	if InTeam(v) {
		return errors.New("this vault is already shared with a team")
	}
	return st.save(v)
}

// Invite is an invitation code's content.
type Invite struct {
	Server string `json:"s"`
	Team   string `json:"t"`
	ID     string `json:"i"`
	Secret []byte `json:"k"`
	Name   string `json:"n,omitempty"` // the team's name, for display
	Log    []byte `json:"l"`           // the hash of the team's first log entry: pins the team
	// The log's head when the invitation was made: the joiner accepts only
	// a log that passes through it (no fork cut before a removal).
	HeadSeq int64  `json:"q"`
	Head    []byte `json:"h"`
	// Member, when set: the invitation is for another device of this member.
	Member string `json:"u,omitempty"`
	// Chain: the team's changes are a signed chain (sync v2): the joiner
	// never syncs with v1, whatever the server says.
	Chain bool `json:"c,omitempty"`
}

const invitePrefix = "hush-invite-1."

// String is the one-line code to hand over out of band.
func (i *Invite) String() string {
	b, _ := json.Marshal(i)
	return invitePrefix + base64.RawURLEncoding.EncodeToString(b)
}

// ParseInvite reads an invitation code.
func ParseInvite(code string) (*Invite, error) {
	code = strings.TrimSpace(code)
	bad := errors.New("this is not a hush invitation code (it starts with " + invitePrefix + ")")
	if !strings.HasPrefix(code, invitePrefix) || len(code) > 2048 {
		return nil, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(code[len(invitePrefix):])
	if err != nil {
		return nil, bad
	}
	var i Invite
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&i); err != nil || dec.More() || !wire.ValidID(i.Team) || !wire.ValidID(i.ID) || len(i.Secret) != 32 || len(i.Log) != 32 || i.HeadSeq < 1 || len(i.Head) != 32 ||
		len(i.Name) > 64 || strings.ContainsFunc(i.Name, unicode.IsControl) ||
		len(i.Member) > 64 || strings.ContainsFunc(i.Member, unicode.IsControl) {
		return nil, errors.New("the invitation code is damaged: copy it again, whole")
	}
	if _, err := CheckServerURL(i.Server); err != nil {
		return nil, err
	}
	return &i, nil
}

// Invite registers a single-use invitation for role on the server and
// returns its code; the secret in the code never goes to the server. With
// member set, the invitation is for another device of that existing
// member: only a joiner under that member name is approved, and only with
// the member's role. An invitation without a member admits only a new
// member name: nobody can join as somebody else.
func (t *Team) Invite(ctx context.Context, role, member string, ttl time.Duration) (*Invite, error) {
	return t.InviteScoped(ctx, role, member, ttl, nil)
}

// InviteScoped is Invite for a new member who holds only the given folder
// scopes (none: the root, like every member), with role: each folder that
// is not a scope yet becomes one now, and the approval gives the member
// their keys and not the team key.
func (t *Team) InviteScoped(ctx context.Context, role, member string, ttl time.Duration, folders []string) (*Invite, error) {
	st := t.st
	if !wire.ValidRole(role) {
		return nil, fmt.Errorf("role %q: use admin, writer or reader", role)
	}
	if st.Role != wire.RoleAdmin {
		return nil, errors.New("only an admin can invite")
	}
	secret, err := crypto.Random(32)
	if err != nil {
		return nil, err
	}
	if st.Genesis == nil {
		return nil, errors.New("sync first: this device has not verified the team's membership log")
	}
	c, err := t.verifyLog(ctx)
	if err != nil {
		return nil, err
	}
	if member != "" {
		if _, ds, err := st.FindMember(member); err != nil || ds[0].Member != member {
			return nil, fmt.Errorf("no member named %q in the team (see `hush team members`)", member)
		} else if ds[0].Machine {
			return nil, fmt.Errorf("%s is a machine: it has one device, made with it (`hush team invite --machine` makes a new machine)", member)
		} else {
			role = ds[0].Role // another device of a member has the member's role
		}
	}
	var scopes []string
	if len(folders) > 0 {
		if member != "" || role == wire.RoleAdmin {
			return nil, scopeErr("only a new member who is not an admin starts with scopes (--scope)")
		}
		for _, f := range folders {
			f, err := cleanScopeFolder(f, false)
			if err != nil {
				return nil, err
			}
			if f == "" {
				return nil, scopeErr("a member invited with scopes does not hold the root: name folders (or no --scope for the whole team)")
			}
			id, err := t.makeScope(ctx, c, f)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(scopes, id) {
				scopes = append(scopes, id)
			}
		}
	}
	inv := &Invite{Server: st.Server, Team: st.Team, ID: wire.NewID(), Secret: secret, Name: st.TeamName, Log: st.Genesis,
		HeadSeq: st.Members.Seq, Head: st.Members.Head, Member: member, Chain: st.Chained}
	expires := time.Now().Add(ttl).UTC().Truncate(time.Second)
	if err := c.do(ctx, "POST", "/v1/invites", wire.Invite{ID: inv.ID, Role: role, Expires: expires}, nil); err != nil {
		return nil, err
	}
	if st.Invites == nil {
		st.Invites = map[string]InviteKey{}
	}
	st.Invites[inv.ID] = InviteKey{Secret: secret, Role: role, Expires: expires, Member: member, Scopes: scopes}
	return inv, t.save()
}

func binding(secret []byte, team, invite string, d *wire.Device) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(wire.JoinBinding(team, invite, d))
	return m.Sum(nil)
}

// JoinOptions name this device.
type JoinOptions struct {
	Device, Member string
	CA             []byte
}

// Join registers this device with the team of an invite, bound to the
// invite's secret, and stores the team state in v (a new, empty vault).
// The team key arrives with a later Sync, once an admin approved.
func Join(ctx context.Context, v *vault.Vault, inv *Invite, o JoinOptions) (*State, error) {
	if InTeam(v) {
		return nil, errors.New("this vault is already shared with a team")
	}
	st, err := newIdentity(o.Device, o.Member)
	if err != nil {
		return nil, err
	}
	st.Server, st.CA, st.Team, st.TeamName, st.Genesis = inv.Server, o.CA, inv.Team, inv.Name, inv.Log
	st.PinSeq, st.PinHead, st.Chained = inv.HeadSeq, inv.Head, inv.Chain
	c, err := st.conn()
	if err != nil {
		return nil, err
	}
	j := wire.Join{Team: inv.Team, Invite: inv.ID, Device: st.Device, Binding: binding(inv.Secret, inv.Team, inv.ID, &st.Device)}
	if err := c.do(ctx, "POST", "/v1/join", j, nil); err != nil {
		return nil, err
	}
	return st, saveNew(ctx, v, st)
}

// Member is a device of the team as the verified log has it, with what
// the server says of its activity.
type Member struct {
	wire.LogDevice
	Joined, LastSeen time.Time
	Pending          bool // joined, not yet approved
	// Scopes are the member's scopes and roles on each, root ("/") first
	// then by folder, when the team has folder scopes (nil otherwise).
	Scopes []ScopeRole
}

// Members lists the team's devices: keys and roles from the verified
// membership log, dates from the server. A pending device is listed only
// when this device can vouch for it: an admin's own invitation, whose
// binding the join carries (the server's word alone adds nobody).
func (t *Team) Members(ctx context.Context) ([]Member, error) {
	st := t.st
	c, err := t.verifyLog(ctx)
	if err != nil {
		return nil, err
	}
	if err := t.save(); err != nil {
		return nil, err
	}
	var ms []wire.Member
	if err := c.do(ctx, "GET", "/v1/members", nil, &ms); err != nil {
		return nil, err
	}
	vouched := map[string]Member{}
	if st.Role == wire.RoleAdmin && len(st.Invites) > 0 {
		var pending []wire.PendingJoin
		if err := c.do(ctx, "GET", "/v1/joins", nil, &pending); err != nil {
			return nil, err
		}
		for i := range pending {
			if ik, ok := st.bound(&pending[i]); ok {
				vouched[pending[i].Device.ID] = Member{LogDevice: wire.LogDevice{Device: pending[i].Device, Role: ik.Role}, Pending: true}
			}
		}
	}
	var out []Member
	for _, sm := range ms {
		d, ok := st.Members.Devices[sm.ID]
		switch {
		case ok && bytes.Equal(d.SignKey, sm.SignKey):
			out = append(out, Member{LogDevice: *d, Joined: sm.Joined, LastSeen: sm.LastSeen})
		case !ok && sm.State == "pending":
			if m, ok := vouched[sm.ID]; ok && bytes.Equal(m.SignKey, sm.SignKey) {
				m.Joined = sm.Joined
				out = append(out, m)
			}
		}
		// Anything else the server lists is not in the signed log, nor a
		// join this device invited: not shown.
	}
	if err := st.withMemberScopes(out); err != nil {
		return nil, err
	}
	return out, nil
}

// bound reports whether a pending join answers one of this device's
// live invitations: its keys well formed, the invitation's role, and the
// binding made with the invitation's secret.
func (st *State) bound(p *wire.PendingJoin) (InviteKey, bool) {
	ik, ok := st.Invites[p.Invite]
	return ik, ok && !time.Now().After(ik.Expires) && p.Device.Check() == nil && p.Role == ik.Role &&
		hmac.Equal(p.Binding, binding(ik.Secret, st.Team, p.Invite, &p.Device))
}

// Approval is what an admin's client did with one pending join.
type Approval struct {
	Device, Member, Role string
	Refused              string // why it was not approved; empty when approved
}

// Approve checks every pending join against the invites this device made
// and wraps the team key to those whose binding checks out. Joins made
// with another admin's invite are left for that admin.
func (t *Team) Approve(ctx context.Context) ([]Approval, error) {
	if _, err := t.verifyLog(ctx); err != nil {
		return nil, err
	}
	as, err := t.approve(ctx)
	if t.owed {
		if serr := t.save(); err == nil {
			err = serr
		}
	}
	return as, err
}

// approve is Approve on a membership log verified by this Team (Sync has
// just fetched it). It writes nothing: what it changed is owed.
func (t *Team) approve(ctx context.Context) ([]Approval, error) {
	st := t.st
	c, err := t.verifyLog(ctx)
	if err != nil {
		return nil, err
	}
	if st.Role != wire.RoleAdmin {
		return nil, nil
	}
	var pending []wire.PendingJoin
	if err := c.do(ctx, "GET", "/v1/joins", nil, &pending); err != nil {
		return nil, err
	}
	var out []Approval
	for _, p := range pending {
		ik, ok := st.Invites[p.Invite]
		if !ok {
			// Another admin's invitation, left for them; unless the join is
			// bound to one of ours under another id: the server changed it.
			for id, ik := range st.Invites {
				if hmac.Equal(p.Binding, binding(ik.Secret, st.Team, id, &p.Device)) {
					out = append(out, Approval{Device: p.Device.Name, Member: p.Device.Member, Role: ik.Role,
						Refused: "the server changed the invitation it names: compare with them, and invite again"})
					break
				}
			}
			continue
		}
		a := Approval{Device: p.Device.Name, Member: p.Device.Member, Role: ik.Role}
		turnAway := false
		switch {
		case time.Now().After(ik.Expires):
			a.Refused = "its invitation had expired"
		case p.Device.Check() != nil:
			a.Refused = "its public keys are malformed"
		case p.Role != ik.Role:
			a.Refused = fmt.Sprintf("the server says role %s, the invite was for %s", p.Role, ik.Role)
		case !hmac.Equal(p.Binding, binding(ik.Secret, st.Team, p.Invite, &p.Device)):
			a.Refused = "its keys do not match the invite's secret: the server or someone else changed them"
		case ik.Member != "" && p.Device.Member != ik.Member:
			turnAway = true
			a.Refused = fmt.Sprintf("the invitation was for a device of %s, not of %s", ik.Member, p.Device.Member)
		default:
			for _, d := range st.Members.Devices {
				if !d.Active || d.Member != p.Device.Member {
					continue
				}
				turnAway = true
				switch {
				case ik.Member == "":
					a.Refused = fmt.Sprintf("member %s is already in the team: to add a device of theirs, invite with --member %s", d.Member, d.Member)
				case d.Role != ik.Role:
					a.Refused = fmt.Sprintf("member %s is in the team as %s, and the invitation was for %s: invite again with --role %s", d.Member, d.Role, ik.Role, d.Role)
				default:
					turnAway = false
				}
				break
			}
		}
		if a.Refused == "" {
			e := st.entry(wire.LogAdd)
			d := p.Device
			e.Device, e.Role, e.Scopes = &d, ik.Role, ik.Scopes
			st.sign(e)
			next := cloneMembership(st.Members)
			if err := next.Apply(e); err != nil {
				a.Refused, turnAway = err.Error(), true
			} else if wks, err := st.wrapHeld(next, &p.Device); err != nil {
				// One bad join must not stop every later sync.
				a.Refused = "its key cannot be used: " + err.Error()
				out = append(out, a)
				delete(st.Invites, p.Invite)
				t.owed = true
				continue
			} else if err := c.do(ctx, "POST", "/v1/joins/approve", wire.Approve{Invite: p.Invite, Device: p.Device.ID, Key: wks[0], Keys: wks[1:], Entry: *e}, nil); err != nil {
				return out, err
			} else {
				st.Members = next
			}
		}
		if turnAway {
			// An honest join that cannot be approved as it stands: turned
			// away, the device stops waiting (its next sync is told the
			// server does not know it). Not done for a join the server may
			// have changed: that joiner's own data is not what was shown.
			_ = c.do(ctx, "POST", "/v1/joins/refuse", wire.Refuse{Device: p.Device.ID}, nil)
		}
		// An invite is single use: approved or refused, it is spent.
		delete(st.Invites, p.Invite)
		t.owed = true
		out = append(out, a)
	}
	for id, ik := range st.Invites {
		if time.Now().After(ik.Expires) {
			delete(st.Invites, id)
			t.owed = true
		}
	}
	return out, nil
}

func (st *State) wrapKeyFor(d *wire.Device, epoch int64, key []byte) (*wire.WrappedKey, error) {
	return st.wrapScopeKeyFor(d, "", epoch, key)
}

// wrapScopeKeyFor wraps a scope's key (the root's for "") to a device,
// with the team's names key.
func (st *State) wrapScopeKeyFor(d *wire.Device, scope string, epoch int64, key []byte) (*wire.WrappedKey, error) {
	rcp, err := age.ParseX25519Recipient(d.Box)
	if err != nil {
		return nil, err
	}
	grant, err := json.Marshal(wire.KeyGrant{Team: st.Team, Device: d.ID, Scope: scope, Epoch: epoch, Key: key, Names: st.NamesKey})
	if err != nil {
		return nil, err
	}
	defer crypto.Wipe(grant)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcp)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(grant); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	wk := &wire.WrappedKey{Device: d.ID, Scope: scope, Epoch: epoch, Sealed: buf.Bytes(), Signer: st.Device.ID}
	wk.Sig = crypto.SignEd25519(st.SignSeed, wire.WrappedKeySigned(st.Team, wk))
	return wk, nil
}

// keySigner is the device of the verified log that signed a key of scope
// id (the root's for "") whose current epoch began at log entry from, if
// it was an admin at some point since (nil if not). late: it is no longer
// one, and this device did not hold the scope yet right after the last
// entry at which it was: it could not have wrapped that key for this
// device as an admin. An admin made a writer keeps the epoch's keys, and
// the keys she wrapped while an admin stay good (attack22 C2); one she
// wraps after, for a device added or granted the scope since, is no key
// the team gave it: it may be one of her making, which only she holds.
func (st *State) keySigner(signer, id string, from int64) (d *wire.LogDevice, late bool) {
	m := st.Members
	d, ok := m.Devices[signer]
	if !ok {
		return nil, false
	}
	until := d.AdminUntil(from)
	if until == 0 {
		return nil, false
	}
	return d, until < m.Seq && !m.HeldAt(st.Device.ID, id, until)
}

// fetchKey gets this device's newest wrapped team key and checks, against
// the verified membership log, that an admin of the team signed it for
// this device and the team's current epoch; then unwraps it. Keys of
// older epochs are dropped.
func (st *State) fetchKey(ctx context.Context, c *conn) error {
	var wk wire.WrappedKey
	if err := c.do(ctx, "GET", "/v1/key", nil, &wk); err != nil {
		var se *ServerError
		if errors.As(err, &se) && (se.Status == 404 || se.Status == 403) {
			return ErrPending
		}
		return err
	}
	signer, late := st.keySigner(wk.Signer, "", st.Members.EpochSeq)
	switch {
	case signer == nil:
		return errors.New("the team key offered to this device is not signed by an admin of the team: refused")
	case late:
		return fmt.Errorf("the team key offered to this device is signed by %s, who was no longer an admin when this device was given the key: refused", signer.Name)
	case wk.Device != st.Device.ID:
		return errors.New("the team key offered is for another device: refused")
	case wk.Epoch != st.Members.Epoch:
		return fmt.Errorf("the team key offered is for epoch %d, but the team is at epoch %d: refused", wk.Epoch, st.Members.Epoch)
	case !crypto.VerifyEd25519(signer.SignKey, wire.WrappedKeySigned(st.Team, &wk), wk.Sig):
		return errors.New("the team key offered to this device has a bad signature: refused")
	}
	id, err := age.ParseX25519Identity(st.BoxIdentity)
	if err != nil {
		return err
	}
	r, err := age.Decrypt(bytes.NewReader(wk.Sealed), id)
	if err != nil {
		return fmt.Errorf("the team key offered to this device does not open: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return fmt.Errorf("the team key offered to this device does not open: %w", err)
	}
	defer crypto.Wipe(b)
	var g wire.KeyGrant
	if err := json.Unmarshal(b, &g); err != nil || g.Team != st.Team || g.Device != st.Device.ID || g.Scope != "" || g.Epoch != wk.Epoch || len(g.Key) != crypto.KeySize {
		return errors.New("the team key offered to this device is not bound to this team, device and epoch: refused")
	}
	if err := st.takeNamesKey(g.Names); err != nil {
		return err
	}
	st.Keys, st.Epoch = map[int64][]byte{g.Epoch: g.Key}, g.Epoch
	return nil
}
