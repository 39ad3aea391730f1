package server_test

import (
	"net/http"
	"testing"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// An admin turns a pending join away: the device can no longer
// authenticate (the same 401 as a stranger), only a pending device can be
// refused, and only by an admin.
func TestRefuseJoin(t *testing.T) {
	e := newTeam(t, server.Options{})
	inv := e.invite(wire.RoleReader)
	eve := e.join(inv, "eve-pc", "eve")
	e.call(eve, "GET", "/v1/key", nil).want(t, http.StatusNotFound, "no key for this device yet: an admin has to approve it (hush sync on an admin's device)")

	e.call(e.writer, "POST", "/v1/joins/refuse", wire.Refuse{Device: eve.ID}).want(t, http.StatusForbidden, "only an admin can do this")
	e.call(e.admin, "POST", "/v1/joins/refuse", wire.Refuse{Device: "nothex"}).want(t, http.StatusBadRequest, "device id is not 32 hex digits")
	e.call(e.admin, "POST", "/v1/joins/refuse", wire.Refuse{Device: e.writer.ID}).want(t, http.StatusConflict, "that device is not waiting for approval")
	e.call(e.writer, "GET", "/v1/log?since=0", nil).want(t, http.StatusOK, "") // the writer is untouched

	e.call(e.admin, "POST", "/v1/joins/refuse", wire.Refuse{Device: eve.ID}).want(t, http.StatusOK, "")
	e.call(eve, "GET", "/v1/key", nil).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(e.admin, "POST", "/v1/joins/refuse", wire.Refuse{Device: eve.ID}).want(t, http.StatusConflict, "that device is not waiting for approval")
	// Approving it afterwards is refused too.
	e.call(e.admin, "POST", "/v1/joins/approve", e.approval(e.admin, inv, eve)).want(t, http.StatusConflict, "")
}
