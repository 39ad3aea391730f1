package wire

// Unit tests of the membership log's rules (Membership.Apply): each
// refusal and each success, roles over time, the hash chain, and that the
// signature covers every field. FuzzApplyLog feeds arbitrary entries.
//
//	go test -run '^$' -fuzz FuzzApplyLog -fuzztime 60s ./sync/wire/

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// tdev is a device with its signing key, derived from its name: the same
// on every run, so that seeds on disk hold valid signatures.
type tdev struct {
	Device
	key ed25519.PrivateKey
}

func fixedDev(name, member string) *tdev {
	h := sha256.Sum256([]byte("hush log test device " + name))
	key := ed25519.NewKeyFromSeed(h[:])
	return &tdev{Device: Device{ID: hex.EncodeToString(h[:16]), Name: name, Member: member,
		SignKey: key.Public().(ed25519.PublicKey), Box: "age1" + strings.Repeat("q", 54) + hex.EncodeToString(h[16:18])}, key: key}
}

const testTeam = "1091e57e1091e57e1091e57e1091e57e"

var (
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ann   = fixedDev("ann-laptop", "ann") // the creator, an admin
	ann2  = fixedDev("ann-phone", "ann")
	abe   = fixedDev("abe-laptop", "abe")
	wes   = fixedDev("wes-box", "wes")
	wes2  = fixedDev("wes-laptop", "wes")
	rita  = fixedDev("rita-phone", "rita")
	devs  = []*tdev{ann, ann2, abe, wes, wes2, rita}
	other = fixedDev("mallory", "mallory") // never in the team
)

// chain is a log being built as a client builds it, with the membership
// it leads to.
type chain struct {
	t       testing.TB
	m       *Membership
	entries []LogEntry
}

// newChain starts a log with ann's creation of the team.
func newChain(t testing.TB) *chain {
	c := &chain{t: t, m: NewMembership(testTeam)}
	c.ok(c.create(ann))
	return c
}

// at is the time of entry seq: one minute apart.
func at(seq int64) time.Time { return t0.Add(time.Duration(seq) * time.Minute) }

func (c *chain) create(d *tdev) *LogEntry {
	dev := d.Device
	e := &LogEntry{Seq: 1, Time: at(1), Kind: LogCreate, Team: testTeam, Name: "acme", Device: &dev, Role: RoleAdmin}
	e.Sign(d.ID, d.key)
	return e
}

// next is the next entry of kind, unsigned.
func (c *chain) next(kind string) *LogEntry {
	return &LogEntry{Seq: c.m.Seq + 1, Prev: bytes.Clone(c.m.Head), Time: at(c.m.Seq + 1), Kind: kind, Team: testTeam}
}

func signed(e *LogEntry, by *tdev) *LogEntry {
	e.Sign(by.ID, by.key)
	return e
}

func (c *chain) add(by, d *tdev, role string) *LogEntry {
	e := c.next(LogAdd)
	dev := d.Device
	e.Device, e.Role = &dev, role
	return signed(e, by)
}

func (c *chain) role(by *tdev, member, role string) *LogEntry {
	e := c.next(LogRole)
	e.Member, e.Role = member, role
	return signed(e, by)
}

func (c *chain) removeDevice(by, d *tdev) *LogEntry {
	e := c.next(LogRemove)
	e.Target = d.ID
	return signed(e, by)
}

func (c *chain) removeMember(by *tdev, member string) *LogEntry {
	e := c.next(LogRemove)
	e.Member = member
	return signed(e, by)
}

func (c *chain) epoch(by *tdev, n int64) *LogEntry {
	e := c.next(LogEpoch)
	e.Epoch = n
	return signed(e, by)
}

// ok applies e, which must extend the log by one entry.
func (c *chain) ok(e *LogEntry) {
	c.t.Helper()
	seq := c.m.Seq
	if err := c.m.Apply(e); err != nil {
		c.t.Fatalf("entry %d (%s): %v", e.Seq, e.Kind, err)
	}
	if c.m.Seq != seq+1 || !bytes.Equal(c.m.Head, e.Hash()) {
		c.t.Fatalf("after entry %d: seq %d, head %x; want %d, %x", e.Seq, c.m.Seq, c.m.Head, seq+1, e.Hash())
	}
	c.entries = append(c.entries, *e)
}

// refuse applies e, which must be refused with reason, changing nothing.
func (c *chain) refuse(e *LogEntry, reason string) {
	c.t.Helper()
	before := cloneM(c.m)
	err := c.m.Apply(e)
	var le *LogError
	if !errors.As(err, &le) {
		c.t.Fatalf("entry %d (%s): got %v, want a refusal: %s", e.Seq, e.Kind, err, reason)
	}
	if le.Seq != e.Seq || !strings.Contains(err.Error(), reason) {
		c.t.Fatalf("entry %d (%s): %q, want a refusal of entry %d saying %q", e.Seq, e.Kind, err, e.Seq, reason)
	}
	if !reflect.DeepEqual(c.m, before) {
		c.t.Fatalf("a refused entry %d (%s) changed the membership:\nbefore %+v\nafter  %+v", e.Seq, e.Kind, before, c.m)
	}
}

