package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
)

// Folder scopes (docs/sync.md "Folder scopes"): the client side. The log
// rules are wire's (scope.go); here an admin grants and ungrants, every
// device opens the scopes' folder names with the team's names key and
// fetches the keys of the scopes it holds, checking each against the
// verified log.

// ErrScope is the class of a bad folder or a scope that cannot be
// granted, ungranted or found.
var ErrScope = errors.New("scope")

func scopeErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrScope, fmt.Sprintf(format, args...))
}

// takeNamesKey keeps the team's names key from a key grant: the first one
// seen, and the same one ever after (a grant carrying another is refused:
// scope ids would no longer match the log).
func (st *State) takeNamesKey(k []byte) error {
	switch {
	case len(k) == 0:
		return nil
	case len(k) != crypto.KeySize:
		return errors.New("the team's names key offered to this device is malformed: refused")
	case st.NamesKey == nil:
		st.NamesKey = bytes.Clone(k)
	case !bytes.Equal(st.NamesKey, k):
		return errors.New("a key offered to this device carries another names key than the team's: refused")
	}
	return nil
}

// Folders opens the folder name of every scope of the verified log, by
// id, checking each against its id: the map DeepestScope takes.
func (st *State) Folders() (map[string]string, error) {
	out := map[string]string{}
	if st.Members == nil || len(st.Members.Scopes) == 0 {
		return out, nil
	}
	if st.NamesKey == nil {
		return nil, errors.New("the team has folder scopes but this device has no names key yet: sync first")
	}
	for id, s := range st.Members.Scopes {
		f, err := wire.OpenFolder(st.NamesKey, st.Team, id, s.Folder)
		if err != nil {
			return nil, fmt.Errorf("scope %s: %w", id, err)
		}
		out[id] = f
	}
	// Each scope's parent is the deepest scope above it when it was made
	// (a scope made later may sit between them).
	for id, s := range st.Members.Scopes {
		if p := s.Parent; p != "" && !strings.HasPrefix(out[id], out[p]+"/") {
			return nil, fmt.Errorf("scope %s: %w (its parent is not above it)", id, wire.ErrFolder)
		}
	}
	return out, nil
}

// cleanScopeFolder validates a folder given for a scope by the one rule
// (wire.CheckFolder). With root, "/" names the root (returned as ""); an
// empty folder is never the root, so an unset $FOLDER in a script fails
// instead of handing out the whole team.
func cleanScopeFolder(folder string, root bool) (string, error) {
	if root && folder == "/" {
		return "", nil
	}
	if err := wire.CheckFolder(folder); err != nil {
		if root && folder == "" {
			return "", scopeErr("%v; the team's root is spelled /", err)
		}
		return "", scopeErr("%v", err)
	}
	return folder, nil
}

// Granted says what Grant did.
type Granted struct {
	// New is set when the folder became a scope with this grant; then
	// Parent is the scope it was carved out of ("/": the root) and Others
	// the holders of Parent who hold the new scope too (admins included),
	// by name: a grant to one member gives it to them all.
	New    bool
	Parent string
	Others []ScopeHolder
	// Demoted is set when the member could write the folder and now only
	// reads it: the scope got a new key epoch (attack22 B1), its secrets
	// marked to be sealed again.
	Demoted bool
}

// Grant gives a member a folder scope with a role (admin only). A scope
// new to the team gets a fresh key, wrapped to its holders: the holders of
// the scope it is carved out of, and the member. A team without a names
// key gets one first, with a new epoch of the root.
func (t *Team) Grant(ctx context.Context, name, folder, role string) (*Granted, error) {
	st := t.st
	f, err := cleanScopeFolder(folder, true)
	if err != nil {
		return nil, err
	}
	if role != wire.RoleReader && role != wire.RoleWriter {
		return nil, scopeErr("role %q: a scope is granted with --role reader or writer", role)
	}
	c, err := t.admin(ctx, "grant a scope")
	if err != nil {
		return nil, err
	}
	member, ds, err := st.FindMember(name)
	if err != nil {
		return nil, err
	}
	if ds[0].Role == wire.RoleAdmin {
		return nil, scopeErr("%s is an admin: admins hold every scope", member)
	}
	if f == "" && role != ds[0].Role {
		// On the root a member holds their team role: a grant of it with
		// another role would say one thing and give another.
		return nil, scopeErr("on the root (/) %s holds their team role, %s: grant it with --role %s, or change the team role with `hush team role`", member, ds[0].Role, ds[0].Role)
	}
	before, err := st.Folders()
	if err != nil {
		return nil, err
	}
	seq := st.Members.Seq
	id, err := t.grant(ctx, c, member, ds[0].Role, f, role)
	if err != nil {
		return nil, err
	}
	g := &Granted{}
	if ids := st.demotedScopes(member, seq, nil); len(ids) > 0 {
		// She still holds the key: what she signs from now on, or dates
		// back to when she could write, must not pass.
		for _, id := range ids {
			if err := t.rotateScope(ctx, c, id); err != nil {
				return nil, fmt.Errorf("%s now reads %s, but its new key failed: %w", member, folder, err)
			}
		}
		folders, err := st.Folders()
		if err != nil {
			return nil, err
		}
		if err := t.v.Replica().ResealWhere(func(name string) bool { return slices.Contains(ids, wire.DeepestScope(folders, name)) }); err != nil {
			return nil, err
		}
		g.Demoted = true
	}
	if _, existed := before[id]; id == "" || existed {
		return g, nil
	}
	g.New, g.Parent = true, "/"
	if p := wire.DeepestScope(before, f); p != "" {
		g.Parent = before[p]
	}
	ss, err := st.Scopes()
	if err != nil {
		return g, nil // the grant is done; only the note is lost
	}
	for _, s := range ss {
		if s.ID == id {
			for _, h := range s.Holders {
				if h.Member != member {
					g.Others = append(g.Others, h)
				}
			}
		}
	}
	return g, nil
}

