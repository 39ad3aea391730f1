package wire

// Unit tests of folder scopes in the membership log: grants, ungrants,
// scoped epochs and scoped machines, each refusal and each success, roles
// on scopes over time, that the scope fields are signed, and scope ids
// and sealed folder names.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

var namesKey = func() []byte { h := sha256.Sum256([]byte("hush test names key")); return h[:] }()

func (c *chain) grant(by *tdev, member, folder, parent, role string) *LogEntry {
	e := c.next(LogGrant)
	e.Member, e.Role, e.Scope, e.Parent = member, role, ScopeID(namesKey, testTeam, folder), parent
	if s, ok := c.m.Scopes[e.Scope]; ok {
		e.Epoch = s.Epoch
	} else if folder != "" { // the root's grant: the test sets its epoch
		e.Epoch = 1
		sealed, err := SealFolder(namesKey, testTeam, folder)
		if err != nil {
			c.t.Fatal(err)
		}
		e.Folder = sealed
	}
	return signed(e, by)
}

func (c *chain) ungrant(by *tdev, member, folder string) *LogEntry {
	e := c.next(LogUngrant)
	e.Member, e.Scope = member, ScopeID(namesKey, testTeam, folder)
	e.Epoch, _ = c.m.ScopeEpoch(e.Scope)
	e.Epoch++
	return signed(e, by)
}

func (c *chain) scopeEpoch(by *tdev, folder string, n int64) *LogEntry {
	e := c.next(LogEpoch)
	e.Scope, e.Epoch = ScopeID(namesKey, testTeam, folder), n
	return signed(e, by)
}

// resigned is e changed by mut and signed again by ann.
func resigned(e *LogEntry, mut func(e *LogEntry)) *LogEntry {
	c := *e
	mut(&c)
	return signed(&c, ann)
}

func wantScopes(t *testing.T, m *Membership, member string, seq int64, want map[string]string) {
	t.Helper()
	if got := m.ScopesOf(member, seq); !maps.Equal(got, want) {
		t.Fatalf("%s's scopes at %d: %v, want %v", member, seq, got, want)
	}
}

var (
	staging = ScopeID(namesKey, testTeam, "app/staging")
	prod    = ScopeID(namesKey, testTeam, "app/prod")
)