// cloneM is a deep copy of a membership.
func cloneM(m *Membership) *Membership {
	c := m.Clone()
	c.Head, c.Genesis = bytes.Clone(m.Head), bytes.Clone(m.Genesis)
	for _, d := range c.Devices {
		d.SignKey = bytes.Clone(d.SignKey)
	}
	return c
}

// team is a chain with ann (admin), wes (writer) and rita (reader).
func team(t testing.TB) *chain {
	c := newChain(t)
	c.ok(c.add(ann, wes, RoleWriter))
	c.ok(c.add(ann, rita, RoleReader))
	return c
}

func TestApplyCreate(t *testing.T) {
	c := &chain{t: t, m: NewMembership(testTeam)}
	g := c.create(ann)
	// withCreate is the creation changed by mut and signed again by by.
	withCreate := func(by *tdev, mut func(e *LogEntry)) *LogEntry {
		e := c.create(ann)
		dev := *e.Device
		e.Device = &dev
		mut(e)
		return signed(e, by)
	}
	const startsWrong = "a creation is entry 1, signed by the device it creates"
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Team = wes.ID }), "it belongs to another team")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Seq = 2 }), "expected entry 1")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Seq = 0 }), "expected entry 1")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Prev = make([]byte, 32) }), "does not chain to entry 0")
	c.refuse(withCreate(ann, func(e *LogEntry) {}).withSig(nil), "its signature is malformed")
	c.refuse(withCreate(ann, func(e *LogEntry) {}).withSig(make([]byte, 63)), "its signature is malformed")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Device = nil }), startsWrong)
	// Signed by another device than the one it creates, even an admin-to-be.
	c.refuse(withCreate(wes, func(e *LogEntry) {}), startsWrong)
	c.refuse(withCreate(ann, func(e *LogEntry) {}).withSigner(wes.ID), startsWrong)
	// The signer's key is the created device's: another key does not do.
	c.refuse(withCreate(ann, func(e *LogEntry) {}).withSig(ed25519.Sign(wes.key, g.signed())), "its signature does not check out")
	bad := withCreate(ann, func(e *LogEntry) { e.Device.SignKey = e.Device.SignKey[:31] })
	c.refuse(bad, "its signature does not check out")
	// A well signed creation of an invalid device, or an invalid team.
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Device.Box = "ssh-ed25519 AAAA" }), "device box key is not an age X25519 recipient")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Device.Name = "" }), "device name must be 1-64 printable characters")
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Device.Member = "a\nb" }), "member name must be 1-64 printable characters")
	idBad := &tdev{Device: ann.Device, key: ann.key}
	idBad.ID = strings.ToUpper(ann.ID)
	c.refuse(withCreate(idBad, func(e *LogEntry) { e.Device.ID = idBad.ID }), "device id is not 32 hex digits")
	const names = "a creation names the team and makes its first device an admin"
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Role = RoleWriter }), names)
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Role = "" }), names)
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Name = "" }), names)
	c.refuse(withCreate(ann, func(e *LogEntry) { e.Name = strings.Repeat("n", 65) }), names)
	// Another kind first.
	c.refuse(signed(&LogEntry{Seq: 1, Time: at(1), Kind: LogAdd, Team: testTeam, Device: &ann.Device, Role: RoleAdmin}, ann), "the log must start with the team's creation")
	c.refuse(signed(&LogEntry{Seq: 1, Time: at(1), Kind: LogEpoch, Team: testTeam, Epoch: 1}, ann), "the log must start with the team's creation")

	// The creation: a team of one admin at epoch 1; its hash is the
	// team's fingerprint.
	c.ok(withCreate(ann, func(e *LogEntry) { e.Name = strings.Repeat("n", 64) }))
	m := c.m
	d := m.Devices[ann.ID]
	if m.Name != strings.Repeat("n", 64) || m.Epoch != 1 || m.Seq != 1 || !bytes.Equal(m.Genesis, c.entries[0].Hash()) || !bytes.Equal(m.Head, m.Genesis) ||
		len(m.Devices) != 1 || d == nil || d.Role != RoleAdmin || !d.Active || d.Added != 1 || d.Removed != 0 ||
		!reflect.DeepEqual(d.Roles, []RoleSpan{{1, RoleAdmin}}) || !bytes.Equal(d.SignKey, ann.SignKey) {
		t.Fatalf("after the creation: %+v, ann %+v", m, d)
	}
	if role, ok := m.Active(ann.ID); role != RoleAdmin || !ok {
		t.Fatalf("Active(ann): %q %v", role, ok)
	}
	if _, ok := m.Active(wes.ID); ok {
		t.Fatal("a device not in the log is active")
	}
	// A second creation, anywhere later.
	e := c.create(wes)
	e.Seq, e.Prev = 2, bytes.Clone(m.Head)
	c.refuse(signed(e, wes), "a creation is entry 1")
	e = c.create(ann)
	e.Seq, e.Prev = 2, bytes.Clone(m.Head)
	c.refuse(signed(e, ann), "a creation is entry 1")
}