// makeScope makes folder a scope if it is not one yet, held by the
// holders of the scope it is carved out of, and returns its id.
func (t *Team) makeScope(ctx context.Context, c *conn, folder string) (string, error) {
	if t.st.NamesKey != nil {
		id := wire.ScopeID(t.st.NamesKey, t.st.Team, folder)
		if _, ok := t.st.Members.Scopes[id]; ok {
			return id, nil
		}
	}
	return t.grant(ctx, c, "", "", folder, "")
}

// grant writes a grant entry (member "": one that only makes the scope)
// with the scope's key wrapped to the devices it gives it to.
func (t *Team) grant(ctx context.Context, c *conn, member, teamRole, f, role string) (string, error) {
	st := t.st
	var err error
	if f != "" && (st.NamesKey == nil || st.Members.Scopes[wire.ScopeID(st.NamesKey, st.Team, f)] == nil) {
		if err := t.notASecret(f); err != nil {
			return "", err
		}
	}
	if st.NamesKey == nil {
		// The migration of a team made before scopes: the names key goes
		// to every device with a new root key.
		if st.NamesKey, err = crypto.Random(crypto.KeySize); err != nil {
			return "", err
		}
		if _, err := t.rotateEpoch(ctx, c); err != nil {
			st.NamesKey = nil
			return "", fmt.Errorf("failed to give the team a names key (a new key epoch): %w", err)
		}
	}
	folders, err := st.Folders()
	if err != nil {
		return "", err
	}
	id := wire.ScopeID(st.NamesKey, st.Team, f)
	e := st.entry(wire.LogGrant)
	e.Member, e.Role, e.Scope = member, role, id
	var key []byte
	s, exists := st.Members.Scopes[id]
	switch {
	case id == "":
		e.Role, e.Epoch = teamRole, st.Members.Epoch
		key = st.Keys[st.Epoch]
	case exists:
		e.Epoch = s.Epoch
		key = st.ScopeKeys[id].Key
	default:
		e.Epoch, e.Parent = 1, wire.DeepestScope(folders, f)
		if e.Folder, err = wire.SealFolder(st.NamesKey, st.Team, f); err != nil {
			return "", err
		}
		if key, err = crypto.Random(crypto.KeySize); err != nil {
			return "", err
		}
	}
	if len(key) != crypto.KeySize {
		return "", scopeErr("this device has no key of %s yet: sync first", scopeName(f))
	}
	st.sign(e)
	next := cloneMembership(st.Members)
	if err := next.Apply(e); err != nil {
		return "", scopeErr("%v", err)
	}
	var keys []wire.WrappedKey
	for _, d := range next.Devices {
		if !d.Active || !next.Holds(d.ID, id) || (exists || id == "") && st.Members.Holds(d.ID, id) {
			continue
		}
		wk, err := st.wrapScopeKeyFor(&d.Device, id, e.Epoch, key)
		if err != nil {
			return "", err
		}
		keys = append(keys, *wk)
	}
	if err := st.appendLog(ctx, c, e, keys); err != nil {
		return "", err
	}
	if id != "" {
		st.setScopeKey(id, e.Epoch, key)
	}
	if err := t.save(); err != nil {
		return "", err
	}
	if !exists && id != "" {
		// The secrets under the new scope go up again, sealed into it.
		folders[id] = f
		return id, t.v.Replica().ResealWhere(func(name string) bool { return wire.DeepestScope(folders, name) == id })
	}
	return id, nil
}

// notASecret refuses to make a scope of a secret's name (in this
// vault) with nothing below it: no name could be in that scope, and the
// admin meant the folder the secret is in (attack18 F5).
func (t *Team) notASecret(f string) error {
	idx, err := t.v.Index()
	if err != nil {
		return err
	}
	secret := false
	for _, e := range idx {
		if strings.HasPrefix(e.Name, f+"/") {
			return nil
		}
		secret = secret || e.Name == f
	}
	if secret {
		hint := "a scope is a folder"
		if i := strings.LastIndex(f, "/"); i > 0 {
			hint = fmt.Sprintf("the folder it is in is %s", f[:i])
		}
		return scopeErr("%s is a secret, not a folder: %s", f, hint)
	}
	return nil
}

