package main

import (
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/crypto"
)

func (a *app) passwdCommand() *cobra.Command {
	var (
		kdf     kdfFlags
		newFile string
	)
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "change the vault's passphrase",
		Long: `Change the passphrase: the vault key is re-wrapped under the new one with a
new salt; no secret is re-encrypted. The current passphrase is asked (or taken
from HUSH_PASSPHRASE / --passphrase-file), the new one asked twice (or taken
from HUSH_NEW_PASSPHRASE / --new-passphrase-file). --kdf-memory and
--kdf-passes change the key derivation cost at the same time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The current passphrase, not a remembered key: whoever sits at
			// an unlocked session must not be able to change it.
			v, err := a.open()
			if err != nil {
				return err
			}
			defer v.Close()
			if err := a.unlockWithPassphrase(v); err != nil {
				return err
			}
			err = func() error {
				params, err := kdf.params(v.KDF())
				if err != nil {
					return err
				}
				pass, err := a.newPassphrase(newFile, false)
				if err != nil {
					return err
				}
				defer crypto.Wipe(pass)
				if err := v.ChangePassphrase(pass, params); err != nil {
					return err
				}
				a.notef("passphrase changed (key derivation: %s)", params)
				return nil
			}()
			if rerr := a.record(v, "passwd", nil, err); err == nil && rerr != nil {
				a.notef("note: the passphrase was changed, but %v", rerr)
			}
			return err
		},
	}
	kdf.register(cmd)
	cmd.Flags().StringVar(&newFile, "new-passphrase-file", "", "read the new passphrase from `FILE`")
	return cmd
}
