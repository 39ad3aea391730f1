package wire

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/crypto"
)

// Folder scopes (docs/sync.md "Folder scopes"): a scope is a folder of the
// team's names; the root is a scope too, with the empty id. Each scope has
// its own key per epoch, wrapped only to the devices of the members who
// hold it. The log says who holds which scope: a grant gives one member
// one scope with a role (reader or writer), an ungrant takes it away and
// starts a new epoch of that scope, and an epoch entry with a scope starts
// a new epoch of that scope alone. Admins hold every scope by their role.
//
// The log carries scope ids only, never a folder name in clear: the server
// replays these rules to know which member holds which scope id, and so
// which records and keys it may send a device. The folder name travels
// sealed under the team's names key (SealFolder), for members.

// MaxScopes bounds the scopes of a team, and of a machine entry.
const MaxScopes = 1000

// maxFolder bounds a sealed folder name: a name of at most 512 bytes
// (vault.MaxNameLen), sealed.
const maxFolder = 1024

// Scope is one folder scope as the log says.
type Scope struct {
	ID       string
	Parent   string // the scope it was carved out of ("": the root)
	Folder   []byte // its folder name, sealed under the names key
	Created  int64  // the grant that created it
	Epoch    int64
	EpochSeq int64        // the entry that began its current epoch
	Grants   []ScopeGrant // oldest first
}

// ScopeGrant is a member's role on a scope from log seq From until
// Until (0: still held). For the root, RootOff spans say when a member did
// not hold it (Role is empty).
type ScopeGrant struct {
	Member string
	Role   string
	From   int64
	Until  int64 `json:",omitempty"`
}

func (g *ScopeGrant) covers(seq int64) bool {
	return g.From <= seq && (g.Until == 0 || seq < g.Until)
}

// current is the member's open grant on s, or nil.
func (s *Scope) current(member string) *ScopeGrant {
	for i := range s.Grants {
		if g := &s.Grants[i]; g.Member == member && g.Until == 0 {
			return g
		}
	}
	return nil
}

// scopeParts is what scope fields add to an entry's signed encoding: only
// the kinds that carry them sign them, and only when set, so that every
// entry written before scopes keeps its encoding and hash.
func (e *LogEntry) scopeParts() []any {
	switch {
	case e.Kind == LogGrant || e.Kind == LogUngrant:
		return []any{"scope", e.Scope, e.Parent, e.Folder}
	case e.Kind == LogEpoch && e.Scope != "":
		return []any{"scope", e.Scope}
	case (e.Kind == LogMachine || e.Kind == LogAdd) && len(e.Scopes) > 0:
		return []any{"scopes", strings.Join(e.Scopes, ",")}
	}
	return nil
}

// scopeFieldsFit refuses scope fields on an entry that does not sign them:
// a field its signature does not cover could be the server's.
func (e *LogEntry) scopeFieldsFit() string {
	switch e.Kind {
	case LogGrant, LogUngrant:
		if len(e.Scopes) > 0 {
			return "a grant names one scope"
		}
	case LogEpoch:
		if e.Parent != "" || len(e.Folder) > 0 || len(e.Scopes) > 0 {
			return "an epoch entry names at most a scope"
		}
	case LogMachine, LogAdd:
		if e.Scope != "" || e.Parent != "" || len(e.Folder) > 0 {
			return fmt.Sprintf("a %s entry lists its scopes in scopes", e.Kind)
		}
	default:
		if e.Scope != "" || e.Parent != "" || len(e.Folder) > 0 || len(e.Scopes) > 0 {
			return fmt.Sprintf("a %s entry has no scope fields", e.Kind)
		}
	}
	return ""
}

// teamRole is the member's team role now ("" when no device of theirs is
// active).
func (m *Membership) teamRole(member string) string {
	if ds := m.memberDevices(member); len(ds) > 0 {
		return ds[0].Role
	}
	return ""
}

// rootOff is the member's open span without the root, or nil.
func (m *Membership) rootOff(member string) *ScopeGrant {
	for i := range m.RootOff {
		if g := &m.RootOff[i]; g.Member == member && g.Until == 0 {
			return g
		}
	}
	return nil
}

// scopeAt is scope id's state ("": nil, the root).
func (m *Membership) scope(id string) (*Scope, error) {
	if id == "" {
		return nil, nil
	}
	s, ok := m.Scopes[id]
	if !ok {
		return nil, fmt.Errorf("scope %s is not in the log", id)
	}
	return s, nil
}