// Ungranted says what Ungrant did.
type Ungranted struct {
	Member string
	// Folders are the scopes taken from the member ("/": the root): the
	// folder's own, then every scope below it that they held, by folder.
	Folders []string
	// Marked is how many secrets of those scopes were marked to be
	// rotated now; Due how many of them are marked in all (Marked and
	// those marked before, by an earlier ungrant or removal).
	Marked, Due int
	// Above is set when the folder is not a scope: the scope its names
	// (those in no deeper scope) belong to, which the member still holds
	// ("/": the root).
	Above string
	// Kept, for the root, are the scopes below it the member still holds:
	// an ungrant of / takes the root alone.
	Kept []string
}

// Ungrant takes a folder and everything below it from a member (admin
// only): the folder's scope, if they hold it, and every scope below it
// they hold, whether granted to them or held because they held its parent
// when it was carved out (attack18 F3). Each is one ungrant entry: a new
// epoch of that scope, its key wrapped to the remaining holders, and its
// secrets (and no other) marked to be rotated. The root (/) is taken
// alone: the scopes below it stay (Kept); `team remove` takes everything.
// When a later ungrant fails, the earlier ones stand and are returned.
func (t *Team) Ungrant(ctx context.Context, name, folder string) (*Ungranted, error) {
	st := t.st
	f, err := cleanScopeFolder(folder, true)
	if err != nil {
		return nil, err
	}
	c, err := t.admin(ctx, "ungrant a scope")
	if err != nil {
		return nil, err
	}
	member, ds, err := st.FindMember(name)
	if err != nil {
		return nil, err
	}
	if ds[0].Role == wire.RoleAdmin {
		return nil, scopeErr("%s is an admin: admins hold every scope (change their role first: `hush team role %s writer`)", member, member)
	}
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	held := st.Members.ScopesOf(member, st.Members.Seq)
	u := &Ungranted{Member: member}
	var ids []string
	if f == "" {
		if _, ok := held[""]; !ok {
			return nil, scopeErr("%s does not hold %s (see `hush team scopes`)", member, scopeName(f))
		}
		if len(held) < 2 {
			return nil, scopeErr("%s holds only the root: remove them from the team instead (`hush team remove %s`)", member, member)
		}
		ids = []string{""}
		for id := range held {
			if id != "" {
				u.Kept = append(u.Kept, folders[id])
			}
		}
		slices.Sort(u.Kept)
	} else {
		for id, sf := range folders {
			if _, ok := held[id]; ok && (sf == f || strings.HasPrefix(sf, f+"/")) {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, scopeErr("%s does not hold %s (see `hush team scopes`)", member, f)
		}
		slices.SortFunc(ids, func(a, b string) int { return strings.Compare(folders[a], folders[b]) })
		if folders[ids[0]] != f {
			above := wire.DeepestScope(folders, f)
			if _, ok := held[above]; ok {
				u.Above = "/"
				if above != "" {
					u.Above = folders[above]
				}
			}
		}
	}
	for _, id := range ids {
		marked, err := t.ungrantOne(ctx, c, member, id, folders)
		u.Marked += marked
		if err != nil {
			if len(u.Folders) > 0 {
				err = fmt.Errorf("taking %s failed (run `hush team ungrant %s %s` again): %w", scopeName(folders[id]), member, folder, err)
			}
			return u, err
		}
		u.Folders = append(u.Folders, folderName(folders[id]))
	}
	in := func(name string) bool { return slices.Contains(ids, wire.DeepestScope(folders, name)) }
	if f == "" {
		in = func(name string) bool { return wire.DeepestScope(folders, name) == "" }
	}
	u.Due, err = t.dueWhere(in)
	return u, err
}

// ungrantOne writes one ungrant entry taking scope id from member, with
// the scope's new key wrapped to its remaining holders, marks its secrets
// to be rotated and seals them again under the new key. It returns how
// many it marked.
func (t *Team) ungrantOne(ctx context.Context, c *conn, member, id string, folders map[string]string) (int, error) {
	st := t.st
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		return 0, err
	}
	e := st.entry(wire.LogUngrant)
	e.Member, e.Scope = member, id
	cur, _ := st.Members.ScopeEpoch(id)
	e.Epoch = cur + 1
	st.sign(e)
	next := cloneMembership(st.Members)
	if err := next.Apply(e); err != nil {
		return 0, scopeErr("%v", err)
	}
	var keys []wire.WrappedKey
	for _, d := range next.Devices {
		if d.Active && next.Holds(d.ID, id) {
			wk, err := st.wrapScopeKeyFor(&d.Device, id, e.Epoch, key)
			if err != nil {
				return 0, err
			}
			keys = append(keys, *wk)
		}
	}
	if err := st.appendLog(ctx, c, e, keys); err != nil {
		return 0, err
	}
	if id == "" {
		st.beginEpoch(e.Epoch, key)
	} else {
		st.setScopeKey(id, e.Epoch, key)
	}
	if err := t.save(); err != nil {
		return 0, err
	}
	in := func(name string) bool { return wire.DeepestScope(folders, name) == id }
	n, err := t.v.Replica().MarkExposedWhere(in, ungrantReason(member, folders[id]), time.Now())
	if err != nil {
		return n, err
	}
	return n, t.v.Replica().ResealWhere(in)
}

