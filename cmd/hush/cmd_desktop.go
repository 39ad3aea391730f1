package main

import "github.com/spf13/cobra"

// addDesktopCommands adds the commands for desktop integrations and
// packaging (docs/desktop.md): kept apart from the core command list.
func (a *app) addDesktopCommands(root *cobra.Command) {
	root.AddCommand(a.sshAgentCommand(), a.credentialCommand())
	for _, c := range buildTagCommands {
		root.AddCommand(c(a))
	}
}

// buildTagCommands are commands compiled in only with a build tag (gen-docs:
// `-tags gendocs`), so that the libraries they link, and those libraries'
// init work, stay out of the hush everyone runs.
var buildTagCommands []func(*app) *cobra.Command