func (e *LogEntry) withSig(sig []byte) *LogEntry  { e.Sig = sig; return e }
func (e *LogEntry) withSigner(s string) *LogEntry { e.Signer = s; return e }

func TestApplyAdd(t *testing.T) {
	c := newChain(t)
	c.ok(c.add(ann, wes, RoleWriter))
	if d := c.m.Devices[wes.ID]; d.Role != RoleWriter || !d.Active || d.Added != 2 || !reflect.DeepEqual(d.Roles, []RoleSpan{{2, RoleWriter}}) || d.Member != "wes" {
		t.Fatalf("added device: %+v", d)
	}
	// A member's second device takes the member's role.
	c.refuse(c.add(ann, wes2, RoleReader), "member wes is already in the team as writer, not reader")
	c.refuse(c.add(ann, wes2, RoleAdmin), "member wes is already in the team as writer, not admin")
	c.ok(c.add(ann, wes2, RoleWriter))
	c.ok(c.add(ann, abe, RoleAdmin))
	// An admin added by another admin adds in turn.
	c.ok(c.add(abe, rita, RoleReader))

	withAdd := func(by *tdev, d *tdev, mut func(e *LogEntry)) *LogEntry {
		e := c.next(LogAdd)
		dev := d.Device
		e.Device, e.Role = &dev, RoleWriter
		mut(e)
		return signed(e, by)
	}
	newcomer := fixedDev("newcomer", "nia")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Device = nil }), "an addition names a device")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Device.SignKey = e.Device.SignKey[:16] }), "device signing key is not an Ed25519 public key")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Device.ID = "x" }), "device id is not 32 hex digits")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Device.Box = "age1" }), "device box key")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Role = "owner" }), `unknown role "owner"`)
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Role = "" }), `unknown role ""`)
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Role = "Admin" }), `unknown role "Admin"`)
	// Twice, or under the id of a device in the team with other keys.
	c.refuse(c.add(ann, wes, RoleWriter), "device "+wes.ID+" was already in the team")
	c.refuse(withAdd(ann, newcomer, func(e *LogEntry) { e.Device.ID = ann.ID }), "was already in the team")
	// Signed by anyone but an active admin.
	for _, by := range []*tdev{wes, rita, newcomer, other} {
		c.refuse(c.add(by, newcomer, RoleWriter), "it is signed by "+by.ID+", which is not an admin of the team at this point")
	}
	// A removed device comes back under no name.
	c.ok(c.removeDevice(ann, rita))
	c.refuse(c.add(ann, rita, RoleReader), "was already in the team")
	c.ok(c.add(ann, newcomer, RoleReader))
}

func TestApplySigner(t *testing.T) {
	c := team(t)
	c.ok(c.add(ann, abe, RoleAdmin))
	c.ok(c.add(ann, ann2, RoleAdmin))
	const notAdmin = "which is not an admin of the team at this point"
	// Writers, readers, strangers.
	c.refuse(c.epoch(wes, 2), notAdmin)
	c.refuse(c.epoch(rita, 2), notAdmin)
	c.refuse(c.epoch(other, 2), notAdmin)
	c.refuse(c.epoch(ann, 2).withSigner(""), notAdmin)
	// The signer is who signed: another admin's id on ann's signature.
	c.refuse(c.epoch(ann, 2).withSigner(abe.ID), "its signature does not check out")
	// A demoted admin.
	c.ok(c.role(ann, "abe", RoleWriter))
	c.refuse(c.epoch(abe, 2), notAdmin)
	// A removed admin device, while the member's other device stays.
	c.ok(c.removeDevice(ann, ann2))
	c.refuse(c.epoch(ann2, 2), notAdmin)
	// A promoted one signs.
	c.ok(c.role(ann, "wes", RoleAdmin))
	c.ok(c.epoch(wes, 2))
}

func TestApplyRole(t *testing.T) {
	c := team(t)
	c.ok(c.add(ann, wes2, RoleWriter))
	c.ok(c.role(ann, "wes", RoleReader))
	for _, d := range []*tdev{wes, wes2} {
		if ld := c.m.Devices[d.ID]; ld.Role != RoleReader || !reflect.DeepEqual(ld.Roles[len(ld.Roles)-1], RoleSpan{c.m.Seq, RoleReader}) {
			t.Fatalf("%s after the role change: %+v", d.Name, ld)
		}
	}
	if ld := c.m.Devices[rita.ID]; ld.Role != RoleReader || len(ld.Roles) != 1 {
		t.Fatalf("another member changed: %+v", ld)
	}
	const noAdmin = "it would leave the team without an admin"
	c.refuse(c.role(ann, "nobody", RoleWriter), `member "nobody" has no device in the team`)
	c.refuse(c.role(ann, "", RoleWriter), `member "" has no device in the team`)
	c.refuse(c.role(ann, "wes", "owner"), `unknown role "owner"`)
	c.refuse(c.role(ann, "wes", ""), `unknown role ""`)
	// The last admin: not demoted, whether by itself or with two devices.
	c.refuse(c.role(ann, "ann", RoleWriter), noAdmin)
	c.refuse(c.role(ann, "ann", RoleReader), noAdmin)
	c.ok(c.add(ann, ann2, RoleAdmin))
	c.refuse(c.role(ann2, "ann", RoleWriter), noAdmin)
	// With another admin member, it may step down; then the other may not.
	c.ok(c.role(ann, "wes", RoleAdmin))
	c.ok(c.role(wes2, "ann", RoleWriter))
	c.refuse(c.role(wes, "wes", RoleReader), noAdmin)
	// Removed devices keep no role to change.
	c.ok(c.role(wes, "ann", RoleAdmin))
	c.ok(c.removeMember(ann, "rita"))
	c.refuse(c.role(ann, "rita", RoleWriter), `member "rita" has no device in the team`)
	// An admin promoting itself to admin again is a no-op the log allows.
	c.ok(c.role(ann, "ann", RoleAdmin))
}