// dueWhere counts the live secrets in (nil: all) that are marked to be
// rotated, whenever they were marked.
func (t *Team) dueWhere(in func(name string) bool) (int, error) {
	es, err := t.v.List("")
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range es {
		if es[i].Exposed != nil && (in == nil || in(es[i].Name)) {
			n++
		}
	}
	return n, nil
}

// rotateScope starts a new epoch of one scope, its key wrapped to its
// holders' devices.
func (t *Team) rotateScope(ctx context.Context, c *conn, id string) error {
	st := t.st
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		return err
	}
	e := st.entry(wire.LogEpoch)
	e.Scope = id
	cur, _ := st.Members.ScopeEpoch(id)
	e.Epoch = cur + 1
	st.sign(e)
	var keys []wire.WrappedKey
	for _, d := range st.Members.Devices {
		if d.Active && st.Members.Holds(d.ID, id) {
			wk, err := st.wrapScopeKeyFor(&d.Device, id, e.Epoch, key)
			if err != nil {
				return err
			}
			keys = append(keys, *wk)
		}
	}
	if err := st.appendLog(ctx, c, e, keys); err != nil {
		return err
	}
	st.setScopeKey(id, e.Epoch, key)
	return t.save()
}

func (st *State) setScopeKey(id string, epoch int64, key []byte) {
	if st.ScopeKeys == nil {
		st.ScopeKeys = map[string]ScopeKey{}
	}
	st.ScopeKeys[id] = ScopeKey{Epoch: epoch, Key: key}
}

// folderName is a scope's folder as commands show it: "/" for the root.
func folderName(folder string) string {
	if folder == "" {
		return "/"
	}
	return folder
}

func scopeName(folder string) string {
	if folder == "" {
		return "the root (/)"
	}
	return folder
}

// ScopeInfo is one scope as `hush team scopes` shows it.
type ScopeInfo struct {
	Folder  string        `json:"folder"` // "/" for the root
	ID      string        `json:"id"`     // "" for the root
	Epoch   int64         `json:"epoch"`
	Holders []ScopeHolder `json:"holders"`
}

// ScopeHolder is a member holding a scope, and their role on it.
type ScopeHolder struct {
	Member  string `json:"member"`
	Role    string `json:"role"`
	Machine bool   `json:"machine,omitempty"`
}

// Scopes lists the team's scopes as the verified log says, root first,
// then by folder; each with its holders by name (admins hold every scope).
func (st *State) Scopes() ([]ScopeInfo, error) {
	if st.Members == nil {
		return nil, errors.New("sync first: this device has not seen the team's members yet")
	}
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	folders[""] = "/"
	m := st.Members
	members := map[string]bool{}
	machines := map[string]bool{}
	for _, d := range m.Devices {
		if d.Active {
			members[d.Member] = true
			machines[d.Member] = d.Machine
		}
	}
	var out []ScopeInfo
	for id, f := range folders {
		ep, _ := m.ScopeEpoch(id)
		si := ScopeInfo{Folder: f, ID: id, Epoch: ep, Holders: []ScopeHolder{}}
		for member := range members {
			if r, ok := m.RoleOn(member, id, m.Seq); ok {
				si.Holders = append(si.Holders, ScopeHolder{Member: member, Role: r, Machine: machines[member]})
			}
		}
		sort.Slice(si.Holders, func(i, j int) bool { return si.Holders[i].Member < si.Holders[j].Member })
		out = append(out, si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID == "" || out[j].ID != "" && out[i].Folder < out[j].Folder })
	return out, nil
}

// ScopeRole is one scope a member holds, by folder ("/": the root), and
// their role on it.
type ScopeRole struct {
	Folder string `json:"folder"`
	Role   string `json:"role"`
}

// withMemberScopes fills each member's Scopes from the verified log, when
// the team has folder scopes: a member's role on a scope is the grant's
// (an admin's, admin), on the root their team role. A pending device
// holds nothing yet.
func (st *State) withMemberScopes(ms []Member) error {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return nil
	}
	folders, err := st.Folders()
	if err != nil {
		return err
	}
	folders[""] = "/"
	byMember := map[string][]ScopeRole{}
	for i := range ms {
		mb := &ms[i]
		if mb.Pending {
			mb.Scopes = []ScopeRole{}
			continue
		}
		rs, ok := byMember[mb.Member]
		if !ok {
			rs = []ScopeRole{}
			for id, role := range m.ScopesOf(mb.Member, m.Seq) {
				if f, ok := folders[id]; ok {
					rs = append(rs, ScopeRole{Folder: f, Role: role})
				}
			}
			sort.Slice(rs, func(i, j int) bool { return rs[i].Folder == "/" || rs[j].Folder != "/" && rs[i].Folder < rs[j].Folder })
			byMember[mb.Member] = rs
		}
		mb.Scopes = rs
	}
	return nil
}