// holdersNow is who holds scope id now (not admins: they hold every
// scope by their role), with their roles.
func (m *Membership) holdersNow(id string) map[string]string {
	out := map[string]string{}
	if id == "" {
		for _, d := range m.Devices {
			if d.Active && d.Role != RoleAdmin && m.rootOff(d.Member) == nil {
				out[d.Member] = d.Role
			}
		}
		return out
	}
	for _, g := range m.Scopes[id].Grants {
		if g.Until == 0 {
			out[g.Member] = g.Role
		}
	}
	return out
}

// applyGrant checks and applies a grant (its signature and place in the
// chain are already checked).
func (m *Membership) applyGrant(e *LogEntry) error {
	if e.Member == "" {
		// A scope made for no member yet (a machine's, made next): its
		// holders are its parent's.
		if e.Role != "" || e.Scope == "" {
			return errors.New("a grant to no member makes a scope, with no role")
		}
		if _, ok := m.Scopes[e.Scope]; ok {
			return fmt.Errorf("scope %s is already in the log", e.Scope)
		}
		return m.newScope(e)
	}
	role := m.teamRole(e.Member)
	switch {
	case role == "":
		return fmt.Errorf("member %q has no device in the team", e.Member)
	case role == RoleAdmin:
		return fmt.Errorf("%s is an admin: admins hold every scope", e.Member)
	case e.Role != RoleReader && e.Role != RoleWriter:
		return fmt.Errorf("a scope is granted to a reader or a writer, not %q", e.Role)
	}
	if e.Scope == "" { // the root, given back
		if e.Parent != "" || len(e.Folder) > 0 || e.Epoch != m.Epoch {
			return errors.New("a grant of the root names no parent nor folder, at the root's epoch")
		}
		if e.Role != role {
			return fmt.Errorf("on the root %s has their team role, %s", e.Member, role)
		}
		off := m.rootOff(e.Member)
		if off == nil {
			return fmt.Errorf("%s already holds the root", e.Member)
		}
		off.Until = e.Seq
		return nil
	}
	if !ValidID(e.Scope) {
		return errors.New("a scope id is 32 hex digits")
	}
	s, ok := m.Scopes[e.Scope]
	if !ok {
		return m.newScope(e)
	}
	if e.Parent != "" || len(e.Folder) > 0 {
		return errors.New("a grant of an existing scope names no parent nor folder")
	}
	if e.Epoch != s.Epoch {
		return fmt.Errorf("scope %s is at epoch %d, not %d", e.Scope, s.Epoch, e.Epoch)
	}
	if g := s.current(e.Member); g != nil {
		if g.Role == e.Role {
			return fmt.Errorf("%s already holds scope %s as %s", e.Member, e.Scope, e.Role)
		}
		g.Until = e.Seq
	}
	s.Grants = append(s.Grants, ScopeGrant{Member: e.Member, Role: e.Role, From: e.Seq})
	return nil
}

// newScope applies a grant that makes a scope: epoch 1, its folder sealed,
// held by its parent's holders and the grantee (if any).
func (m *Membership) newScope(e *LogEntry) error {
	if !ValidID(e.Scope) {
		return errors.New("a scope id is 32 hex digits")
	}
	if len(m.Scopes) >= MaxScopes {
		return fmt.Errorf("a team has at most %d scopes", MaxScopes)
	}
	if len(e.Folder) <= crypto.Overhead || len(e.Folder) > maxFolder {
		// <= Overhead: sealed, an empty folder; the server cannot open it
		// but refuses what cannot hold a name, and clients check the name.
		return errors.New("a grant that creates a scope carries its sealed folder name")
	}
	if e.Epoch != 1 {
		return errors.New("a new scope starts at epoch 1")
	}
	if e.Parent != "" {
		if _, ok := m.Scopes[e.Parent]; !ok {
			return fmt.Errorf("its parent scope %s is not in the log", e.Parent)
		}
	}
	// Whoever held the parent holds the new scope: carving a scope out
	// of another takes nothing from anyone.
	s := &Scope{ID: e.Scope, Parent: e.Parent, Folder: e.Folder, Created: e.Seq, Epoch: 1, EpochSeq: e.Seq}
	holders := m.holdersNow(e.Parent)
	members := make([]string, 0, len(holders))
	for member := range holders {
		members = append(members, member)
	}
	slices.Sort(members) // the same state for every replay
	for _, member := range members {
		if member != e.Member {
			s.Grants = append(s.Grants, ScopeGrant{Member: member, Role: holders[member], From: e.Seq})
		}
	}
	if e.Member != "" {
		s.Grants = append(s.Grants, ScopeGrant{Member: e.Member, Role: e.Role, From: e.Seq})
	}
	if m.Scopes == nil {
		m.Scopes = map[string]*Scope{}
	}
	m.Scopes[e.Scope] = s
	return nil
}