func TestApplyRemove(t *testing.T) {
	c := team(t)
	c.ok(c.add(ann, wes2, RoleWriter))
	const nobody = "it removes nobody who is in the team"
	const noAdmin = "it would leave the team without an admin"
	c.refuse(signed(c.next(LogRemove), ann), nobody)
	c.refuse(c.removeDevice(ann, other), nobody)
	c.refuse(c.removeMember(ann, "mallory"), nobody)
	// The last admin, by device or by member.
	c.refuse(c.removeDevice(ann, ann), noAdmin)
	c.refuse(c.removeMember(ann, "ann"), noAdmin)
	// One device of a member: the other stays.
	c.ok(c.removeDevice(ann, wes2))
	seq := c.m.Seq
	if d := c.m.Devices[wes2.ID]; d.Active || d.Removed != seq {
		t.Fatalf("removed device: %+v", d)
	}
	if _, ok := c.m.Active(wes2.ID); ok {
		t.Fatal("a removed device is active")
	}
	if d := c.m.Devices[wes.ID]; !d.Active {
		t.Fatal("removing one device removed the member's other")
	}
	c.refuse(c.removeDevice(ann, wes2), nobody)
	// A member: every active device.
	c.ok(c.add(ann, ann2, RoleAdmin))
	c.ok(c.add(ann, abe, RoleAdmin))
	c.ok(c.removeMember(abe, "ann"))
	for _, d := range []*tdev{ann, ann2} {
		if ld := c.m.Devices[d.ID]; ld.Active || ld.Removed != c.m.Seq {
			t.Fatalf("%s after its member's removal: %+v", d.Name, ld)
		}
	}
	c.refuse(c.removeMember(abe, "ann"), nobody)
	// Removed devices sign nothing.
	c.refuse(c.removeMember(ann, "wes"), "which is not an admin of the team at this point")
	// The last admin again, now abe; then one of two admin devices may go.
	c.refuse(c.removeDevice(abe, abe), noAdmin)
	c.ok(c.role(abe, "wes", RoleAdmin))
	c.ok(c.removeDevice(abe, abe))
	c.ok(c.removeMember(wes, "rita"))
	if n := c.m.admins(); n != 1 {
		t.Fatalf("%d admins left, want 1 (wes)", n)
	}
}

func TestApplyEpoch(t *testing.T) {
	c := team(t)
	for _, n := range []int64{0, 1, 3, -1, 1 << 62} {
		c.refuse(c.epoch(ann, n), "the next key epoch is 2, not "+strconv.FormatInt(n, 10))
	}
	c.ok(c.epoch(ann, 2))
	c.ok(c.epoch(ann, 3))
	if c.m.Epoch != 3 {
		t.Fatalf("epoch %d", c.m.Epoch)
	}
	c.refuse(c.epoch(ann, 3), "the next key epoch is 4, not 3")
}

func TestApplyUnknownKind(t *testing.T) {
	c := team(t)
	for _, kind := range []string{"", "promote", "Add", "epoch ", "create\x00"} {
		e := c.next(kind)
		e.Member, e.Role = "wes", RoleAdmin
		c.refuse(signed(e, ann), "unknown kind")
	}
}

func TestRoleAt(t *testing.T) {
	c := newChain(t)                  // 1
	c.ok(c.add(ann, wes, RoleWriter)) // 2
	c.ok(c.epoch(ann, 2))             // 3
	c.ok(c.role(ann, "wes", RoleReader))
	c.ok(c.epoch(ann, 3))               // 5
	c.ok(c.role(ann, "wes", RoleAdmin)) // 6
	c.ok(c.epoch(ann, 4))               // 7
	c.ok(c.removeDevice(ann, wes))      // 8
	c.ok(c.epoch(ann, 5))               // 9
	d := c.m.Devices[wes.ID]
	want := []struct {
		role string
		in   bool
	}{{"", false}, {"", false}, {RoleWriter, true}, {RoleWriter, true}, {RoleReader, true}, {RoleReader, true}, {RoleAdmin, true}, {RoleAdmin, true}, {"", false}, {"", false}, {"", false}}
	for seq := range int64(len(want)) {
		role, in := d.RoleAt(seq)
		if role != want[seq].role || in != want[seq].in {
			t.Errorf("RoleAt(%d) = %q, %v; want %q, %v", seq, role, in, want[seq].role, want[seq].in)
		}
	}
	if role, in := c.m.Devices[ann.ID].RoleAt(1); role != RoleAdmin || !in {
		t.Errorf("the creator at its creation: %q %v", role, in)
	}
	if role, in := c.m.Devices[ann.ID].RoleAt(1 << 40); role != RoleAdmin || !in {
		t.Errorf("the creator far ahead: %q %v", role, in)
	}
	if !reflect.DeepEqual(d.Roles, []RoleSpan{{2, RoleWriter}, {4, RoleReader}, {6, RoleAdmin}}) {
		t.Errorf("roles %+v", d.Roles)
	}
}

