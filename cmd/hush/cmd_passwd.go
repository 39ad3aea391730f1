package main

import (
	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/helptext"
	"github.com/hush-secrets/hush/crypto"
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
		Long:  helptext.Passwd,
		Args:  cobra.NoArgs,
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
				if rotateKey {
					if err := a.chain().RotateKey(v, pass, params); err != nil {
						return err
					}
					a.notef("passphrase changed and vault key replaced (key epoch %d; key derivation: %s); remembered keys were forgotten", v.Epoch(), params)
					return nil
				}
				// Its entry goes in with the change, and moves the anchor.
				v.Intend("passwd", nil)
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
	cmd.Flags().BoolVar(&rotateKey, "rotate-key", false, "also replace the vault key and re-seal everything (after a suspected leak)")
	return cmd
}