func TestGrant(t *testing.T) {
	c := team(t) // ann admin, wes writer, rita reader
	g := c.grant(ann, "rita", "app/staging", "", RoleWriter)
	c.refuse(signed(c.grant(ann, "rita", "app/staging", "", RoleWriter), wes), "not an admin")
	c.refuse(c.grant(ann, "ann", "app/staging", "", RoleWriter), "ann is an admin: admins hold every scope")
	c.refuse(c.grant(ann, "nobody", "app/staging", "", RoleWriter), `member "nobody" has no device`)
	c.refuse(c.grant(ann, "rita", "app/staging", "", RoleAdmin), "a reader or a writer")
	c.refuse(resigned(g, func(e *LogEntry) { e.Epoch = 2 }), "a new scope starts at epoch 1")
	c.refuse(resigned(g, func(e *LogEntry) { e.Folder = nil }), "carries its sealed folder name")
	c.refuse(resigned(g, func(e *LogEntry) { e.Folder = make([]byte, 2000) }), "carries its sealed folder name")
	c.refuse(resigned(g, func(e *LogEntry) { e.Parent = prod }), "its parent scope")
	c.refuse(resigned(g, func(e *LogEntry) { e.Scope = "app/staging" }), "32 hex digits")
	c.refuse(resigned(g, func(e *LogEntry) { e.Scopes = []string{staging} }), "a grant names one scope")
	c.ok(g)
	// Whoever held the parent (the root: wes and rita) holds the new scope,
	// the grantee with the granted role; the admin by their role.
	s := g.Seq
	wantScopes(t, c.m, "rita", s, map[string]string{"": RoleReader, staging: RoleWriter})
	wantScopes(t, c.m, "wes", s, map[string]string{"": RoleWriter, staging: RoleWriter})
	wantScopes(t, c.m, "ann", s, map[string]string{"": RoleAdmin, staging: RoleAdmin})
	wantScopes(t, c.m, "rita", s-1, map[string]string{"": RoleReader})
	if !c.m.Holds(rita.ID, staging) || c.m.Holds(other.ID, staging) {
		t.Fatal("Holds: wrong")
	}
	// A grant of an existing scope: its current epoch, no folder; a new
	// role replaces the old one; the same role again is refused.
	g2 := c.grant(ann, "rita", "app/staging", "", RoleReader)
	c.refuse(resigned(g2, func(e *LogEntry) { e.Folder = []byte("x") }), "names no parent nor folder")
	c.refuse(resigned(g2, func(e *LogEntry) { e.Epoch = 3 }), "is at epoch 1, not 3")
	c.refuse(c.grant(ann, "rita", "app/staging", "", RoleWriter), "already holds scope")
	c.ok(g2)
	wantScopes(t, c.m, "rita", g2.Seq, map[string]string{"": RoleReader, staging: RoleReader})
	wantScopes(t, c.m, "rita", s, map[string]string{"": RoleReader, staging: RoleWriter})
	// A scope carved out of another: its holders come from the parent.
	c.ok(c.ungrant(ann, "wes", "app/staging"))
	c.ok(c.grant(ann, "rita", "app/staging/db", staging, RoleWriter))
	db := ScopeID(namesKey, testTeam, "app/staging/db")
	if h := c.m.holdersNow(db); !maps.Equal(h, map[string]string{"rita": RoleWriter}) {
		t.Fatalf("holders of a scope carved out of app/staging: %v", h)
	}
}

func TestUngrant(t *testing.T) {
	c := team(t)
	c.ok(c.grant(ann, "rita", "app/staging", "", RoleWriter))
	u := c.ungrant(ann, "rita", "app/staging")
	c.refuse(signed(c.ungrant(ann, "rita", "app/staging"), wes), "not an admin")
	c.refuse(c.ungrant(ann, "ann", "app/staging"), "admins hold every scope (change their role first)")
	c.refuse(resigned(u, func(e *LogEntry) { e.Epoch = 3 }), "next epoch is 2, not 3")
	c.refuse(resigned(u, func(e *LogEntry) { e.Role = RoleReader }), "names a member, a scope and its next epoch only")
	c.refuse(resigned(u, func(e *LogEntry) { e.Scope = prod }), "is not in the log")
	c.ok(u)
	wantScopes(t, c.m, "rita", u.Seq, map[string]string{"": RoleReader})
	wantScopes(t, c.m, "rita", u.Seq-1, map[string]string{"": RoleReader, staging: RoleWriter})
	if ep, _ := c.m.ScopeEpoch(staging); ep != 2 || c.m.Scopes[staging].EpochSeq != u.Seq || c.m.Epoch != 1 {
		t.Fatalf("an ungrant: scope epoch %d, root epoch %d; want 2 and the root's untouched", ep, c.m.Epoch)
	}
	if c.m.Holds(rita.ID, staging) {
		t.Fatal("an ungranted member still holds the scope")
	}
	c.refuse(c.ungrant(ann, "rita", "app/staging"), "rita does not hold scope")
	// The root: taken (a new root epoch) and given back (with the team
	// role, at the root's epoch).
	c.ok(c.grant(ann, "rita", "app/prod", "", RoleReader))
	r := c.ungrant(ann, "rita", "")
	c.ok(r)
	if c.m.Epoch != 2 || c.m.EpochSeq != r.Seq {
		t.Fatalf("ungrant of the root: root epoch %d", c.m.Epoch)
	}
	wantScopes(t, c.m, "rita", r.Seq, map[string]string{prod: RoleReader})
	if c.m.Holds(rita.ID, "") {
		t.Fatal("rita still holds the root")
	}
	c.refuse(c.ungrant(ann, "rita", ""), "rita does not hold the root")
	back := c.grant(ann, "rita", "", "", RoleReader)
	back.Epoch = c.m.Epoch
	signed(back, ann)
	c.refuse(resigned(back, func(e *LogEntry) { e.Role = RoleWriter }), "on the root rita has their team role, reader")
	c.refuse(resigned(back, func(e *LogEntry) { e.Epoch = 1 }), "at the root's epoch")
	c.ok(back)
	wantScopes(t, c.m, "rita", back.Seq, map[string]string{"": RoleReader, prod: RoleReader})
	wantScopes(t, c.m, "rita", r.Seq, map[string]string{prod: RoleReader})
}

