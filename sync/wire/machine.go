package wire

import (
	"errors"
	"fmt"
	"time"
)

// Machines are members without a person: a CI job, a Kubernetes agent. An
// admin's device makes the machine's key pairs itself and adds it with one
// log entry of kind [LogMachine], signed by that admin, naming the
// machine's device (its public keys), its role (reader or writer, never
// admin) and when its access ends. No join handshake is needed: the admin
// made the keys, so no server can have slipped in its own. The device's
// private keys leave the admin's device only in the machine token, printed
// once.
//
// Folder scopes: a machine entry without scopes gives the machine what
// every member has, the team's root scope; one with Scopes (ids of scopes
// already in the log, signed only when set, so that entries written before
// scopes keep their encoding and their hash) gives it those scopes, with
// its role, and not the root.

// MaxMachineLife is the longest a machine's access may last from its entry.
const MaxMachineLife = 366 * 24 * time.Hour

// ErrMachineExpired means a machine's access has ended.
var ErrMachineExpired = errors.New("this machine's access to the team has expired")

// applyMachine checks and applies a machine entry (its signature and place
// in the chain are already checked).
func (m *Membership) applyMachine(e *LogEntry) error {
	if e.Device == nil {
		return errors.New("a machine entry names a device")
	}
	if err := e.Device.Check(); err != nil {
		return err
	}
	if e.Role != RoleReader && e.Role != RoleWriter {
		return fmt.Errorf("a machine is a reader or a writer, not %q", e.Role)
	}
	if e.Device.Name != e.Device.Member {
		return errors.New("a machine's device is named as the machine")
	}
	if !e.Expires.After(e.Time) || e.Expires.Sub(e.Time) > MaxMachineLife {
		return fmt.Errorf("a machine's access ends after its entry and within %d days", int(MaxMachineLife.Hours()/24))
	}
	if _, ok := m.Devices[e.Device.ID]; ok {
		return fmt.Errorf("device %s was already in the team", e.Device.ID)
	}
	// A machine is a member of its own: its name is new (a removed
	// member's name may be used again, as for people).
	if len(m.memberDevices(e.Device.Member)) > 0 {
		return fmt.Errorf("member %s is already in the team", e.Device.Member)
	}
	if err := m.checkMachineScopes(e); err != nil {
		return err
	}
	m.Devices[e.Device.ID] = &LogDevice{Device: *e.Device, Role: e.Role, Active: true, Added: e.Seq,
		Roles: []RoleSpan{{e.Seq, e.Role}}, Machine: true, Expires: e.Expires.UTC()}
	m.memberScopes(e.Device.Member, e)
	return nil
}

// isMachine reports whether member is an active machine.
func (m *Membership) isMachine(member string) bool {
	for _, d := range m.memberDevices(member) {
		if d.Machine {
			return true
		}
	}
	return false
}

// Expired reports whether d is a machine whose access has ended at now.
func (d *LogDevice) Expired(now time.Time) bool {
	return d.Machine && !now.Before(d.Expires)
}