// AdminUntil is the last entry right after which a device was an admin,
// from a given entry on (attack23 C2: a key a demoted admin wraps is good
// only for a device that held its scope then); HeldAt whether a device
// held a scope right after an entry.
func TestAdminUntil(t *testing.T) {
	c := newChain(t)                  // 1
	c.ok(c.add(ann, wes, RoleWriter)) // 2
	c.ok(c.role(ann, "wes", RoleAdmin))
	c.ok(c.role(ann, "wes", RoleWriter)) // 4
	c.ok(c.add(ann, rita, RoleWriter))   // 5
	c.ok(c.role(ann, "wes", RoleAdmin))  // 6
	c.ok(c.role(ann, "wes", RoleReader)) // 7
	c.ok(c.epoch(ann, 2))                // 8
	d := c.m.Devices[wes.ID]
	for _, w := range []struct{ from, until int64 }{{1, 6}, {3, 6}, {4, 6}, {6, 6}, {7, 0}, {8, 0}} {
		if got := d.AdminUntil(w.from); got != w.until {
			t.Errorf("AdminUntil(%d) = %d, want %d", w.from, got, w.until)
		}
		if d.AdminSince(w.from) != (w.until > 0) {
			t.Errorf("AdminSince(%d) = %v", w.from, d.AdminSince(w.from))
		}
	}
	if got := c.m.Devices[ann.ID].AdminUntil(8); got != math.MaxInt64 {
		t.Errorf("an admin now: AdminUntil = %d", got)
	}
	for _, w := range []struct {
		seq  int64
		held bool
	}{{4, false}, {5, true}, {6, true}} {
		if got := c.m.HeldAt(rita.ID, "", w.seq); got != w.held {
			t.Errorf("HeldAt(rita, root, %d) = %v", w.seq, got)
		}
	}
	c.ok(c.removeDevice(ann, wes))
	if got := d.AdminUntil(1); got != 0 {
		t.Errorf("a device that left: AdminUntil = %d", got)
	}
}

func TestHashChain(t *testing.T) {
	c := team(t)
	c.ok(c.role(ann, "rita", RoleWriter))
	c.ok(c.epoch(ann, 2))
	c.ok(c.removeDevice(ann, wes))
	// Each entry names its predecessor's hash; the head is the last's.
	for i := 1; i < len(c.entries); i++ {
		if !bytes.Equal(c.entries[i].Prev, c.entries[i-1].Hash()) {
			t.Fatalf("entry %d does not chain to entry %d", i+1, i)
		}
	}
	if c.entries[0].Prev != nil || !bytes.Equal(c.m.Genesis, c.entries[0].Hash()) || !bytes.Equal(c.m.Head, c.entries[len(c.entries)-1].Hash()) {
		t.Fatal("genesis or head is not the first or last entry's hash")
	}
	// The hash covers the content and the signature, and is the same
	// after the JSON round trip the server stores entries in.
	e := c.entries[2]
	h := e.Hash()
	if len(h) != sha256.Size || !bytes.Equal(h, e.Hash()) {
		t.Fatal("Hash is not a stable SHA-256")
	}
	b, _ := json.Marshal(e)
	var back LogEntry
	if err := json.Unmarshal(b, &back); err != nil || !bytes.Equal(back.Hash(), h) {
		t.Fatalf("hash after JSON: %v", err)
	}
	// The same instant in another zone is the same entry.
	moved := e
	moved.Time = e.Time.In(time.FixedZone("x", 5*3600))
	if !bytes.Equal(moved.Hash(), h) {
		t.Fatal("the hash depends on the time's zone")
	}
	for name, mut := range map[string]func(x *LogEntry){
		"sig":    func(x *LogEntry) { x.Sig = bytes.Clone(x.Sig); x.Sig[63] ^= 0x80 },
		"time":   func(x *LogEntry) { x.Time = x.Time.Add(time.Nanosecond) },
		"member": func(x *LogEntry) { x.Member = "ann" },
		"prev":   func(x *LogEntry) { x.Prev = bytes.Clone(x.Prev); x.Prev[0] ^= 1 },
	} {
		x := e
		mut(&x)
		if bytes.Equal(x.Hash(), h) {
			t.Errorf("the hash does not cover the %s", name)
		}
	}
	// Replayed from scratch (as stored), the log reaches the same state.
	r := NewMembership(testTeam)
	for i := range c.entries {
		b, _ := json.Marshal(c.entries[i])
		var x LogEntry
		json.Unmarshal(b, &x)
		if err := r.Apply(&x); err != nil {
			t.Fatal(err)
		}
	}
	if !reflect.DeepEqual(r, c.m) {
		t.Fatalf("replayed: %+v\nbuilt: %+v", r, c.m)
	}
	// Dropped, reordered, replayed or forked entries do not apply.
	replay := func(entries ...LogEntry) error {
		m := NewMembership(testTeam)
		for i := range entries {
			if err := m.Apply(&entries[i]); err != nil {
				return err
			}
		}
		return nil
	}
	es := c.entries
	for name, seq := range map[string][]LogEntry{
		"an entry dropped":       {es[0], es[1], es[3]},
		"two entries swapped":    {es[0], es[2], es[1]},
		"an entry twice":         {es[0], es[1], es[1]},
		"the start dropped":      {es[1], es[2]},
		"an entry from a fork":   {es[0], es[1], *newChainFork(t, es[:2])},
		"a changed entry before": {es[0], func() LogEntry { x := es[1]; x.Role = RoleAdmin; x.Sign(ann.ID, ann.key); return x }(), es[2]},
	} {
		if err := replay(seq...); err == nil {
			t.Errorf("%s: the log applies", name)
		}
	}
	if err := replay(es...); err != nil {
		t.Fatal(err)
	}
}