func TestScopeEpoch(t *testing.T) {
	c := team(t)
	c.refuse(c.scopeEpoch(ann, "app/prod", 2), "is not in the log")
	c.ok(c.grant(ann, "wes", "app/prod", "", RoleWriter))
	c.refuse(c.scopeEpoch(ann, "app/prod", 3), "next epoch is 2, not 3")
	c.refuse(c.scopeEpoch(wes, "app/prod", 2), "not an admin")
	c.refuse(resigned(c.scopeEpoch(ann, "app/prod", 2), func(e *LogEntry) { e.Folder = []byte("x") }), "names at most a scope")
	c.ok(c.scopeEpoch(ann, "app/prod", 2))
	if ep, _ := c.m.ScopeEpoch(prod); ep != 2 || c.m.Epoch != 1 {
		t.Fatalf("scope epoch %d, root %d", ep, c.m.Epoch)
	}
	// The root's epoch entry is as before.
	c.ok(c.epoch(ann, 2))
	if ep, _ := c.m.ScopeEpoch(prod); ep != 2 || c.m.Epoch != 2 {
		t.Fatalf("scope epoch %d, root %d", ep, c.m.Epoch)
	}
}

func TestMachineScopes(t *testing.T) {
	c := team(t)
	m := c.machine(ann, robot, RoleReader, 90*24*time.Hour)
	c.refuse(resigned(m, func(e *LogEntry) { e.Scopes = []string{prod} }), "is not")
	c.ok(c.grant(ann, "wes", "app/prod", "", RoleWriter))
	m = c.machine(ann, robot, RoleReader, 90*24*time.Hour)
	c.refuse(resigned(m, func(e *LogEntry) { e.Scopes = []string{prod, prod} }), "each once")
	c.refuse(resigned(m, func(e *LogEntry) { e.Scope = prod }), "lists its scopes in scopes")
	m.Scopes = []string{prod}
	signed(m, ann)
	c.ok(m)
	wantScopes(t, c.m, "ci-deploy", m.Seq, map[string]string{prod: RoleReader})
	if c.m.Holds(robot.ID, "") || !c.m.Holds(robot.ID, prod) {
		t.Fatal("a scoped machine holds the root, or not its scope")
	}
	// Removed, its grants end: the name used again starts with nothing.
	c.ok(c.removeMember(ann, "ci-deploy"))
	robot2 := fixedDev("ci-deploy-new", "ci-deploy")
	robot2.Name = "ci-deploy"
	c.ok(c.machine(ann, robot2, RoleReader, time.Hour))
	wantScopes(t, c.m, "ci-deploy", c.m.Seq, map[string]string{"": RoleReader})
}

