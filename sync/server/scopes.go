package server

import (
	"net/http"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Folder scopes on the server (docs/sync.md "Folder scopes"): the server
// reads no folder name, but it replays the signed log, so it knows which
// member holds which scope id. It sends a device only the records of its
// scopes, and takes a record into a scope only from a device whose member
// may write there, sealed under the scope's current epoch.

// heldRecords keeps the records of scopes the device holds.
func heldRecords(m *wire.Membership, device string, rs []wire.Record) []wire.Record {
	if len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return rs // a team without scopes: every member holds the root
	}
	held := map[string]bool{}
	out := rs[:0:0]
	for i := range rs {
		sc := rs[i].Scope
		h, ok := held[sc]
		if !ok {
			h = m.Holds(device, sc)
			held[sc] = h
		}
		if h {
			out = append(out, rs[i])
		}
	}
	return out
}

// checkScopes refuses a push with a record of a scope the device's member
// may not write (403), and answers stale for one sealed under another than
// its scope's current epoch (the device syncs and seals again).
func checkScopes(w http.ResponseWriter, m *wire.Membership, dev *store.Device, rs []wire.Record) (stale, ok bool) {
	d, in := m.Devices[dev.ID]
	if !in {
		fail(w, http.StatusForbidden, "this device is not in the team's log")
		return false, false
	}
	for i := range rs {
		r := &rs[i]
		role, held := m.RoleOn(d.Member, r.Scope, m.Seq)
		if !held || !wire.CanWrite(role) {
			fail(w, http.StatusForbidden, "this device may not write record "+r.ID+" into its scope")
			return false, false
		}
		if ep, _ := m.ScopeEpoch(r.Scope); r.Scope != "" && r.Epoch != ep {
			stale = true
		}
	}
	return stale, true
}

// writesAScope reports whether a device whose team role cannot write holds
// a writer grant on some scope: it may push, and checkScopes then takes
// only its records of the scopes it may write (a member's role on a scope
// is the grant's; on the root, the team role). ok false: the server could
// not read its log, and has answered.
func (s *Server) writesAScope(w http.ResponseWriter, r *http.Request, dev *store.Device) (writes, ok bool) {
	m, ok := s.membership(w, r, dev.Team)
	if !ok {
		return false, false
	}
	d, in := m.Devices[dev.ID]
	return in && d.Active && len(m.Scopes) > 0 && m.WritesAny(d.Member, m.Seq), true
}
