package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/session"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/vault/keychain"
	"github.com/hush-secrets/hush/vault/unlock"
)

// app carries what every command needs: the streams, the global flags and
// the vault session (internal/session: the environment, which vault, how it
// is unlocked and audited). Commands get it in their constructor; nothing
// is fetched from globals or a context.
type app struct {
	*session.Session
	stdin          io.Reader
	stdout, stderr io.Writer
	jsonOut        bool
}

// Main runs hush with args and returns the exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	a.Session = &session.Session{Env: map[string]string{}, Stores: keychain.Default(), Notef: a.notef}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			a.Env[k] = v
		}
	}
	// hush reads these from a.Env; no process it starts (clipboard tools,
	// rotators, run's child) may inherit them from the process environment.
	unlock.ScrubProcess()
	root := a.rootCommand(args)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		return report(stderr, err)
	}
	return exitOK
}

// topCommands are hush's commands, each under every name it answers to
// (its name, then its aliases; TestTopCommandsNameThemselves keeps the
// names true). A command line whose first word is one of them builds only
// that command and its subcommands: making the other thirty-odd commands
// and their flags is work that every `hush get` would otherwise pay for
// (docs/benchmarks.md, "start-up of a get"). ssh-agent and credential are
// the desktop integrations (docs/desktop.md).
var topCommands = []struct {
	names []string
	build func(*app) *cobra.Command
}{
	{[]string{"init"}, (*app).initCommand},
	{[]string{"set"}, (*app).setCommand},
	{[]string{"edit"}, (*app).editCommand},
	{[]string{"get", "show"}, (*app).getCommand},
	{[]string{"ls", "list"}, (*app).lsCommand},
	{[]string{"rm", "remove", "delete"}, (*app).rmCommand},
	{[]string{"mv"}, (*app).mvCommand},
	{[]string{"cp"}, (*app).cpCommand},
	{[]string{"history"}, (*app).historyCommand},
	{[]string{"rollback"}, (*app).rollbackCommand},
	{[]string{"import"}, (*app).importCommand},
	{[]string{"export"}, (*app).exportCommand},
	{[]string{"generate"}, (*app).generateCommand},
	{[]string{"passwd"}, (*app).passwdCommand},
	{[]string{"unlock"}, (*app).unlockCommand},
	{[]string{"lock"}, (*app).lockCommand},
	{[]string{"status"}, (*app).statusCommand},
	{[]string{"run", "exec"}, (*app).runCommand},
	{[]string{"dynamic"}, (*app).dynamicCommand},
	{[]string{"tui"}, (*app).tuiCommand},
	{[]string{"revoke"}, (*app).revokeCommand},
	{[]string{"due"}, (*app).dueCommand},
	{[]string{"rotate"}, (*app).rotateCommand},
	{[]string{"audit"}, (*app).auditCommand},
	{[]string{"policy"}, (*app).policyCommand},
	{[]string{"server"}, (*app).serverCommand},
	{[]string{"team"}, (*app).teamCommand},
	{[]string{"sync"}, (*app).syncCommand},
	{[]string{"resolve"}, (*app).resolveCommand},
	{[]string{"agent"}, (*app).agentCommand},
	{[]string{"version"}, (*app).versionCommand},
	{[]string{"ssh-agent"}, (*app).sshAgentCommand},
	{[]string{"credential"}, (*app).credentialCommand},
}

// onlyCommand is the constructor of the command that args' first word
// names, or nil. Anything else builds the whole tree: no command (the
// terminal UI), a flag first, help, completion and __complete (which list
// every command), a typo (suggestions come from every name), gen-docs
// (which walks the tree).
func onlyCommand(args []string) func(*app) *cobra.Command {
	if len(args) == 0 {
		return nil
	}
	for _, c := range topCommands {
		for _, n := range c.names {
			if n == args[0] {
				return c.build
			}
		}
	}
	return nil
}

