package wire

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// The membership log: every change of membership, role, device or key
// epoch is an entry signed by an admin device and chained to the previous
// one by hash, from the team's creation on. Clients verify the whole chain
// before they trust a public key; the server applies the same rules to
// know whom to serve. The first entry's hash is the team's fingerprint:
// an invitation carries it, so a joiner pins the start of the chain.

// Kinds of log entries.
const (
	LogCreate = "create" // the team and its first device, an admin
	LogAdd    = "add"    // a device joins, with its member's role
	LogRole   = "role"   // a member's role changes (all their devices)
	LogRemove = "remove" // a device leaves, or every device of a member
	LogEpoch  = "epoch"  // a new team key epoch begins
	// LogMachine: a machine (CI, an agent) joins as a member of its own
	// with one device whose keys the signing admin made, a reader or
	// writer role, never admin, and an expiry (see machine.go).
	LogMachine = "machine"
	// LogGrant and LogUngrant give a member a folder scope, or take it
	// away with a new epoch of that scope (see scope.go).
	LogGrant   = "grant"
	LogUngrant = "ungrant"
)

// LogEntry is one signed entry of the membership log.
type LogEntry struct {
	Seq    int64     `json:"seq"`            // 1 for the creation
	Prev   []byte    `json:"prev,omitempty"` // hash of entry Seq-1
	Time   time.Time `json:"time"`
	Kind   string    `json:"kind"`
	Team   string    `json:"team"`
	Name   string    `json:"name,omitempty"`   // create: the team's name
	Device *Device   `json:"device,omitempty"` // create, add
	Role   string    `json:"role,omitempty"`   // create, add, role
	Member string    `json:"member,omitempty"` // role, remove (every device of the member)
	Target string    `json:"target,omitempty"` // remove: one device id
	Epoch  int64     `json:"epoch,omitempty"`  // epoch: the new epoch
	// Expires: machine: when the machine's access ends (whole seconds).
	Expires time.Time `json:"expires,omitzero"`
	// Scope: grant, ungrant, and an epoch of one scope: the scope's id
	// (empty: the team's root). Parent and Folder: a grant that creates
	// the scope names its parent scope's id and carries its folder name
	// sealed under the team's names key. Scopes: a machine that holds
	// only these scopes, not the root. See scope.go.
	Scope  string   `json:"scope,omitempty"`
	Parent string   `json:"parent,omitempty"`
	Folder []byte   `json:"folder,omitempty"`
	Scopes []string `json:"scopes,omitempty"`
	Signer string   `json:"signer"`
	Sig    []byte   `json:"sig"`
}

// signed is the entry's content in hush's unambiguous encoding.
func (e *LogEntry) signed() []byte {
	var dev []byte
	if e.Device != nil {
		dev = crypto.AD(e.Device.ID, e.Device.Name, e.Device.Member, e.Device.SignKey, e.Device.Box)
	}
	parts := []any{"hush/v1/log-entry", e.Team, e.Seq, e.Prev, e.Time.UTC().Format(time.RFC3339Nano),
		e.Kind, e.Name, dev, e.Role, e.Member, e.Target, e.Epoch, e.Signer}
	// Fields of newer kinds are signed only by those kinds, so that every
	// older entry keeps its exact encoding (and hash).
	if e.Kind == LogMachine {
		parts = append(parts, e.Expires.UTC().Unix())
	}
	return crypto.AD(append(parts, e.scopeParts()...)...)
}

// Hash chains the next entry to this one: it covers the content and the
// signature.
func (e *LogEntry) Hash() []byte {
	h := sha256.New()
	h.Write(e.signed())
	h.Write(e.Sig)
	return h.Sum(nil)
}

// Sign signs the entry with an admin device's key.
func (e *LogEntry) Sign(signer string, key ed25519.PrivateKey) {
	e.Signer = signer
	e.Sig = crypto.SignEd25519(key.Seed(), e.signed())
}

// LogDevice is a device as the log says: its keys, its member's role,
// whether it is still in the team, and its roles over time.
type LogDevice struct {
	Device
	Role    string
	Active  bool
	Added   int64      // log seq of its add (or create)
	Removed int64      // log seq of its removal; 0 while active
	Roles   []RoleSpan // role from each log seq on, oldest first
	// Machine: added by a machine entry; its access ends at Expires.
	Machine bool      `json:",omitempty"`
	Expires time.Time `json:",omitzero"`
}

// RoleSpan is a role held from log seq From on.
type RoleSpan struct {
	From int64
	Role string
}

// RoleAt is the device's role right after log entry seq, and whether it
// was in the team then.
func (d *LogDevice) RoleAt(seq int64) (string, bool) {
	if seq < d.Added || (d.Removed > 0 && seq >= d.Removed) {
		return "", false
	}
	role := ""
	for _, r := range d.Roles {
		if r.From <= seq {
			role = r.Role
		}
	}
	return role, role != ""
}

