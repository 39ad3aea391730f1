package main

import (
	"github.com/spf13/cobra"
)

func (a *app) passwdCommand() *cobra.Command {
	var (
		kdf       kdfFlags
		newFile   string
		rotateKey bool
	)
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "change the vault's passphrase",
		Long: `Change the passphrase: the vault key is re-wrapped under the new one with a
new salt; no secret is re-encrypted. The current passphrase is asked (or taken
from HUSH_PASSPHRASE / --passphrase-file), the new one asked twice (or taken
from HUSH_NEW_PASSPHRASE / --new-passphrase-file). --kdf-memory and
--kdf-passes change the key derivation cost at the same time.

What plain passwd does not protect against: the vault key stays the same, so
an old copy of the vault file (a backup, a synced folder) together with the
old passphrase still opens every secret, including those written after the
change; someone who can write the file can put the old header back; and a
key remembered by ` + "`hush unlock`" + ` keeps working.

--rotate-key also replaces the vault key with a new one (a new key epoch):
every secret and all its history, the audit log and the rest are re-sealed,
and remembered keys are forgotten and refused. Use it after a suspected
leak of the passphrase or of a vault file. It is safe to interrupt: the vault
is then either as it was (old passphrase) or rotated (new passphrase).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.ChangePassphrase(kdf.Params, newFile, rotateKey)
		},
	}
	kdf.register(cmd)
	cmd.Flags().StringVar(&newFile, "new-passphrase-file", "", "read the new passphrase from `FILE`")
	cmd.Flags().BoolVar(&rotateKey, "rotate-key", false, "also replace the vault key and re-seal everything (after a suspected leak)")
	return cmd
}
