package client

import (
	"encoding/hex"
	"sort"

	"github.com/hush-secrets/hush/vault"
)

// What a status says of folder scopes (docs/sync.md "Folder scopes"):
// the scopes this device holds, and the local changes a sync will not
// send because it may not write their scope.

// HeldRoles lists the scopes this device's member holds by the verified
// log, with the role on each, by folder ("/": the root, first); nil for a
// team without folder scopes, or a device the log does not list.
func (st *State) HeldRoles() ([]ScopeRole, error) {
	m := st.Members
	if m == nil || len(m.Scopes) == 0 && len(m.RootOff) == 0 {
		return nil, nil
	}
	d, ok := m.Devices[st.Device.ID]
	if !ok || !d.Active {
		return nil, nil
	}
	folders, err := st.Folders()
	if err != nil {
		return nil, err
	}
	folders[""] = "/"
	out := []ScopeRole{}
	for id, role := range m.ScopesOf(d.Member, m.Seq) {
		if f, ok := folders[id]; ok {
			out = append(out, ScopeRole{Folder: f, Role: role})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Folder == "/" || out[j].Folder != "/" && out[i].Folder < out[j].Folder
	})
	return out, nil
}

// KeptHere counts the local changes not yet pushed that a sync keeps on
// this device because it may not write their scope (what a sync's
// Report.OutOfScope counts), or because a teammate moved the secret out
// of its scopes (Report.MovedAway, as the last sync that met them saw):
// 0 for a team without folder scopes, where the role alone decides.
func (st *State) KeptHere(v *vault.Vault) (int, error) {
	writable := st.writableScope()
	if writable == nil {
		return 0, nil
	}
	ts, err := v.Replica().Changed()
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range ts {
		t := &ts[i]
		if !t.Dirty() || t.Mark != nil && t.Mark.Theirs != nil {
			continue // not waiting to be pushed, or in conflict
		}
		if st.MovedAway[hex.EncodeToString(t.ID)] {
			n++
			continue
		}
		name := st.Purged[hex.EncodeToString(t.ID)] // a purge's removal: the name it had (Purge)
		if t.Exists {
			sec, err := v.Replica().ByID(t.ID)
			if err != nil {
				return 0, err
			}
			clear(sec.Value)
			name = sec.Name
		}
		if name != "" && !writable(name) {
			n++
		}
	}
	return n, nil
}
