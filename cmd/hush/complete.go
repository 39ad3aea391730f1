package main

import (
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/complete"
)

// Shell completion of secret names and folders (`hush get app/pr<Tab>`),
// for every shell cobra's `hush completion` supports. It uses only a key
// remembered in a store that never asks (the kernel keyring): no prompt,
// no passphrase variable (Argon2 would make every Tab slow), no audit
// entry, no sync. Locked, it offers nothing.

// completeArgs sets the completion of each command's name or folder
// arguments, and of run's --from.
func (a *app) completeArgs(root *cobra.Command) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "get", "edit", "history", "rollback", "rotate", "revoke", "set", "mv", "cp":
			c.ValidArgsFunction = a.completion(false, 1)
		case "rm":
			c.ValidArgsFunction = a.completion(false, -1)
		case "ls", "export", "due", "policy":
			c.ValidArgsFunction = a.completion(true, 1)
		case "run":
			_ = c.RegisterFlagCompletionFunc("from", a.completion(true, -1))
		}
	}
}

// completion completes names (or folders only) for the first max
// arguments (-1: all of them).
func (a *app) completion(foldersOnly bool, max int) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		none := cobra.ShellCompDirectiveNoFileComp
		if max >= 0 && len(args) >= max {
			return nil, none
		}
		var names []string
		if _, path, err := a.VaultPath(); err == nil {
			names = complete.Names(path, a.Chain())
		}
		out, intoFolder := complete.Offer(names, toComplete, foldersOnly)
		dir := none
		if intoFolder {
			dir |= cobra.ShellCompDirectiveNoSpace // go on typing into the folder
		}
		return out, dir
	}
}