// needScopeKeys reports whether this device holds a scope whose key at
// the current epoch it does not have.
func (st *State) needScopeKeys() bool {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 {
		return false
	}
	for id, s := range m.Scopes {
		if m.Holds(st.Device.ID, id) && st.ScopeKeys[id].Epoch != s.Epoch {
			return true
		}
	}
	return false
}

// fetchScopeKeys gets this device's keys of the scopes it holds and keeps
// each that checks out against the verified log: signed by an admin of the
// team for this device, of a scope its member holds now, at the scope's
// current epoch. A key of a scope this device was not granted by a valid
// signed entry is refused, whatever the server sends. Keys of scopes it no
// longer holds are dropped.
func (st *State) fetchScopeKeys(ctx context.Context, c *conn) error {
	var ks wire.Keys
	if err := c.do(ctx, "GET", "/v1/keys", nil, &ks); err != nil {
		return err
	}
	m := st.Members
	id, err := age.ParseX25519Identity(st.BoxIdentity)
	if err != nil {
		return err
	}
	for i := range ks.Keys {
		wk := &ks.Keys[i]
		if wk.Scope == "" {
			continue // the root's: fetchKey
		}
		s, ok := m.Scopes[wk.Scope]
		var signer *wire.LogDevice
		late := false
		if ok {
			signer, late = st.keySigner(wk.Signer, wk.Scope, s.EpochSeq)
		}
		switch {
		case !ok || !m.Holds(st.Device.ID, wk.Scope):
			return fmt.Errorf("the server offered this device the key of scope %s, which the team's log does not grant it: refused", wk.Scope)
		case signer == nil:
			return fmt.Errorf("the key of scope %s offered to this device is not signed by an admin of the team: refused", wk.Scope)
		case late:
			return fmt.Errorf("the key of scope %s offered to this device is signed by %s, who was no longer an admin when this device was given the key: refused", wk.Scope, signer.Name)
		case wk.Device != st.Device.ID:
			return fmt.Errorf("the key of scope %s offered is for another device: refused", wk.Scope)
		case wk.Epoch != s.Epoch:
			if st.ScopeKeys[wk.Scope].Epoch == s.Epoch {
				continue // an older one this device has replaced
			}
			return fmt.Errorf("the key of scope %s offered is for epoch %d, but the scope is at epoch %d: refused", wk.Scope, wk.Epoch, s.Epoch)
		case !crypto.VerifyEd25519(signer.SignKey, wire.WrappedKeySigned(st.Team, wk), wk.Sig):
			return fmt.Errorf("the key of scope %s offered to this device has a bad signature: refused", wk.Scope)
		}
		r, err := age.Decrypt(bytes.NewReader(wk.Sealed), id)
		if err != nil {
			return fmt.Errorf("the key of scope %s offered to this device does not open: %w", wk.Scope, err)
		}
		b, err := io.ReadAll(io.LimitReader(r, 4096))
		if err != nil {
			return fmt.Errorf("the key of scope %s offered to this device does not open: %w", wk.Scope, err)
		}
		var g wire.KeyGrant
		err = json.Unmarshal(b, &g)
		crypto.Wipe(b)
		if err != nil || g.Team != st.Team || g.Device != st.Device.ID || g.Scope != wk.Scope || g.Epoch != wk.Epoch || len(g.Key) != crypto.KeySize {
			return fmt.Errorf("the key of scope %s offered to this device is not bound to this team, device, scope and epoch: refused", wk.Scope)
		}
		if err := st.takeNamesKey(g.Names); err != nil {
			return err
		}
		st.setScopeKey(wk.Scope, g.Epoch, g.Key)
	}
	st.dropLostScopeKeys()
	return nil
}

// dropLostScopeKeys forgets the keys of scopes the verified log no longer
// gives this device.
func (st *State) dropLostScopeKeys() {
	if st.Members != nil && len(st.Keys) > 0 {
		if _, in := st.Members.Devices[st.Device.ID]; in && !st.Members.Holds(st.Device.ID, "") {
			for _, k := range st.Keys { // the root's, which it no longer holds
				crypto.Wipe(k)
			}
			st.Keys = map[int64][]byte{}
		}
	}
	for sid := range st.ScopeKeys {
		if st.Members == nil || !st.Members.Holds(st.Device.ID, sid) {
			crypto.Wipe(st.ScopeKeys[sid].Key)
			delete(st.ScopeKeys, sid)
		}
	}
}

// holdsScope is whether this device holds a scope now, for the records a
// pull expects (nil: a team without scopes, where it holds everything).
func (st *State) holdsScope() func(scope string) bool {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return nil
	}
	held := map[string]bool{"": m.Holds(st.Device.ID, "")}
	for id := range m.Scopes {
		held[id] = m.Holds(st.Device.ID, id)
	}
	return func(scope string) bool { return held[scope] }
}

