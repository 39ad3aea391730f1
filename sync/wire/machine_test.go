package wire

import (
	"testing"
	"time"
)

var robot = fixedDev("ci-deploy", "ci-deploy")

func (c *chain) machine(by, d *tdev, role string, life time.Duration) *LogEntry {
	e := c.next(LogMachine)
	dev := d.Device
	e.Device, e.Role, e.Expires = &dev, role, e.Time.Add(life)
	return signed(e, by)
}

func TestMachineEntry(t *testing.T) {
	c := newChain(t)
	c.ok(c.add(ann, wes, RoleWriter))
	// Only an admin adds a machine; never as admin; with an expiry after
	// the entry and within a year; its device is named as the machine.
	c.refuse(c.machine(wes, robot, RoleReader, 90*24*time.Hour), "not an admin")
	c.refuse(c.machine(ann, robot, RoleAdmin, 90*24*time.Hour), "reader or a writer")
	c.refuse(c.machine(ann, robot, RoleReader, 0), "ends after its entry")
	c.refuse(c.machine(ann, robot, RoleReader, -time.Hour), "ends after its entry")
	c.refuse(c.machine(ann, robot, RoleReader, 400*24*time.Hour), "within 366 days")
	c.refuse(c.machine(ann, fixedDev("ci-x", "ci-y"), RoleReader, time.Hour), "named as the machine")
	c.refuse(c.machine(ann, fixedDev("wes", "wes"), RoleReader, time.Hour), "already in the team")
	e := c.machine(ann, robot, RoleReader, 90*24*time.Hour)
	c.ok(e)
	d := c.m.Devices[robot.ID]
	if !d.Machine || !d.Expires.Equal(e.Expires) || d.Role != RoleReader || !d.Active {
		t.Fatalf("machine device: %+v", d)
	}
	if d.Expired(e.Expires.Add(-time.Second)) || !d.Expired(e.Expires) {
		t.Fatal("Expired: wrong at the boundary")
	}
	if c.m.Devices[ann.ID].Expired(e.Expires.Add(1000 * time.Hour)) {
		t.Fatal("a person's device never expires")
	}
	// The expiry is signed: changed, the entry no longer checks out.
	c2 := newChain(t)
	c2.ok(c2.add(ann, wes, RoleWriter))
	f := c2.machine(ann, robot, RoleReader, 90*24*time.Hour)
	f.Expires = f.Expires.Add(365 * 24 * time.Hour)
	c2.refuse(f, "signature does not check out")
	// A machine gets no second device, and is never made an admin; it
	// may become a writer, and be removed like anyone.
	c.refuse(c.add(ann, fixedDev("ci-deploy-2", "ci-deploy"), RoleReader), "is a machine")
	c.refuse(c.role(ann, "ci-deploy", RoleAdmin), "never an admin")
	c.ok(c.role(ann, "ci-deploy", RoleWriter))
	c.ok(c.removeMember(ann, "ci-deploy"))
	if c.m.Devices[robot.ID].Active {
		t.Fatal("removed machine still active")
	}
}

// The encoding of older kinds does not change with the machine kind: an
// entry's hash without Expires is what it was before.
func TestMachineFieldOnlyInMachineEntries(t *testing.T) {
	c := newChain(t)
	e := c.add(ann, wes, RoleWriter)
	h := e.Hash()
	e.Expires = time.Unix(1e9, 0)
	if string(h) != string(e.Hash()) {
		t.Fatal("Expires changed the hash of an add entry")
	}
}
