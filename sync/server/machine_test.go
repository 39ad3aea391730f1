package server_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// A machine joins like a device, approved with a machine entry; the
// server serves it until the expiry that entry names, then refuses every
// request it signs (403, saying so), whatever else it asks for. A
// machine entry's role must be the invite's, and never admin.
func TestMachineExpiry(t *testing.T) {
	e := newTeam(t, server.Options{})
	inv := e.invite(wire.RoleReader)
	m := e.join(inv, "ci-deploy", "ci-deploy")
	a := wire.Approve{Invite: inv, Device: m.ID, Key: e.wrappedKey(e.admin, m)}
	le := e.next(wire.LogMachine)
	dev := m.Device
	le.Device, le.Role, le.Expires = &dev, wire.RoleReader, le.Time.Add(time.Hour)
	le.Sign(e.admin.ID, e.admin.key)
	a.Entry = *le
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusOK, "")
	e.took(le)

	e.call(m, "GET", "/v1/log?since=0", nil).want(t, http.StatusOK, "")
	e.call(m, "GET", "/v1/key", nil).want(t, http.StatusOK, "")
	e.clock.Add(time.Hour)
	for _, c := range []struct{ method, path string }{{"GET", "/v1/log?since=0"}, {"GET", "/v1/key"}, {"GET", "/v1/changes?since=0"}, {"GET", "/v1/members"}} {
		e.call(m, c.method, c.path, nil).want(t, http.StatusForbidden, "this machine's access expired on")
	}
	// Others go on.
	e.call(e.reader, "GET", "/v1/changes?since=0", nil).want(t, http.StatusOK, "")

	// An admin machine is refused, as a client would refuse it.
	inv = e.invite(wire.RoleAdmin)
	m2 := e.join(inv, "ci-admin", "ci-admin")
	a = wire.Approve{Invite: inv, Device: m2.ID, Key: e.wrappedKey(e.admin, m2)}
	le = e.next(wire.LogMachine)
	dev = m2.Device
	le.Device, le.Role, le.Expires = &dev, wire.RoleAdmin, le.Time.Add(time.Hour)
	le.Sign(e.admin.ID, e.admin.key)
	a.Entry = *le
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(t, http.StatusBadRequest, "membership log entry 5 is not valid: a machine is a reader or a writer")
}