// foldersAt is the folders of the scopes that existed right after log
// entry seq: a record belongs to the deepest of them above its name.
func foldersAt(m *wire.Membership, folders map[string]string, seq int64) map[string]string {
	out := make(map[string]string, len(folders))
	for id, f := range folders {
		if s, ok := m.Scopes[id]; ok && s.Created <= seq {
			out[id] = f
		}
	}
	return out
}

// checkRemovals refuses a removal whose scope is not the deepest scope
// above the name it removes, as this device knows the name: a removal
// carries no name (its scope is that of the name it had on the writer's
// device), so without this a writer of app/staging could remove
// app/prod/DB from every device that holds both by sealing its removal
// into app/staging. Checked for a copy in step with the server (what the
// removal would delete now); a copy changed here meets the removal as a
// conflict, and checkKept checks it if it is kept.
func (s *syncer) checkRemovals(recs []wire.Record, opened []*payload) error {
	m := s.st.Members
	if m == nil || len(m.Scopes) == 0 {
		return nil // one scope: the key that opened it is the only check
	}
	var folders map[string]string
	for i := range recs {
		r, p := &recs[i], opened[i]
		if p == nil || !p.Deleted {
			continue
		}
		t := s.tracked[r.ID]
		if t == nil || !t.Exists || t.Deleted || t.Dirty() {
			continue // nothing here for it to remove, or a conflict
		}
		sec, err := s.v.ByID(t.ID)
		if err != nil {
			return err
		}
		name := sec.Name
		clear(sec.Value)
		if folders == nil {
			if folders, err = s.st.scopeFolders(); err != nil {
				return err
			}
		}
		if err := removalFits(m, folders, r, name); err != nil {
			return err
		}
	}
	return nil
}

// checkMoves skips, as unreadable (its author's doing, reported), a new
// version of a secret whose way here moved it out of a folder scope at
// the hands of a device that could not write that scope: else a writer
// of app/staging could take app/prod/DB from every device by sealing its
// next version, renamed, into app/staging (the server refuses such a
// push too). Only a writer of the scope a record leaves may move it out
// (`hush mv`), and a later version by a writer of that scope makes the
// record good again. The way is the record's entries in this pull, one
// version after the other (entriesOf), starting from this device's copy
// when the first of them is the next version after it; a version not
// seen (written before this pull, of a scope this device does not hold)
// is its holders' to check. Removals are checkRemovals'.
func (s *syncer) checkMoves(recs []wire.Record, opened []*payload, unreadable []*UnreadableRecordError) error {
	m := s.st.Members
	if m == nil || len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return nil
	}
	var folders map[string]string
	for i := range recs {
		r, p := &recs[i], opened[i]
		if p == nil || p.Deleted {
			continue
		}
		way := s.entriesOf[r.ID]
		if len(way) == 0 {
			continue
		}
		from, known := "", false
		if t := s.tracked[r.ID]; t != nil && t.Exists && !t.Deleted && !t.Dirty() && t.Mark != nil && t.Mark.Seen == way[0].Version-1 {
			if folders == nil {
				var err error
				if folders, err = s.st.scopeFolders(); err != nil {
					return err
				}
			}
			name := s.name(r.ID)
			from, known = wire.DeepestScope(foldersAt(m, folders, way[0].LogSeq), name), true
		}
		if bad := badMove(s.st, from, known, way, r.Version); bad != nil {
			clear(p.Value)
			opened[i], unreadable[i] = nil, moveReport(m, bad, r.ID, s.name(r.ID))
		}
	}
	return nil
}

// badMove walks a record's entries up to version upTo, from scope from
// (when known), and returns the entry that last moved it out of a scope
// its author could not write, unless an entry after it is by a writer of
// that scope.
func badMove(st *State, from string, known bool, way []wire.ChainEntry, upTo int64) *wire.ChainEntry {
	var bad *wire.ChainEntry
	var left string
	for i := range way {
		e := &way[i]
		if e.Version > upTo {
			break
		}
		if known && from != e.Scope && !st.writesScopeAt(e.Author, from, e.LogSeq) {
			bad, left = e, from
		} else if bad != nil && st.writesScopeAt(e.Author, left, e.LogSeq) {
			bad = nil
		}
		// The next entry follows this one only if it is the next version.
		known = i+1 < len(way) && way[i+1].Version == e.Version+1
		from = e.Scope
	}
	return bad
}

// moveReport is the unreadable record a bad move by e makes of record id
// (name here, if known).
func moveReport(m *wire.Membership, e *wire.ChainEntry, id, name string) *UnreadableRecordError {
	device, member := e.Author, ""
	if d := m.Devices[e.Author]; d != nil {
		device, member = d.Name, d.Member
	}
	return &UnreadableRecordError{BadRecordError{id, fmt.Sprintf("it moves %s out of a folder scope its author could not write", name)}, device, member, e.Version}
}