// rootCommand builds the command tree for the command line args: only the
// command that args name when onlyCommand knows it (the tree then differs
// from the whole one only in commands this run cannot reach), else every
// command.
func (a *app) rootCommand(args []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "hush",
		Short: "an encrypted vault for your secrets",
		Long: `hush keeps API keys, passwords, tokens and certificates in an encrypted vault
on your machine. Start with ` + "`hush init`" + `, then ` + "`hush set NAME`" + ` and ` + "`hush get NAME`" + `.

Names are paths such as app/prod/DATABASE_URL: segments of A-Z a-z 0-9 _ . -
joined by "/". A folder is a prefix of names.

Environment:
  HUSH_HOME            where vaults live (default $XDG_DATA_HOME/hush or ~/.local/share/hush;
                       macOS ~/Library/Application Support/hush; Windows %LOCALAPPDATA%\hush)
  HUSH_VAULT           the vault to use (default "default"; --vault overrides)
  HUSH_PASSPHRASE      the passphrase, for scripts and CI (--passphrase-file or
                       ` + "`hush unlock`" + ` are safer)
  HUSH_NEW_PASSPHRASE  the new passphrase for init and passwd without a terminal
  HUSH_TOKEN           a machine token (` + "`hush team invite --machine`" + `): get, ls, export,
                       run, set and rm then use the team with it, with no vault and no passphrase`,
		SilenceErrors: true,
		SilenceUsage:  true,
		RunE:          a.runDefault,
	}
	root.SetVersionTemplate(`hush {{.Version}}` + "\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage.FlagError(err) })
	pf := root.PersistentFlags()
	pf.StringVar(&a.VaultName, "vault", "", "vault name (default $HUSH_VAULT or \"default\")")
	pf.BoolVar(&a.jsonOut, "json", false, "print data as JSON")
	pf.StringVar(&a.PassphraseFile, "passphrase-file", "", "read the passphrase from `FILE`")
	pf.StringVar(&a.TokenFile, "token-file", "", "read with the machine token in `FILE`, without a vault (get, ls, export, run, set, rm)")
	root.PersistentPreRun = func(cmd *cobra.Command, args []string) { a.Command = cmd.Name(); a.noteTokenNames(cmd, args) }
	if build := onlyCommand(args); build != nil {
		root.AddCommand(build(a))
		// Nor `hush completion` and its four shells, which cobra would
		// otherwise make at every Execute: this run is not it.
		root.CompletionOptions.DisableDefaultCmd = true
	} else {
		// Only the root has --version (a subcommand's --version is its own
		// flag), and reading the build's version costs a little.
		root.Version = versionString()
		for _, c := range topCommands {
			root.AddCommand(c.build(a))
		}
		for _, build := range buildTagCommands {
			root.AddCommand(build(a))
		}
	}
	a.completeArgs(root)
	// Every command that groups others says what a typo was meant to be.
	for _, c := range append(root.Commands(), root) {
		if c.HasSubCommands() {
			c.SuggestionsMinimumDistance = 2
			c.Args = unknownCommand
			if c.RunE == nil && c.Run == nil {
				c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
			}
		}
	}
	return root
}

func (a *app) printf(format string, args ...any) { fmt.Fprintf(a.stdout, format, args...) }

// notef prints a message for the person (stderr), keeping stdout for data.
func (a *app) notef(format string, args ...any) { fmt.Fprintf(a.stderr, format+"\n", args...) }

// note prints a note a package worded, if there is one.
func (a *app) note(n string) {
	if n != "" {
		a.notef("%s", n)
	}
}

// notes prints the notes a package worded, one a line.
func (a *app) notes(ns []string) {
	for _, n := range ns {
		a.notef("%s", n)
	}
}

// told prints what a package said it did, then passes its error on.
func (a *app) told(notes []string, err error) error {
	a.notes(notes)
	return err
}

// exactArgs is cobra.ExactArgs with a usage error and a message naming
// what is missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usage.Errorf("missing %s", strings.Join(names[len(args):], " and "))
		}
		if len(args) > len(names) {
			return usage.Errorf("too many arguments: expected %s", strings.Join(names, " "))
		}
		return nil
	}
}

func rangeArgs(min, max int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) < min {
			return usage.Errorf("missing %s", what)
		}
		if len(args) > max {
			return usage.Errorf("too many arguments")
		}
		return nil
	}
}

// unknownCommand refuses arguments to a command that only groups others,
// with cobra's suggestions ("did you mean get?") for a typo.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", strings.TrimSpace(cmd.CommandPath() + " " + args[0])[len("hush "):])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return usage.Wrap(errors.New(msg))
}