func TestRemovalEndsGrants(t *testing.T) {
	c := team(t)
	c.ok(c.grant(ann, "rita", "app/prod", "", RoleWriter))
	c.ok(c.ungrant(ann, "rita", ""))
	c.ok(c.removeMember(ann, "rita"))
	gone := c.m.Seq
	rita2 := fixedDev("rita-new", "rita")
	c.ok(c.add(ann, rita2, RoleReader))
	wantScopes(t, c.m, "rita", c.m.Seq, map[string]string{"": RoleReader})
	wantScopes(t, c.m, "rita", gone-1, map[string]string{prod: RoleWriter})
	// A member with one device of two removed keeps their scopes.
	c.ok(c.add(ann, wes2, RoleWriter))
	c.ok(c.grant(ann, "wes", "app/staging", "", RoleReader))
	c.ok(c.removeDevice(ann, wes2))
	wantScopes(t, c.m, "wes", c.m.Seq, map[string]string{"": RoleWriter, prod: RoleWriter, staging: RoleReader})
}

// Scope fields are refused on kinds that do not sign them, and signed by
// those that do: changed after signing, the entry no longer checks out.
func TestScopeFieldsSigned(t *testing.T) {
	c := team(t)
	c.refuse(resigned(c.add(ann, wes2, RoleWriter), func(e *LogEntry) { e.Scope = prod }), "a add entry lists its scopes in scopes")
	c.refuse(resigned(c.role(ann, "wes", RoleReader), func(e *LogEntry) { e.Folder = []byte("x") }), "a role entry has no scope fields")
	c.refuse(resigned(c.removeMember(ann, "wes"), func(e *LogEntry) { e.Scopes = []string{prod} }), "a remove entry has no scope fields")
	g := c.grant(ann, "wes", "app/prod", "", RoleWriter)
	for _, mut := range map[string]func(e *LogEntry){
		"scope":  func(e *LogEntry) { e.Scope = staging },
		"parent": func(e *LogEntry) { e.Parent = staging },
		"folder": func(e *LogEntry) { e.Folder = bytes.Clone(e.Folder); e.Folder[3] ^= 1 },
		"role":   func(e *LogEntry) { e.Role = RoleReader },
		"epoch":  func(e *LogEntry) { e.Epoch = 2 },
	} {
		e := *g
		mut(&e)
		c.refuse(&e, "its signature does not check out")
	}
	c.ok(g)
	ep := c.scopeEpoch(ann, "app/prod", 2)
	ep.Scope = staging
	c.refuse(ep, "its signature does not check out")
	c.ok(c.grant(ann, "rita", "app/staging", "", RoleReader))
	m := c.machine(ann, robot, RoleReader, time.Hour)
	m.Scopes = []string{prod}
	signed(m, ann)
	m.Scopes = []string{staging}
	c.refuse(m, "its signature does not check out")
	// Entries of older kinds keep their encoding: an epoch without a
	// scope hashes as before scopes.
	e := c.epoch(ann, 2)
	h := e.Hash()
	e.Scope = ""
	e.Scopes = nil
	if !bytes.Equal(h, e.Hash()) {
		t.Fatal("an epoch without a scope changed its hash")
	}
}

