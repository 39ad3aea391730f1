package main

import "github.com/spf13/cobra"

// addDesktopCommands adds the commands for desktop integrations and
// packaging (docs/desktop.md): kept apart from the core command list.
func (a *app) addDesktopCommands(root *cobra.Command) {
	root.AddCommand(a.genDocsCommand(), a.sshAgentCommand(), a.credentialCommand())
}