// moveFits refuses r, a new version of the secret this device names
// name, when r's scope is not that name's and r's author could not write
// that name's scope when r was written (a record kept with `hush resolve
// --keep theirs`, met as a conflict).
func moveFits(m *wire.Membership, folders map[string]string, r *wire.Record, name string) *UnreadableRecordError {
	from := wire.DeepestScope(foldersAt(m, folders, r.LogSeq), name)
	if from == r.Scope {
		return nil
	}
	if d := m.Devices[r.Author]; d != nil {
		if role, held := m.RoleOn(d.Member, from, r.LogSeq); held && wire.CanWrite(role) {
			return nil
		}
	}
	e := wire.ChainEntry{Author: r.Author}
	return moveReport(m, &e, r.ID, name)
}

// removalFits refuses removal r of the secret this device names name
// unless r's scope is the deepest scope above name as the log stood when
// r was written.
func removalFits(m *wire.Membership, folders map[string]string, r *wire.Record, name string) error {
	if want := wire.DeepestScope(foldersAt(m, folders, r.LogSeq), name); want != r.Scope {
		return &BadRecordError{r.ID, fmt.Sprintf("it removes %s here, but came as a removal in another scope than that name's", name)}
	}
	return nil
}

// checkKept is checkRemovals (deleted) and checkMoves for a record that
// met a change here and is kept with `hush resolve --keep theirs`: its
// scope is checked against this device's name for the secret (changed
// here: if it was moved into another scope, keep mine, or remove it with
// `hush rm`).
func (st *State) checkKept(r *wire.Record, deleted bool, name string) error {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 {
		return nil
	}
	folders, err := st.Folders()
	if err != nil {
		return err
	}
	if deleted {
		return removalFits(m, folders, r, name)
	}
	if err := moveFits(m, folders, r, name); err != nil {
		return err
	}
	return nil
}

// scopeFolders is Folders, as prepareFolders kept it while the verified
// log did not move (a push seals many records; a pull opens many).
func (st *State) scopeFolders() (map[string]string, error) {
	if st.Members == nil || len(st.Members.Scopes) == 0 {
		return nil, nil
	}
	if st.folders != nil && st.foldersSeq == st.Members.Seq {
		return st.folders, nil
	}
	return st.Folders() // not kept: records are sealed and opened on every core
}

// prepareFolders opens the scopes' folder names once for the records a
// sync seals and opens next (scopeFolders). Not safe to run alongside
// them.
func (st *State) prepareFolders() {
	if st.Members == nil || len(st.Members.Scopes) == 0 || st.folders != nil && st.foldersSeq == st.Members.Seq {
		return
	}
	if f, err := st.Folders(); err == nil {
		st.folders, st.foldersSeq = f, st.Members.Seq
	}
}

// sealKey is the key and epoch a record of scope is sealed under now.
func (st *State) sealKey(scope string) (*crypto.Key, int64, error) {
	if scope == "" {
		k, err := st.teamKey()
		return k, st.Epoch, err
	}
	sk, ok := st.ScopeKeys[scope]
	if !ok {
		return nil, 0, scopeErr("this device does not hold the key of the scope of this secret: ask an admin for a grant (`hush team grant`)")
	}
	return recordKey(st.Team, sk.Key)
}

func recordKey(team string, b []byte) (*crypto.Key, int64, error) {
	k, err := crypto.KeyFromBytes(b)
	if err != nil {
		return nil, 0, err
	}
	defer k.Wipe()
	return k.Subkey([]byte(team), "hush/v1/team-records"), 0, nil
}

// ListScopes verifies the log and lists the team's scopes (Scopes).
func (t *Team) ListScopes(ctx context.Context) ([]ScopeInfo, error) {
	if _, err := t.verifyLog(ctx); err != nil && !errors.Is(err, ErrOffline) {
		return nil, err
	}
	return t.st.Scopes()
}

// ErrOutOfScope means a name is outside a machine token's scopes.
var ErrOutOfScope = errors.New("not in this token's scopes")