func TestScopeIDAndFolder(t *testing.T) {
	if ScopeID(namesKey, testTeam, "") != "" {
		t.Fatal("the root's id is not empty")
	}
	id := ScopeID(namesKey, testTeam, "app/prod")
	if !ValidID(id) || id == ScopeID(namesKey, testTeam, "app/prod2") || id == ScopeID(namesKey, other.ID, "app/prod") ||
		id == ScopeID(bytes.Repeat([]byte{1}, 32), testTeam, "app/prod") || id != prod {
		t.Fatalf("scope id %q: not an id, or not bound to the folder, team and key", id)
	}
	sealed, err := SealFolder(namesKey, testTeam, "app/prod")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("app/prod")) {
		t.Fatal("the sealed folder shows its name")
	}
	if f, err := OpenFolder(namesKey, testTeam, prod, sealed); err != nil || f != "app/prod" {
		t.Fatalf("OpenFolder: %q, %v", f, err)
	}
	// The server does not learn a folder name's length (outside attack
	// attack18 F4): names of 1 and of 200 bytes seal to the same length.
	long := strings.Repeat("x", 199) + "y"
	short, _ := SealFolder(namesKey, testTeam, "a")
	longSealed, err := SealFolder(namesKey, testTeam, long)
	if err != nil || len(short) != len(longSealed) || len(short) != len(sealed) {
		t.Fatalf("sealed folder names of 1, 8 and 200 bytes are %d, %d and %d bytes long", len(short), len(sealed), len(longSealed))
	}
	if f, err := OpenFolder(namesKey, testTeam, ScopeID(namesKey, testTeam, long), longSealed); err != nil || f != long {
		t.Fatalf("OpenFolder of a long name: %q, %v", f, err)
	}
	// A name sealed before padding (no zero bytes) still opens.
	k := folderKey(namesKey, testTeam)
	unpadded, err := crypto.Seal(k, []byte("app/prod"), crypto.AD("hush/v1/scope-folder", testTeam, prod))
	k.Wipe()
	if err != nil {
		t.Fatal(err)
	}
	if f, err := OpenFolder(namesKey, testTeam, prod, unpadded); err != nil || f != "app/prod" {
		t.Fatalf("OpenFolder of a name sealed before padding: %q, %v", f, err)
	}
	// Under another scope's id (the server, or a confused admin, naming one
	// folder and keying another), another team, another key, changed:
	// refused.
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	for name, try := range map[string]func() (string, error){
		"other id":   func() (string, error) { return OpenFolder(namesKey, testTeam, staging, sealed) },
		"other team": func() (string, error) { return OpenFolder(namesKey, other.ID, prod, sealed) },
		"other key":  func() (string, error) { return OpenFolder(make([]byte, 32), testTeam, prod, sealed) },
		"short key":  func() (string, error) { return OpenFolder(namesKey[:5], testTeam, prod, sealed) },
		"changed":    func() (string, error) { return OpenFolder(namesKey, testTeam, prod, flipped) },
	} {
		if f, err := try(); !errors.Is(err, ErrFolder) || f != "" {
			t.Errorf("%s: %q, %v; want ErrFolder", name, f, err)
		}
	}
}

func TestDeepestScope(t *testing.T) {
	folders := map[string]string{"a": "app", "p": "app/prod", "d": "app/prod/db", "s": "app/staging"}
	for name, want := range map[string]string{
		"TOP":               "",
		"app/X":             "a",
		"app/prod/X":        "p",
		"app/prod/db/X":     "d",
		"app/prod/db2/X":    "p",
		"app/prod2/X":       "a",
		"application/X":     "",
		"app/staging/a/b/X": "s",
	} {
		if got := DeepestScope(folders, name); got != want {
			t.Errorf("DeepestScope(%q) = %q, want %q", name, got, want)
		}
	}
}

// A record's scope is signed (in the record and its chain entry) and in
// its associated data; a root record and its entry keep the encoding they
// had before scopes.
func TestRecordScopeSigned(t *testing.T) {
	r := Record{ID: prod, Version: 2, Epoch: 1, Sealed: []byte("sealed"), Author: ann.ID, LogSeq: 3}
	root, rootAD := RecordSigned(testTeam, &r), ScopedRecordAD(testTeam, "", r.ID, 2, 1)
	if !bytes.Equal(rootAD, RecordAD(testTeam, r.ID, 2, 1)) {
		t.Fatal("a root record's AD changed with scopes")
	}
	e := NextEntry(ChainCursor{}, &r, t0)
	rootEntry := e.signed(testTeam)
	r.Scope = staging
	if bytes.Equal(root, RecordSigned(testTeam, &r)) || bytes.Equal(rootAD, ScopedRecordAD(testTeam, staging, r.ID, 2, 1)) ||
		bytes.Equal(ScopedRecordAD(testTeam, prod, r.ID, 2, 1), ScopedRecordAD(testTeam, staging, r.ID, 2, 1)) {
		t.Fatal("a record's scope is not in its signature or its AD")
	}
	se := NextEntry(ChainCursor{}, &r, t0)
	if se.Scope != staging || bytes.Equal(se.signed(testTeam), rootEntry) {
		t.Fatal("a scoped record's chain entry does not sign its scope")
	}
	if !se.Matches(&r) {
		t.Fatal("an entry does not match its own record")
	}
	served := r
	served.Scope = prod // the server serves it as another scope
	if se.Matches(&served) {
		t.Fatal("a record served as another scope matches its entry")
	}
	r.Scope = "app/prod"
	if r.Check() == nil {
		t.Fatal("a record whose scope is not an id passes Check")
	}
}

