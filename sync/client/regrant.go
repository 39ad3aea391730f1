package client

import (
	"fmt"

	"github.com/hush-secrets/hush/sync/wire"
)

// ungrantReason is why an ungrant marks a scope's secrets to be rotated
// (vault.Exposure's reason), and what a grant that gives the scope back
// takes back (ClearUngrantMarks).
func ungrantReason(member, folder string) string {
	return fmt.Sprintf("%s no longer holds %s", member, scopeName(folder))
}

// ClearUngrantMarks takes back, from the secrets of a folder scope, the
// mark to rotate an ungrant of member (a member's or a device's name) from
// it left, once a grant has given it back: a new value would not keep
// them out. A secret marked for another reason too stays marked for that
// one. It returns how many secrets are no longer marked; the changes go
// up with the next sync.
func (t *Team) ClearUngrantMarks(name, folder string) (int, error) {
	st := t.st
	f, err := cleanScopeFolder(folder, true)
	if err != nil {
		return 0, err
	}
	member, _, err := st.FindMember(name)
	if err != nil {
		return 0, err
	}
	if _, held := st.Members.RoleOn(member, scopeID(st, f), st.Members.Seq); !held {
		return 0, nil // not given back
	}
	folders, err := st.Folders()
	if err != nil {
		return 0, err
	}
	id := scopeID(st, f)
	folders[id] = f
	in := func(name string) bool { return wire.DeepestScope(folders, name) == id }
	return t.v.Replica().ClearExposureWhere(in, ungrantReason(member, f))
}

// scopeID is folder's scope id ("" for the root, or a team without a
// names key).
func scopeID(st *State, folder string) string {
	if folder == "" || st.NamesKey == nil {
		return ""
	}
	return wire.ScopeID(st.NamesKey, st.Team, folder)
}