// InScopes checks, before anything is fetched, that a name (or a folder,
// for ls and export: "" is the whole team) is one a token with these
// scope folders may read: inside one of them, or a folder above one of
// them (listing it shows only what is in the scopes). No scopes: the
// whole team.
func InScopes(scopes []string, name string, folder bool) error {
	if len(scopes) == 0 {
		return nil
	}
	n := strings.TrimSuffix(name, "/")
	for _, f := range scopes {
		if n == f || strings.HasPrefix(n, f+"/") || folder && (n == "" || strings.HasPrefix(f, n+"/")) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s only", ErrOutOfScope, strings.Join(scopes, ", "))
}

// outOfScope is the known map VerifyChainKnown takes (known: the entries
// this device signed), plus every entry of a scope this device does not
// hold, by its own hash: their links are checked in order like every
// entry's, their signatures are not. This device applies nothing of
// them (it gets none of their records), and the devices that hold their
// scopes check their signatures: a forged one there forks the chain for
// them, which `hush team verify` shows. A machine holding 50 of a team's
// 10,000 records verifies 50 signatures, not 10,000.
func outOfScope(team string, es []wire.ChainEntry, holds func(string) bool, known map[int64][]byte) map[int64][]byte {
	if holds == nil {
		return known
	}
	out := make(map[int64][]byte, len(known))
	for pos, h := range known {
		out[pos] = h
	}
	for i := range es {
		if e := &es[i]; e.Kind == wire.ChainRecord && !holds(e.Scope) {
			if _, mine := known[e.Pos]; !mine {
				out[e.Pos] = e.Hash(team)
			}
		}
	}
	return out
}

// WritesAny reports whether this device may write anything: a writing
// team role, or a writer grant on a scope (docs/sync.md "Folder scopes": a
// member's role on a scope is the grant's, on the root the team role). A
// sync pushes only then, and writableScope keeps back what it may not
// write.
func (st *State) WritesAny() bool {
	if wire.CanWrite(st.Role) {
		return true
	}
	m := st.Members
	if m == nil || len(m.Scopes) == 0 {
		return false
	}
	d, ok := m.Devices[st.Device.ID]
	return ok && d.Active && m.WritesAny(d.Member, m.Seq)
}

// writesAt reports whether device d, whose team role at log position seq
// is role, could write some scope there: the record its chain entry names
// is then checked against its own scope (openRecord).
func (st *State) writesAt(d *wire.LogDevice, role string, seq int64) bool {
	return wire.CanWrite(role) || len(st.Members.Scopes) > 0 && st.Members.WritesAny(d.Member, seq)
}

// writableScope says whether this device may write a name, by the scope it
// belongs to (nil: a team without scopes, where its role alone decides).
// Not safe to run alongside the sealing of records (it may open the
// scopes' folder names).
func (st *State) writableScope() func(name string) bool {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return nil
	}
	st.prepareFolders()
	folders, err := st.scopeFolders()
	if err != nil {
		return nil // sealing says why
	}
	d, ok := m.Devices[st.Device.ID]
	if !ok {
		return nil
	}
	can := map[string]bool{}
	for _, id := range append([]string{""}, slices.Collect(maps.Keys(m.Scopes))...) {
		role, held := m.RoleOn(d.Member, id, m.Seq)
		can[id] = held && wire.CanWrite(role)
	}
	return func(name string) bool { return name == "" || can[wire.DeepestScope(folders, name)] }
}

// wrapHeld wraps to a device the key of each scope it holds in next (the
// membership right after the entry that adds it), in HeldScopes' order:
// what its approval carries.
func (st *State) wrapHeld(next *wire.Membership, d *wire.Device) ([]wire.WrappedKey, error) {
	var out []wire.WrappedKey
	for _, id := range next.HeldScopes(d.ID) {
		key, epoch := st.Keys[st.Epoch], st.Epoch
		if id != "" {
			key, epoch = st.ScopeKeys[id].Key, st.ScopeKeys[id].Epoch
		}
		if ep, _ := next.ScopeEpoch(id); len(key) != crypto.KeySize || epoch != ep {
			return nil, fmt.Errorf("this device does not hold the current key of scope %q: run `hush sync` first", id)
		}
		wk, err := st.wrapScopeKeyFor(d, id, epoch, key)
		if err != nil {
			return nil, err
		}
		out = append(out, *wk)
	}
	if len(out) == 0 {
		return nil, errors.New("the device would hold no scope")
	}
	return out, nil
}

// Held is what the verified log says this device may read now: the
// scopes it holds and their folders. A long-running reader (`hush agent`)
// checks every name against it, and drops what it held before a scope
// was taken away (Lost).
type Held struct {
	ids     []string          // held scope ids ("": the root), sorted
	folders map[string]string // every scope's folder, by id
}

// Held is this device's Held from the log it verified last.
func (st *State) Held() (*Held, error) {
	if st.Members == nil {
		return &Held{}, nil
	}
	ids := st.Members.HeldScopes(st.Device.ID)
	if len(ids) == 0 {
		return &Held{}, nil // nothing held: no names key to know folders by
	}
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	return &Held{ids: ids, folders: folders}, nil
}

// Name reports whether the scope a name belongs to is held.
func (h *Held) Name(name string) bool {
	return slices.Contains(h.ids, wire.DeepestScope(h.folders, name))
}

// Lost reports whether a scope held in before is held no longer.
func (h *Held) Lost(before *Held) bool {
	for _, id := range before.ids {
		if !slices.Contains(h.ids, id) {
			return true
		}
	}
	return false
}

// Folders is the folders held, "/" for the root, sorted: for a message.
func (h *Held) Folders() []string {
	var out []string
	for _, id := range h.ids {
		if id == "" {
			out = append(out, "/")
		} else {
			out = append(out, h.folders[id])
		}
	}
	slices.Sort(out)
	return out
}

// Unwritable lists the names among names that this device may not write
// (a folder scope it does not hold, or holds as a reader): a change to
// them stays on the device. Empty for a team without scopes, where the
// role alone decides.
func (st *State) Unwritable(names []string) []string {
	writable := st.writableScope()
	if writable == nil {
		return nil
	}
	var out []string
	for _, n := range names {
		if !writable(n) {
			out = append(out, n)
		}
	}
	return out
}
