package vault

// changing are the audited actions that change secrets; every other
// audited action reads them.
var changing = map[string]bool{"set": true, "import": true, "rotate": true, "revoke": true, "rm": true, "purge": true, "dynamic-add": true,
	"mv": true, "cp": true, "rollback": true, "edit": true}

// Changes reports whether the audited action changes secrets: its entry
// goes in with the change ([Vault.Intend]), and a front end in a team
// pushes the change once it is recorded. The others hand values out
// ([Vault.IntendRead]).
func Changes(action string) bool { return changing[action] }

// IntendAction is [Vault.Intend] for an action that changes secrets
// ([Changes]), [Vault.IntendRead] for one that reads them.
func (v *Vault) IntendAction(action string, names []string) {
	if Changes(action) {
		v.Intend(action, names)
	} else {
		v.IntendRead(action, names)
	}
}
