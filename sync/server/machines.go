package server

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Machines (wire.LogMachine) join through the ordinary join and approval
// (the admin's client sends both: it made the machine's keys), with a
// machine entry instead of an add. Their access ends at the expiry that
// entry names: from then on the server refuses every request the device
// signs, whatever its state, from the signed entry it stores.

// expired refuses (403) a request from a machine device past its expiry,
// and reports whether it did. The expiry of a device never changes (a
// machine entry is written once), so it is read from the log once per
// device and process, when the device is first active.
func (s *Server) expired(w http.ResponseWriter, r *http.Request, dev *store.Device) bool {
	if dev.State != store.Active {
		return false
	}
	s.mu.Lock()
	exp, known := s.expiry[dev.ID]
	s.mu.Unlock()
	if !known {
		entries, _, err := s.st.Log(r.Context(), dev.Team, 0)
		if err != nil {
			s.internal(w, r, err)
			return true
		}
		for _, b := range entries {
			var e wire.LogEntry
			if json.Unmarshal(b, &e) == nil && e.Kind == wire.LogMachine && e.Device != nil && e.Device.ID == dev.ID {
				exp = e.Expires
			}
		}
		s.mu.Lock()
		if len(s.expiry) > 100000 {
			clear(s.expiry)
		}
		s.expiry[dev.ID] = exp
		s.mu.Unlock()
	}
	if exp.IsZero() || s.now().Before(exp) {
		return false
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "request", Result: "denied: machine expired"})
	fail(w, http.StatusForbidden, "this machine's access expired on "+exp.UTC().Format(time.RFC3339)+": ask an admin for a new token")
	return true
}