// newChainFork is an entry 3 a different history leads to: entry 2 signed
// at another time.
func newChainFork(t *testing.T, es []LogEntry) *LogEntry {
	c := &chain{t: t, m: NewMembership(testTeam)}
	c.ok(&es[0])
	x := es[1]
	x.Time = x.Time.Add(time.Second)
	x.Sign(ann.ID, ann.key)
	c.ok(&x)
	return c.add(ann, abe, RoleAdmin)
}

// TestSignatureCoversEveryField flips a bit in each byte of every field of
// a signed entry in turn, makes every check before the signature's pass
// (the membership is adjusted to the changed team, seq, prev or signer),
// and expects the signature to fail. A field added to LogEntry or Device
// without a case here fails the test.
func TestSignatureCoversEveryField(t *testing.T) {
	c := team(t)
	// An entry with every field set: an epoch's rules ignore the rest.
	full := c.next(LogEpoch)
	dev := wes2.Device
	full.Epoch, full.Name, full.Device, full.Role, full.Member, full.Target = 2, "acme", &dev, RoleAdmin, "wes", wes.ID
	signed(full, ann)
	{
		m := cloneM(c.m)
		if err := m.Apply(full); err != nil {
			t.Fatalf("the full entry: %v", err)
		}
	}
	flipStr := func(s *string, i int) { b := []byte(*s); b[i] ^= 1 << (i % 8); *s = string(b) }
	flipBytes := func(b *[]byte, i int) { *b = bytes.Clone(*b); (*b)[i] ^= 1 << (i % 8) }
	type field struct {
		n   func(e *LogEntry) int // how many bytes
		mut func(e *LogEntry, i int)
	}
	str := func(get func(e *LogEntry) *string) field {
		return field{func(e *LogEntry) int { return len(*get(e)) + 1 }, func(e *LogEntry, i int) {
			if s := get(e); i == len(*s) {
				*s += "x" // one byte more
			} else {
				flipStr(s, i)
			}
		}}
	}
	byt := func(get func(e *LogEntry) *[]byte) field {
		return field{func(e *LogEntry) int { return len(*get(e)) + 1 }, func(e *LogEntry, i int) {
			if b := get(e); i == len(*b) {
				*b = (*b)[:len(*b)-1] // one byte less
			} else {
				flipBytes(b, i)
			}
		}}
	}
	num := func(get func(e *LogEntry) *int64) field {
		return field{func(*LogEntry) int { return 64 }, func(e *LogEntry, i int) { *get(e) ^= 1 << i }}
	}
	fields := map[string]field{
		"Seq":  num(func(e *LogEntry) *int64 { return &e.Seq }),
		"Prev": byt(func(e *LogEntry) *[]byte { return &e.Prev }),
		"Time": {func(*LogEntry) int { return 64 }, func(e *LogEntry, i int) {
			e.Time = e.Time.Add(time.Duration(1) << (i % 62))
		}},
		"Kind":   str(func(e *LogEntry) *string { return &e.Kind }),
		"Team":   str(func(e *LogEntry) *string { return &e.Team }),
		"Name":   str(func(e *LogEntry) *string { return &e.Name }),
		"Role":   str(func(e *LogEntry) *string { return &e.Role }),
		"Member": str(func(e *LogEntry) *string { return &e.Member }),
		"Target": str(func(e *LogEntry) *string { return &e.Target }),
		"Epoch":  num(func(e *LogEntry) *int64 { return &e.Epoch }),
		"Signer": str(func(e *LogEntry) *string { return &e.Signer }),
		"Sig":    byt(func(e *LogEntry) *[]byte { return &e.Sig }),
		"Device": {func(*LogEntry) int { return 1 }, func(e *LogEntry, _ int) { e.Device = nil }},
		// Signed by machine entries only (TestMachineEntry changes it there).
		"Expires": {func(e *LogEntry) int {
			if e.Kind == LogMachine {
				return 40
			}
			return 0
		}, func(e *LogEntry, i int) { e.Expires = e.Expires.Add(time.Second << i) }},
		// Scope is signed by an epoch entry when set; the other scope
		// fields only by the kinds that carry them (TestScopeFieldsSigned).
		"Scope":  str(func(e *LogEntry) *string { return &e.Scope }),
		"Parent": {func(*LogEntry) int { return 0 }, nil},
		"Folder": {func(*LogEntry) int { return 0 }, nil},
		"Scopes": {func(*LogEntry) int { return 0 }, nil},
	}
	devFields := map[string]field{
		"ID":      str(func(e *LogEntry) *string { return &e.Device.ID }),
		"Name":    str(func(e *LogEntry) *string { return &e.Device.Name }),
		"Member":  str(func(e *LogEntry) *string { return &e.Device.Member }),
		"SignKey": byt(func(e *LogEntry) *[]byte { return &e.Device.SignKey }),
		"Box":     str(func(e *LogEntry) *string { return &e.Device.Box }),
	}
	for _, x := range []struct {
		typ reflect.Type
		fs  map[string]field
	}{{reflect.TypeFor[LogEntry](), fields}, {reflect.TypeFor[Device](), devFields}} {
		for i := range x.typ.NumField() {
			if _, ok := x.fs[x.typ.Field(i).Name]; !ok {
				t.Errorf("%s.%s: no case in this test", x.typ.Name(), x.typ.Field(i).Name)
			}
		}
	}
	for prefix, fs := range map[string]map[string]field{"": fields, "Device.": devFields} {
		for name, f := range fs {
			n := f.n(full)
			for i := range n {
				e := *full
				d := *full.Device
				e.Device = &d
				f.mut(&e, i)
				// Let every check before the signature pass.
				m := cloneM(c.m)
				m.Team = e.Team
				m.Seq = e.Seq - 1
				m.Head = e.Prev
				if s, ok := m.Devices[e.Signer]; !ok || s.ID != ann.ID {
					m.Devices[e.Signer] = &LogDevice{Device: ann.Device, Role: RoleAdmin, Active: true, Added: 1}
				}
				err := m.Apply(&e)
				want := "its signature does not check out"
				if name == "Sig" {
					want = "its signature"
				}
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("%s%s, byte %d changed: %v, want %q", prefix, name, i, err, want)
				}
			}
		}
	}
}