// applyUngrant checks and applies an ungrant: the member loses the scope,
// and the scope's next epoch begins.
func (m *Membership) applyUngrant(e *LogEntry) error {
	role := m.teamRole(e.Member)
	switch {
	case role == "":
		return fmt.Errorf("member %q has no device in the team", e.Member)
	case role == RoleAdmin:
		return fmt.Errorf("%s is an admin: admins hold every scope (change their role first)", e.Member)
	case e.Role != "" || e.Parent != "" || len(e.Folder) > 0:
		return errors.New("an ungrant names a member, a scope and its next epoch only")
	}
	if e.Scope == "" {
		if m.rootOff(e.Member) != nil {
			return fmt.Errorf("%s does not hold the root", e.Member)
		}
		if e.Epoch != m.Epoch+1 {
			return fmt.Errorf("the root's next epoch is %d, not %d", m.Epoch+1, e.Epoch)
		}
		m.RootOff = append(m.RootOff, ScopeGrant{Member: e.Member, From: e.Seq})
		m.Epoch, m.EpochSeq = e.Epoch, e.Seq
		return nil
	}
	s, err := m.scope(e.Scope)
	if err != nil {
		return err
	}
	g := s.current(e.Member)
	if g == nil {
		return fmt.Errorf("%s does not hold scope %s", e.Member, e.Scope)
	}
	if e.Epoch != s.Epoch+1 {
		return fmt.Errorf("scope %s's next epoch is %d, not %d", e.Scope, s.Epoch+1, e.Epoch)
	}
	g.Until = e.Seq
	s.Epoch, s.EpochSeq = e.Epoch, e.Seq
	return nil
}

// applyScopeEpoch begins the next epoch of one scope.
func (m *Membership) applyScopeEpoch(e *LogEntry) error {
	s, err := m.scope(e.Scope)
	if err != nil {
		return err
	}
	if e.Epoch != s.Epoch+1 {
		return fmt.Errorf("scope %s's next epoch is %d, not %d", e.Scope, s.Epoch+1, e.Epoch)
	}
	s.Epoch, s.EpochSeq = e.Epoch, e.Seq
	return nil
}

// checkMachineScopes checks a machine entry's scopes: ids of scopes in the
// log, each once.
func (m *Membership) checkMachineScopes(e *LogEntry) error {
	if len(e.Scopes) > MaxScopes {
		return fmt.Errorf("a machine holds at most %d scopes", MaxScopes)
	}
	seen := map[string]bool{}
	for _, id := range e.Scopes {
		if _, ok := m.Scopes[id]; !ok || seen[id] {
			return fmt.Errorf("a machine's scopes are scopes of the log, each once (%q is not)", id)
		}
		seen[id] = true
	}
	return nil
}

// memberScopes gives a member (a machine, or a person added with scopes)
// the entry's scopes with its role, and not the root.
func (m *Membership) memberScopes(member string, e *LogEntry) {
	if len(e.Scopes) == 0 {
		return
	}
	m.RootOff = append(m.RootOff, ScopeGrant{Member: member, From: e.Seq})
	for _, id := range e.Scopes {
		s := m.Scopes[id]
		s.Grants = append(s.Grants, ScopeGrant{Member: member, Role: e.Role, From: e.Seq})
	}
}

// leaveScopes closes the grants of members who no longer have a device in
// the team, so that a name used again later starts with nothing.
func (m *Membership) leaveScopes(seq int64) {
	gone := func(member string) bool { return len(m.memberDevices(member)) == 0 }
	for _, s := range m.Scopes {
		for i := range s.Grants {
			if g := &s.Grants[i]; g.Until == 0 && gone(g.Member) {
				g.Until = seq
			}
		}
	}
	for i := range m.RootOff {
		if g := &m.RootOff[i]; g.Until == 0 && gone(g.Member) {
			g.Until = seq
		}
	}
}