// A device expects the records of entries of its scopes only, and takes
// no record of another scope.
func TestChainRecordsScopes(t *testing.T) {
	d := newChainDev(1, ChainRecord)
	var es []ChainEntry
	var rs []Record
	at := ChainCursor{}
	for i, scope := range []string{"", staging, prod, staging} {
		r := Record{ID: strings.Repeat(string("abcd"[i]), 32), Version: 1, Epoch: 1, Sealed: []byte{byte(i)}, Author: d.id, LogSeq: 3, Scope: scope}
		e := NextEntry(at, &r, t0)
		e.Sign(testTeam, d.id, d.key)
		at = e.Next(testTeam)
		es, rs = append(es, e), append(rs, r)
	}
	holds := func(s string) bool { return s == staging }
	mine := []Record{rs[1], rs[3]}
	c := ChainRecords{Holds: holds}
	if err := c.Page(es, mine); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(); err != nil {
		t.Fatalf("records of other scopes were expected: %v", err)
	}
	var ce *ChainError
	c = ChainRecords{Holds: holds}
	if err := c.Page(es, append(mine, rs[2])); !errors.As(err, &ce) || ce.Fault != FaultMismatch {
		t.Fatalf("a record of a scope the device does not hold: %v", err)
	}
	c = ChainRecords{Holds: holds}
	if err := c.Page(es, mine[:1]); err != nil {
		t.Fatal(err)
	}
	if err := c.Done(); !errors.As(err, &ce) || ce.Fault != FaultWithheld || ce.Pos != 4 {
		t.Fatalf("a withheld record of the device's scope: %v", err)
	}
}

// scopeFuzzSeeds is a log with every scope entry, as signed, and as
// steps to sign (FuzzApplyLog's seeds).
func scopeFuzzSeeds(t testing.TB) [][]byte {
	c := team(t)
	c.ok(c.grant(ann, "rita", "app/staging", "", RoleWriter))
	c.ok(c.grant(ann, "wes", "app/staging/db", staging, RoleReader))
	c.ok(c.ungrant(ann, "wes", "app/staging"))
	c.ok(c.scopeEpoch(ann, "app/staging/db", 2))
	c.ok(c.ungrant(ann, "rita", ""))
	m := c.machine(ann, robot, RoleReader, time.Hour)
	m.Scopes = []string{staging}
	c.ok(signed(m, ann))
	var asSigned []fuzzStep
	for _, e := range c.entries {
		asSigned = append(asSigned, fuzzStep{Entry: e})
	}
	b, err := json.Marshal(asSigned)
	if err != nil {
		t.Fatal(err)
	}
	return [][]byte{b}
}