// ---- fuzzing ----

// fuzzStep is one entry fed to the membership. Sign re-signs it with
// devs[Sign-1] (0: as it is); Chain sets its seq and prev to extend the
// head first, so that the fuzzer reaches the rules behind the chain and
// the signature.
type fuzzStep struct {
	Entry LogEntry `json:"e"`
	Sign  int      `json:"s,omitempty"`
	Chain bool     `json:"c,omitempty"`
}

func FuzzApplyLog(f *testing.F) {
	for _, s := range append(fuzzSeeds(f), scopeFuzzSeeds(f)...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var steps []fuzzStep
		if json.Unmarshal(data, &steps) != nil || len(steps) > 64 {
			return
		}
		m := NewMembership(testTeam)
		var taken []LogEntry
		for i := range steps {
			e := &steps[i].Entry
			if steps[i].Chain {
				e.Seq, e.Prev = m.Seq+1, bytes.Clone(m.Head)
			}
			if k := steps[i].Sign; k > 0 && k <= len(devs) {
				e.Sign(devs[k-1].ID, devs[k-1].key)
			}
			before := cloneM(m)
			err := m.Apply(e)
			if err != nil {
				var le *LogError
				if !errors.As(err, &le) || le.Seq != e.Seq {
					t.Fatalf("step %d: error %v is no LogError for entry %d", i, err, e.Seq)
				}
				if !reflect.DeepEqual(m, before) {
					t.Fatalf("step %d: a refused entry changed the membership", i)
				}
				continue
			}
			// Accepted: it extends the log by one, chained to the head, and
			// verifies under the key of its signer: the device it creates,
			// or an admin in the team just before it.
			if m.Seq != before.Seq+1 || e.Seq != m.Seq || !bytes.Equal(e.Prev, before.Head) || !bytes.Equal(m.Head, e.Hash()) {
				t.Fatalf("step %d: entry %d taken at seq %d -> %d", i, e.Seq, before.Seq, m.Seq)
			}
			var key []byte
			if e.Kind == LogCreate {
				if e.Seq != 1 || e.Device == nil || e.Signer != e.Device.ID {
					t.Fatalf("step %d: a creation taken at %d, signer %s", i, e.Seq, e.Signer)
				}
				key = e.Device.SignKey
			} else {
				s, ok := before.Devices[e.Signer]
				if !ok || !s.Active || s.Role != RoleAdmin {
					t.Fatalf("step %d: taken, signed by %s, not an admin before it", i, e.Signer)
				}
				key = s.SignKey
			}
			if len(key) != ed25519.PublicKeySize || !ed25519.Verify(key, e.signed(), e.Sig) {
				t.Fatalf("step %d: taken, its signature does not verify", i)
			}
			if m.admins() == 0 || m.Epoch < before.Epoch || !bytes.Equal(m.Genesis, firstHash(taken, e)) {
				t.Fatalf("step %d: taken, and the team has %d admins, epoch %d -> %d, genesis %x", i, m.admins(), before.Epoch, m.Epoch, m.Genesis)
			}
			taken = append(taken, *e)
		}
		// The entries taken, stored as JSON and replayed (as the server
		// and every client do), lead to the same membership.
		r := NewMembership(testTeam)
		for i := range taken {
			b, err := json.Marshal(&taken[i])
			if err != nil {
				t.Fatalf("entry %d does not encode: %v", i+1, err)
			}
			var x LogEntry
			if err := json.Unmarshal(b, &x); err != nil {
				t.Fatal(err)
			}
			if err := r.Apply(&x); err != nil {
				t.Fatalf("entry %d, replayed from JSON: %v", i+1, err)
			}
		}
		if len(taken) > 0 && !reflect.DeepEqual(r, m) {
			t.Fatalf("replayed from JSON: %+v\nwant %+v", r, m)
		}
	})
}