// ScopesOf is the scopes a member holds right after log entry seq, with
// their roles ("" is the root). An admin holds every scope.
func (m *Membership) ScopesOf(member string, seq int64) map[string]string {
	out := map[string]string{}
	role := ""
	for _, d := range m.Devices {
		if d.Member == member {
			if r, ok := d.RoleAt(seq); ok {
				role = r
			}
		}
	}
	if role == "" {
		return out
	}
	if role == RoleAdmin {
		out[""] = RoleAdmin
		for id, s := range m.Scopes {
			if s.Created <= seq {
				out[id] = RoleAdmin
			}
		}
		return out
	}
	off := false
	for i := range m.RootOff {
		if g := &m.RootOff[i]; g.Member == member && g.covers(seq) {
			off = true
		}
	}
	if !off {
		out[""] = role
	}
	for id, s := range m.Scopes {
		for i := range s.Grants {
			if g := &s.Grants[i]; g.Member == member && g.covers(seq) {
				out[id] = g.Role
			}
		}
	}
	return out
}

// RoleOn is a member's role on scope id right after log entry seq, and
// whether they held it then.
func (m *Membership) RoleOn(member, id string, seq int64) (string, bool) {
	role := ""
	for _, d := range m.Devices {
		if d.Member == member {
			if r, ok := d.RoleAt(seq); ok {
				role = r
				break
			}
		}
	}
	if role == "" {
		return "", false
	}
	if id == "" {
		for i := range m.RootOff {
			if g := &m.RootOff[i]; g.Member == member && g.covers(seq) {
				return "", false
			}
		}
		return role, true
	}
	s, ok := m.Scopes[id]
	if !ok || s.Created > seq {
		return "", false
	}
	if role == RoleAdmin {
		return RoleAdmin, true
	}
	for i := range s.Grants {
		if g := &s.Grants[i]; g.Member == member && g.covers(seq) {
			return g.Role, true
		}
	}
	return "", false
}

// WritesAny reports whether a member may write some scope right after log
// entry seq: a writing team role on the root they hold, or a writer grant
// on a scope. A member whose team role is reader but who holds a writer
// grant pushes into that scope (docs/sync.md "Folder scopes": a member's
// role on a scope is the grant's, on the root the team role).
func (m *Membership) WritesAny(member string, seq int64) bool {
	for _, role := range m.ScopesOf(member, seq) {
		if CanWrite(role) {
			return true
		}
	}
	return false
}

// Holds reports whether the device may have scope id's records and keys
// now: it is active and its member holds the scope.
func (m *Membership) Holds(device, id string) bool {
	d, ok := m.Devices[device]
	if !ok || !d.Active {
		return false
	}
	_, ok = m.RoleOn(d.Member, id, m.Seq)
	return ok
}

// HeldAt reports whether the device was in the team right after log
// entry seq and its member held scope id (the root for "") then.
func (m *Membership) HeldAt(device, id string, seq int64) bool {
	d, ok := m.Devices[device]
	if !ok {
		return false
	}
	if _, in := d.RoleAt(seq); !in {
		return false
	}
	_, ok = m.RoleOn(d.Member, id, seq)
	return ok
}

