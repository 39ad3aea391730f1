package vault

import "testing"

// The actions that change secrets are the ones pushed to a team and
// logged with the change; reading ones are logged before a value leaves.
func TestChanges(t *testing.T) {
	for _, a := range []string{"set", "import", "rotate", "revoke", "rm", "purge", "dynamic-add", "mv", "cp", "rollback", "edit"} {
		if !Changes(a) {
			t.Errorf("%s does not change secrets", a)
		}
	}
	for _, a := range []string{"get", "export", "run", "ls", "reveal", "copy", "team-create", "policy", ""} {
		if Changes(a) {
			t.Errorf("%s changes secrets", a)
		}
	}
}