// AdminSince reports whether the device is in the team and was an admin
// at some point from log entry from on: a key of an epoch that began at
// from, wrapped by an admin then, stays good after a demotion that began
// no new epoch (attack22 C2: else every device that fetched it afresh,
// a token, a member she approved, was refused).
func (d *LogDevice) AdminSince(from int64) bool { return d.AdminUntil(from) > 0 }

// AdminUntil is the last log entry right after which the device was an
// admin, counting from entry from on: math.MaxInt64 while it is one, 0
// if it was none then or has left the team. A key it wraps after that
// entry can only be good for a device that already held the key's scope
// right after it (Membership.HeldAt): one it could have wrapped the key
// for while it was an admin.
func (d *LogDevice) AdminUntil(from int64) int64 {
	if !d.Active {
		return 0
	}
	var until int64
	for i, r := range d.Roles {
		if r.Role != RoleAdmin {
			continue
		}
		end := int64(math.MaxInt64)
		if i+1 < len(d.Roles) {
			end = d.Roles[i+1].From - 1
		}
		if end >= from {
			until = end // spans are oldest first: the last one counts
		}
	}
	return until
}

// Membership is the state a verified log leads to.
type Membership struct {
	Team     string
	Name     string
	Devices  map[string]*LogDevice
	Epoch    int64
	EpochSeq int64  // the entry that began the current epoch
	Seq      int64  // the last entry applied
	Head     []byte // its hash
	Genesis  []byte // the first entry's hash: the team's fingerprint
	// Scopes: the folder scopes by id; RootOff: when members did not
	// hold the root (scope.go).
	Scopes  map[string]*Scope `json:",omitempty"`
	RootOff []ScopeGrant      `json:",omitempty"`
}

// NewMembership is the state before the first entry.
func NewMembership(team string) *Membership {
	return &Membership{Team: team, Devices: map[string]*LogDevice{}}
}

// LogError says why an entry does not extend the log.
type LogError struct {
	Seq    int64
	Reason string
}

func (e *LogError) Error() string {
	return fmt.Sprintf("membership log entry %d is not valid: %s", e.Seq, e.Reason)
}

// Active reports whether a device is in the team now, and its role.
func (m *Membership) Active(device string) (string, bool) {
	d, ok := m.Devices[device]
	if !ok || !d.Active {
		return "", false
	}
	return d.Role, true
}

// Members returns the active devices of a member.
func (m *Membership) memberDevices(member string) []*LogDevice {
	var out []*LogDevice
	for _, d := range m.Devices {
		if d.Member == member && d.Active {
			out = append(out, d)
		}
	}
	return out
}

func (m *Membership) admins() int {
	n := 0
	for _, d := range m.Devices {
		if d.Active && d.Role == RoleAdmin {
			n++
		}
	}
	return n
}