// HeldScopes is the scopes a device holds now, the root ("") first, then
// by id: the keys its approval carries, in that order.
func (m *Membership) HeldScopes(device string) []string {
	var out []string
	if m.Holds(device, "") {
		out = append(out, "")
	}
	ids := make([]string, 0, len(m.Scopes))
	for id := range m.Scopes {
		if m.Holds(device, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return append(out, ids...)
}

// ScopeEpoch is scope id's current epoch (the root's for "").
func (m *Membership) ScopeEpoch(id string) (int64, bool) {
	if id == "" {
		return m.Epoch, true
	}
	s, ok := m.Scopes[id]
	if !ok {
		return 0, false
	}
	return s.Epoch, true
}

// Clone is a deep copy: a client applies entries to a copy, so a bad one
// leaves its verified state as it was.
func (m *Membership) Clone() *Membership {
	c := *m
	c.Devices = make(map[string]*LogDevice, len(m.Devices))
	for id, d := range m.Devices {
		dc := *d
		dc.Roles = append([]RoleSpan(nil), d.Roles...)
		c.Devices[id] = &dc
	}
	if m.Scopes != nil {
		c.Scopes = make(map[string]*Scope, len(m.Scopes))
		for id, s := range m.Scopes {
			sc := *s
			sc.Grants = append([]ScopeGrant(nil), s.Grants...)
			c.Scopes[id] = &sc
		}
	}
	c.RootOff = append([]ScopeGrant(nil), m.RootOff...)
	return &c
}

// Scope ids and folder names, for members: both need the team's names
// key, which every device of the team holds and the server does not.

// ScopeID is the id of folder (a valid name, without a trailing "/") in
// team: HMAC-SHA-256 under the names key, 16 bytes in hex. The root's id
// is "".
func ScopeID(namesKey []byte, team, folder string) string {
	if folder == "" {
		return ""
	}
	mac := hmac.New(sha256.New, namesKey)
	mac.Write(crypto.AD("hush/v1/scope-id", team, folder))
	return hex.EncodeToString(mac.Sum(nil)[:16])
}

func folderKey(namesKey []byte, team string) *crypto.Key {
	k, _ := crypto.KeyFromBytes(namesKey)
	if k == nil { // a names key is 32 bytes; anything else opens nothing
		k = new(crypto.Key)
	}
	defer k.Wipe()
	return k.Subkey([]byte(team), "hush/v1/scope-folder")
}

// FolderError is CheckFolder's error: one line, naming the folder and why.
type FolderError struct{ Folder, Reason string }

func (e *FolderError) Error() string {
	return fmt.Sprintf("%q is not a valid folder name: %s", e.Folder, e.Reason)
}

// maxFolderName bounds a folder name so that it fits, sealed, in a grant.
const maxFolderName = maxFolder - crypto.Overhead

// CheckFolder is the one rule for a scope's folder name, used by every
// command that names a scope (grant, ungrant, invite --scope), by a
// machine token's folders and by a sealed folder opened from the log: a
// non-empty path of segments of A-Z a-z 0-9 _ . - (the vault's name
// alphabet, so no control character or newline) joined by single "/",
// with no "/" at either end and no "." or ".." segment. The root is not a
// folder here: a command that may name it spells it "/" itself.
func CheckFolder(folder string) error {
	bad := func(why string) error { return &FolderError{folder, why} }
	switch {
	case folder == "":
		return bad("it is empty (name a folder, such as app/prod)")
	case len(folder) > maxFolderName:
		return &FolderError{folder[:32] + "...", fmt.Sprintf("longer than %d bytes", maxFolderName)}
	case strings.HasPrefix(folder, "/"):
		return bad(`starts with "/"`)
	case strings.HasSuffix(folder, "/"):
		return bad(`ends with "/"`)
	}
	for _, seg := range strings.Split(folder, "/") {
		switch seg {
		case "":
			return bad(`empty segment ("//")`)
		case ".", "..":
			return bad(fmt.Sprintf("segment %q is not allowed", seg))
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
				return bad(fmt.Sprintf("character %q is not allowed (use A-Z a-z 0-9 _ . -)", r))
			}
		}
	}
	return nil
}

// SealFolder seals a folder name for a grant entry that creates its scope.
func SealFolder(namesKey []byte, team, folder string) ([]byte, error) {
	if err := CheckFolder(folder); err != nil {
		return nil, err
	}
	k := folderKey(namesKey, team)
	defer k.Wipe()
	// Padded with zero bytes (never in a folder name), so that the server
	// does not learn a folder name's length from its grant: to 256 bytes,
	// or the longest a name may be.
	pt := make([]byte, folderPad)
	if len(folder) > folderPad {
		pt = make([]byte, maxFolderName)
	}
	copy(pt, folder)
	return crypto.Seal(k, pt, crypto.AD("hush/v1/scope-folder", team, ScopeID(namesKey, team, folder)))
}

// folderPad is the length a sealed folder name is padded to (the longest
// ones, to maxFolderName).
const folderPad = 256

// ErrFolder means a grant's sealed folder name does not open to a folder
// whose id is the grant's scope.
var ErrFolder = errors.New("a scope's folder name in the membership log does not match its id")

// OpenFolder opens a scope's sealed folder name and checks that it is the
// scope's: its id under the names key is id.
func OpenFolder(namesKey []byte, team, id string, sealed []byte) (string, error) {
	k := folderKey(namesKey, team)
	defer k.Wipe()
	pt, err := crypto.Open(k, sealed, crypto.AD("hush/v1/scope-folder", team, id))
	if err != nil {
		return "", ErrFolder
	}
	pt = bytes.TrimRight(pt, "\x00") // padding (names sealed before it have none)
	if CheckFolder(string(pt)) != nil || ScopeID(namesKey, team, string(pt)) != id {
		return "", ErrFolder
	}
	return string(pt), nil
}

// DeepestScope is the id of the deepest scope above name, given the
// folders of the team's scopes by id ("": the root).
func DeepestScope(folders map[string]string, name string) string {
	best, bestLen := "", -1
	for id, f := range folders {
		if len(f) > bestLen && strings.HasPrefix(name, f) && len(name) > len(f) && name[len(f)] == '/' {
			best, bestLen = id, len(f)
		}
	}
	return best
}
