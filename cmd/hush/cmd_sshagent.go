package main

import (
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/sshagent"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) sshAgentCommand() *cobra.Command {
	var (
		folder, socket    string
		confirm, allowAdd bool
	)
	cmd := &cobra.Command{
		Use:   "ssh-agent",
		Short: "serve the SSH keys of a folder to ssh through an agent socket",
		Long: `Serve the SSH private keys kept in a folder of the vault (default "ssh")
through the SSH agent protocol, until interrupted. It prints the line that
points ssh at it:

  eval "$(hush ssh-agent &)"       # or: hush ssh-agent --socket PATH &

The agent reads the keys with the key ` + "`hush unlock`" + ` remembered, at each
request: after ` + "`hush lock`" + ` it lists and signs nothing until the next
` + "`hush unlock`" + `. It never exports a private key, refuses ssh-add's
requests to add or remove keys (unless --allow-add: kept in memory only),
and records every signature in the audit log. With --confirm each
signature is first confirmed through $SSH_ASKPASS, as ssh-add -c does.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			folder, err := vault.CleanFolder(folder)
			if err != nil {
				return usage.Wrap(err)
			}
			o := sshagent.Options{AllowChanges: allowAdd, Log: a.notef}
			if confirm {
				askpass := a.Getenv("SSH_ASKPASS")
				if askpass == "" {
					return usage.Errorf("--confirm asks through $SSH_ASKPASS, which is not set (e.g. ssh-askpass, ksshaskpass, or a script that exits 0 for yes)")
				}
				o.Confirm = sshagent.Askpass(askpass, os.Environ())
			}
			av := &sshagent.FolderVault{Open: a.Open, Chain: a.Chain(), Folder: folder, Notef: a.notef,
				Audit: func(v *vault.Vault, action string, names []string, result error) { a.Record(v, action, names, result) }}
			keys, err := av.Check()
			if err != nil {
				return err
			}
			if socket == "" {
				name, _, err := a.VaultPath()
				if err != nil {
					return err
				}
				if socket, err = sshagent.SocketPath(a.Getenv("XDG_RUNTIME_DIR"), name); err != nil {
					return err
				}
			}
			return sshagent.ListenAndServe(socket, av, o, func() {
				a.printf("SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", socket)
				// Close stdout unless it is a terminal: `eval "$(hush ssh-agent &)"`
				// returns once the line is read, while the agent keeps serving.
				if f, ok := a.stdout.(*os.File); ok && !term.IsTerminal(int(f.Fd())) {
					f.Close()
				}
				a.notef("hush ssh-agent: serving %d key(s) from %q on %s; Ctrl-C stops it", keys, folder, socket)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&folder, "folder", "ssh", "the folder whose SSH private keys are served")
	f.BoolVar(&confirm, "confirm", false, "confirm each signature through $SSH_ASKPASS")
	f.BoolVar(&allowAdd, "allow-add", false, "let clients add keys (kept in memory, never in the vault)")
	f.StringVar(&socket, "socket", "", "the socket's path (default $XDG_RUNTIME_DIR/hush/ssh-agent.VAULT.sock)")
	return cmd
}