// Apply checks that e extends the log (next seq, chained to the head,
// signed by an active admin device, a valid change) and applies it. On an
// error nothing changes.
func (m *Membership) Apply(e *LogEntry) error {
	bad := func(format string, args ...any) error { return &LogError{e.Seq, fmt.Sprintf(format, args...)} }
	if e.Team != m.Team {
		return bad("it belongs to another team")
	}
	if e.Seq != m.Seq+1 {
		return bad("expected entry %d", m.Seq+1)
	}
	if !bytes.Equal(e.Prev, m.Head) {
		return bad("it does not chain to entry %d (a fork, or a changed entry)", m.Seq)
	}
	if len(e.Sig) != ed25519.SignatureSize {
		return bad("its signature is malformed")
	}
	if msg := e.scopeFieldsFit(); msg != "" {
		return bad("%s", msg)
	}
	// The signer's key: an active admin before this entry; for the
	// creation, the device the entry creates.
	var signKey []byte
	if e.Kind == LogCreate {
		if e.Seq != 1 || e.Device == nil || e.Signer != e.Device.ID {
			return bad("a creation is entry 1, signed by the device it creates")
		}
		signKey = e.Device.SignKey
	} else {
		if e.Seq == 1 {
			return bad("the log must start with the team's creation")
		}
		s, ok := m.Devices[e.Signer]
		if !ok || !s.Active || s.Role != RoleAdmin {
			return bad("it is signed by %s, which is not an admin of the team at this point", e.Signer)
		}
		signKey = s.SignKey
	}
	if len(signKey) != ed25519.PublicKeySize || !crypto.VerifyEd25519(signKey, e.signed(), e.Sig) {
		return bad("its signature does not check out")
	}
	switch e.Kind {
	case LogCreate:
		if err := e.Device.Check(); err != nil {
			return bad("%v", err)
		}
		if e.Role != RoleAdmin || e.Name == "" || len(e.Name) > 64 {
			return bad("a creation names the team and makes its first device an admin")
		}
		m.Name, m.Epoch, m.EpochSeq, m.Genesis = e.Name, 1, 1, e.Hash()
		m.Devices[e.Device.ID] = &LogDevice{Device: *e.Device, Role: RoleAdmin, Active: true, Added: e.Seq, Roles: []RoleSpan{{e.Seq, RoleAdmin}}}
	case LogAdd:
		if e.Device == nil {
			return bad("an addition names a device")
		}
		if err := e.Device.Check(); err != nil {
			return bad("%v", err)
		}
		if !ValidRole(e.Role) {
			return bad("unknown role %q", e.Role)
		}
		if _, ok := m.Devices[e.Device.ID]; ok {
			return bad("device %s was already in the team", e.Device.ID)
		}
		if m.isMachine(e.Device.Member) {
			return bad("%s is a machine: it has one device, made with it", e.Device.Member)
		}
		// A member has one role: a new device of an existing member takes it.
		ds := m.memberDevices(e.Device.Member)
		if len(ds) > 0 && ds[0].Role != e.Role {
			return bad("member %s is already in the team as %s, not %s", e.Device.Member, ds[0].Role, e.Role)
		}
		// A new member may start with some scopes and not the root (a
		// device of an existing member has the member's scopes).
		if len(e.Scopes) > 0 {
			if len(ds) > 0 || e.Role == RoleAdmin {
				return bad("only a new member who is not an admin starts with scopes")
			}
			if err := m.checkMachineScopes(e); err != nil {
				return bad("%v", err)
			}
		}
		m.Devices[e.Device.ID] = &LogDevice{Device: *e.Device, Role: e.Role, Active: true, Added: e.Seq, Roles: []RoleSpan{{e.Seq, e.Role}}}
		m.memberScopes(e.Device.Member, e)
	case LogRole:
		ds := m.memberDevices(e.Member)
		if len(ds) == 0 {
			return bad("member %q has no device in the team", e.Member)
		}
		if !ValidRole(e.Role) {
			return bad("unknown role %q", e.Role)
		}
		if e.Role == RoleAdmin && m.isMachine(e.Member) {
			return bad("%s is a machine: a machine is never an admin", e.Member)
		}
		if ds[0].Role == RoleAdmin && e.Role != RoleAdmin && m.admins() == len(ds) {
			return bad("it would leave the team without an admin")
		}
		for _, d := range ds {
			d.Role = e.Role
			d.Roles = append(d.Roles, RoleSpan{e.Seq, e.Role})
		}
		// An admin holds every scope, the root included: a span without
		// the root ends (attack21 N2: a contractor made an admin was
		// listed as an admin and read no root secret).
		if e.Role == RoleAdmin {
			if g := m.rootOff(e.Member); g != nil {
				g.Until = e.Seq
			}
		}
	case LogRemove:
		var ds []*LogDevice
		switch {
		case e.Target != "":
			if d, ok := m.Devices[e.Target]; ok && d.Active {
				ds = []*LogDevice{d}
			}
		case e.Member != "":
			ds = m.memberDevices(e.Member)
		}
		if len(ds) == 0 {
			return bad("it removes nobody who is in the team")
		}
		admins := 0
		for _, d := range ds {
			if d.Role == RoleAdmin {
				admins++
			}
		}
		if admins > 0 && admins == m.admins() {
			return bad("it would leave the team without an admin")
		}
		for _, d := range ds {
			d.Active, d.Removed = false, e.Seq
		}
		m.leaveScopes(e.Seq)
	case LogMachine:
		if err := m.applyMachine(e); err != nil {
			return bad("%v", err)
		}
	case LogGrant:
		if err := m.applyGrant(e); err != nil {
			return bad("%v", err)
		}
	case LogUngrant:
		if err := m.applyUngrant(e); err != nil {
			return bad("%v", err)
		}
	case LogEpoch:
		if e.Scope != "" {
			if err := m.applyScopeEpoch(e); err != nil {
				return bad("%v", err)
			}
			break
		}
		if e.Epoch != m.Epoch+1 {
			return bad("the next key epoch is %d, not %d", m.Epoch+1, e.Epoch)
		}
		m.Epoch, m.EpochSeq = e.Epoch, e.Seq
	default:
		return bad("unknown kind %q", e.Kind)
	}
	m.Seq, m.Head = e.Seq, e.Hash()
	return nil
}

// ErrLogFork means a log does not extend what a client has seen.
var ErrLogFork = errors.New("the team's membership log does not extend what this device has seen")
