package client

import (
	"encoding/hex"

	"github.com/hush-secrets/hush/vault"
)

// Purge deletes names here for good (all or none, as vault.PurgeMany),
// and sees that the removal each makes for the team goes out right. A
// purge leaves no name, so the name it had here is kept, sealed in the
// team state, until the team takes the removal (State.Purged): the
// removal goes in that name's scope, or stays here if this device may no
// longer write it when it syncs. (Without it, the removal was sealed for
// the root: a device that does not hold the root could not, and its sync
// failed, misread as waiting for an approval; others refuse it for a name
// in a folder scope.) A name this device may not write now (a scope it
// lost or reads only, or a reader's) is purged here only: no removal is
// sent, and the team keeps its version. It returns those purged here
// only.
func (t *Team) Purge(names []string) (local []string, err error) {
	st, v := t.st, t.v
	ids := make([][]byte, 0, len(names))
	byID := map[string]string{}
	for _, n := range names {
		s, err := v.Get(n)
		if err != nil {
			continue // PurgeMany says why, or purges it (a damaged secret)
		}
		clear(s.Value)
		id, err := hex.DecodeString(s.ID)
		if err != nil {
			return nil, err
		}
		ids, byID[s.ID] = append(ids, id), n
	}
	ts, err := v.Replica().TrackedByID(ids)
	if err != nil {
		return nil, err
	}
	writable := st.writableScope()
	stays := map[string]bool{}
	for i := range ts {
		tr := &ts[i]
		if tr.Mark == nil || tr.Mark.Base == 0 {
			continue // never on the server: nothing to remove there
		}
		id := hex.EncodeToString(tr.ID)
		name := byID[id]
		switch {
		case !st.WritesAny() || writable != nil && !writable(name):
			stays[id] = true
			local = append(local, name)
		case writable != nil:
			if st.Purged == nil {
				st.Purged = map[string]string{}
			}
			st.Purged[id] = name
		}
	}
	if err := v.PurgeMany(names); err != nil {
		return nil, err
	}
	if len(stays) > 0 {
		marks := map[string]vault.SyncMark{}
		for i := range ts {
			if id := hex.EncodeToString(ts[i].ID); stays[id] {
				m := *ts[i].Mark
				m.LocalDeleted = true // in step as far as this device goes: nothing to push
				marks[id] = m
			}
		}
		if err := v.Replica().PutMarks(marks); err != nil {
			return local, err
		}
	}
	return local, t.save()
}

// prunePurged forgets the names of purged secrets whose removal the team
// has taken: their mark is in step, which a sync makes it only once the
// team shows the removal back (each save of the state).
func (st *State) prunePurged(v *vault.Vault) {
	if len(st.Purged) == 0 {
		return
	}
	ts, err := v.Replica().Changed()
	if err != nil {
		return
	}
	waiting := map[string]bool{}
	for i := range ts {
		if ts[i].Dirty() {
			waiting[hex.EncodeToString(ts[i].ID)] = true
		}
	}
	for id := range st.Purged {
		if !waiting[id] {
			delete(st.Purged, id)
		}
	}
}