// A new member may start with some scopes and not the root; a second
// device of a member, or an admin, may not start with scopes.
func TestAddWithScopes(t *testing.T) {
	c := team(t)
	c.ok(c.grant(ann, "wes", "app/staging", "", RoleWriter))
	contractor := fixedDev("con-laptop", "con")
	a := c.add(ann, contractor, RoleWriter)
	c.refuse(resigned(a, func(e *LogEntry) { e.Scopes = []string{prod} }), "is not")
	c.refuse(resigned(a, func(e *LogEntry) { e.Scopes, e.Role = []string{staging}, RoleAdmin }), "only a new member who is not an admin starts with scopes")
	c.refuse(resigned(c.add(ann, wes2, RoleWriter), func(e *LogEntry) { e.Scopes = []string{staging} }), "only a new member")
	signedAdd := resigned(a, func(e *LogEntry) { e.Scopes = []string{staging} })
	changed := *signedAdd
	changed.Scopes = nil
	c.refuse(&changed, "its signature does not check out")
	c.ok(signedAdd)
	wantScopes(t, c.m, "con", c.m.Seq, map[string]string{staging: RoleWriter})
	if got := c.m.HeldScopes(contractor.ID); len(got) != 1 || got[0] != staging {
		t.Fatalf("HeldScopes: %v", got)
	}
	if got := c.m.HeldScopes(ann.ID); len(got) != 2 || got[0] != "" || got[1] != staging {
		t.Fatalf("an admin's HeldScopes: %v", got)
	}
	// A second device of hers has her scopes.
	con2 := fixedDev("con-phone", "con")
	c.ok(c.add(ann, con2, RoleWriter))
	if got := c.m.HeldScopes(con2.ID); len(got) != 1 || got[0] != staging {
		t.Fatalf("her second device holds %v", got)
	}
}

// TestCheckFolder: the one folder rule (finding F1 of the attack17
// report): an empty folder, a trailing or leading "/", "//", a newline
// or control character, "." or "..", and a character outside the name
// alphabet are each refused with one line naming the folder.
func TestCheckFolder(t *testing.T) {
	for _, f := range []string{"app", "app/prod", "a.b/c-d/E_9", strings.Repeat("x", maxFolderName)} {
		if err := CheckFolder(f); err != nil {
			t.Errorf("CheckFolder(%q): %v", f, err)
		}
	}
	for _, f := range []string{"", "/", "app/prod/", "/app", "app//prod", "app/prod\napp/staging", "app\tprod",
		"app/\x00", "app/./prod", "app/..", ".", "app prod", "app,prod", "ä", strings.Repeat("x", maxFolderName+1)} {
		err := CheckFolder(f)
		var fe *FolderError
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "\n") && !strings.Contains(f, "\n") {
			t.Errorf("CheckFolder(%q): %v; want a FolderError", f, err)
			continue
		}
		if len(f) <= maxFolderName && !strings.Contains(err.Error(), "is not a valid folder name") {
			t.Errorf("CheckFolder(%q): %q", f, err)
		}
	}
	if _, err := SealFolder(namesKey, testTeam, ""); err == nil {
		t.Error("SealFolder sealed an empty folder")
	}
}

// TestSealedFolderMustBeValid: a grant whose sealed folder opens to an
// empty or invalid folder (an admin's client with another rule, a forged
// entry) is refused by clients (OpenFolder) and, when it cannot even
// hold a name, by the log rules the server applies too.
func TestSealedFolderMustBeValid(t *testing.T) {
	for _, f := range []string{"", "app/prod/", "app\nprod"} {
		id := ScopeID(namesKey, testTeam, f)
		if id == "" {
			id = prod
		}
		k := folderKey(namesKey, testTeam)
		sealed, err := crypto.Seal(k, []byte(f), crypto.AD("hush/v1/scope-folder", testTeam, id))
		k.Wipe()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := OpenFolder(namesKey, testTeam, id, sealed); !errors.Is(err, ErrFolder) {
			t.Errorf("sealed %q: opened %q, %v; want ErrFolder", f, got, err)
		}
		if f == "" {
			m := &Membership{Scopes: map[string]*Scope{}}
			if err := m.newScope(&LogEntry{Kind: LogGrant, Scope: id, Epoch: 1, Folder: sealed}); err == nil {
				t.Error("a grant with a sealed empty folder made a scope")
			}
		}
	}
}
