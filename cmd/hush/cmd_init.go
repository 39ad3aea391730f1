package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/session"
)

// kdfFlags are init's and passwd's --kdf-memory and --kdf-passes.
type kdfFlags struct{ session.KDFFlags }

func (f *kdfFlags) register(cmd *cobra.Command) {
	cmd.Flags().IntVar(&f.MemoryMiB, "kdf-memory", 0, "Argon2id memory in `MiB` (default 64, at least 19)")
	cmd.Flags().IntVar(&f.Passes, "kdf-passes", 0, "Argon2id passes (default 3, raised on fast machines; at least 2)")
}

func (a *app) initCommand() *cobra.Command {
	var kdf kdfFlags
	cmd := &cobra.Command{
		Use:   "init",
		Short: "create the vault",
		Long: `Create the vault. The passphrase is asked twice on the terminal, or taken from
HUSH_NEW_PASSPHRASE, HUSH_PASSPHRASE or --passphrase-file.

Without --kdf-memory/--kdf-passes, the cost of deriving the key (Argon2id,
64 MiB, 4 lanes) is raised until one unlock takes about half a second on
this machine.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.initVault(&kdf)
		},
	}
	kdf.register(cmd)
	return cmd
}

func (a *app) initVault(kdf *kdfFlags) error {
	start := time.Now()
	v, name, path, err := a.Create(kdf.Chosen, "")
	if err != nil {
		return err
	}
	took := time.Since(start)
	defer v.Close()
	a.notef("created vault %s at %s", name, path)
	a.notef("passphrase key: %s, about %.2f s per unlock here", v.KDF(), took.Seconds())
	a.notef("\n%s", quickStart)
	return nil
}

// runDefault is `hush` with no command: the terminal UI on a terminal
// (which offers to create the vault on first run), the help otherwise.
func (a *app) runDefault(cmd *cobra.Command, _ []string) error {
	if !a.onTerminal() {
		return cmd.Help()
	}
	return a.runTUI()
}

const quickStart = `Quick start:
  hush                              browse your secrets in the terminal UI
  hush set app/dev/API_KEY          store a secret (the value is asked, hidden)
  hush get app/dev/API_KEY          print it
  hush ls                           list names, types and ages (never values)
  hush import --into app/dev .env   bring in a .env file
  hush generate                     a strong password (--words 6, --bytes 32)
  hush --help                       everything else`
