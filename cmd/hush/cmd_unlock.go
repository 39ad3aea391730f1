package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/cmd/hush/internal/vaultstatus"
)

// defaultRemember is how long `hush unlock` remembers the key: a working day.
const defaultRemember = 8 * time.Hour

func (a *app) unlockCommand() *cobra.Command {
	var (
		remember string
		persist  bool
	)
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "remember the vault key so that no command asks for the passphrase",
		Long: `Ask the passphrase once and remember the vault key, so that commands stop
asking. On Linux the key goes into the kernel keyring (fast, works over SSH
and on servers, forgotten at reboot or when the time is up); --persist also
stores it in the OS keychain (Secret Service), which survives a reboot. On
macOS and Windows the OS keychain is used.

--remember sets how long (default 8h; 0 means until ` + "`hush lock`" + `).
Running unlock again while unlocked changes the time without asking.`,
		Example: `  hush unlock
  hush unlock --remember 30m
  hush unlock --remember 0 --persist`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := parseDuration(remember)
			if err != nil {
				return usage.Wrap(err)
			}
			return a.Remember(d, persist)
		},
	}
	cmd.Flags().StringVar(&remember, "remember", formatDuration(defaultRemember), "how long to remember the key, e.g. 30m, 8h, 7d (0: until hush lock)")
	cmd.Flags().BoolVar(&persist, "persist", false, "also keep it in the OS keychain, across reboots")
	return cmd
}

func (a *app) lockCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lock",
		Short: "forget the remembered vault key everywhere, now",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.Forget() },
	}
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "show the vault, its lock state and where the key is remembered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, path, err := a.VaultPath()
			if err != nil {
				return err
			}
			v, err := a.Open()
			if err != nil {
				return err
			}
			defer v.Close()
			st, err := vaultstatus.Read(v, name, path, a.Chain())
			if err != nil {
				return err
			}
			if a.jsonOut {
				return a.writeJSON(st)
			}
			for _, l := range st.Lines(time.Now()) {
				a.printf("%-10s%s\n", l.Label, l.Text)
			}
			a.note(st.Sync.Warning())
			return nil
		},
	}
}