func firstHash(taken []LogEntry, e *LogEntry) []byte {
	if len(taken) > 0 {
		return taken[0].Hash()
	}
	return e.Hash()
}

// fuzzSeeds are step lists: a whole valid log as signed, the same to be
// signed by the harness, and near misses.
func fuzzSeeds(t testing.TB) [][]byte {
	c := newChain(t)
	c.ok(c.add(ann, wes, RoleWriter))
	c.ok(c.add(ann, rita, RoleReader))
	c.ok(c.add(ann, abe, RoleAdmin))
	c.ok(c.role(abe, "rita", RoleWriter))
	c.ok(c.epoch(ann, 2))
	c.ok(c.removeDevice(abe, wes))
	c.ok(c.removeMember(ann, "rita"))
	c.ok(c.add(abe, ann2, RoleAdmin))
	var asSigned, toSign []fuzzStep
	idx := map[string]int{}
	for i, d := range devs {
		idx[d.ID] = i + 1
	}
	for _, e := range c.entries {
		asSigned = append(asSigned, fuzzStep{Entry: e})
		u := e
		u.Sig, u.Prev, u.Seq = nil, nil, 0
		toSign = append(toSign, fuzzStep{Entry: u, Sign: idx[e.Signer], Chain: true})
	}
	enc := func(v any) []byte {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	near := func(mut func(s []fuzzStep) []fuzzStep) []byte {
		s := append([]fuzzStep(nil), toSign...)
		return enc(mut(s))
	}
	return [][]byte{
		enc(asSigned),
		enc(toSign),
		// The last admin removed; a writer signing; an epoch skipped; a
		// second creation; an unknown kind.
		near(func(s []fuzzStep) []fuzzStep {
			return append(s[:1], fuzzStep{Entry: LogEntry{Kind: LogRemove, Team: testTeam, Target: ann.ID}, Sign: 1, Chain: true})
		}),
		near(func(s []fuzzStep) []fuzzStep {
			return append(s[:2], fuzzStep{Entry: LogEntry{Kind: LogEpoch, Team: testTeam, Epoch: 2}, Sign: 4, Chain: true})
		}),
		near(func(s []fuzzStep) []fuzzStep {
			return append(s[:2], fuzzStep{Entry: LogEntry{Kind: LogEpoch, Team: testTeam, Epoch: 3}, Sign: 1, Chain: true})
		}),
		near(func(s []fuzzStep) []fuzzStep { return append(s[:3], s[0]) }),
		near(func(s []fuzzStep) []fuzzStep {
			return append(s[:1], fuzzStep{Entry: LogEntry{Kind: "promote", Team: testTeam, Member: "ann", Role: RoleAdmin}, Sign: 1, Chain: true})
		}),
		[]byte(`[{"e":{"seq":1,"kind":"create","team":"` + testTeam + `","device":{}},"s":1}]`),
		[]byte(`[]`),
		[]byte(`[{}]`),
	}
}

// TestFuzzApplyLogSeeds checks that the seeds on disk still mean what they
// did: the signed log applies whole as it is, and the near misses are
// refused where they differ.
func TestFuzzApplyLogSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzApplyLog")
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no seeds in %s: %v", dir, err)
	}
	applied := map[string]int64{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a corpus file", f)
		}
		data, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		var steps []fuzzStep
		if err := json.Unmarshal([]byte(data), &steps); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m := NewMembership(testTeam)
		for i := range steps {
			e := &steps[i].Entry
			if steps[i].Chain {
				e.Seq, e.Prev = m.Seq+1, bytes.Clone(m.Head)
			}
			if k := steps[i].Sign; k > 0 && k <= len(devs) {
				e.Sign(devs[k-1].ID, devs[k-1].key)
			}
			m.Apply(e)
		}
		applied[filepath.Base(f)] = m.Seq
	}
	want := map[string]int64{"signed-log": 9, "log-to-sign": 9, "scoped-log": 9, "remove-last-admin": 1, "writer-signs": 2, "epoch-skipped": 2, "second-creation": 3}
	for name, seq := range want {
		if applied[name] != seq {
			t.Errorf("seed %s applies %d entries, want %d", name, applied[name], seq)
		}
	}
}
