package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/dynamic"
	"github.com/hush-secrets/hush/cmd/hush/internal/helptext"
	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/runsession"
)

// exitStatus carries a child's exit code out of `hush run`: no message.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (a *app) runCommand() *cobra.Command {
	var (
		from, dyn              []string
		envFile                string
		preserve, mask, noProj bool
		watch                  watchFlags
	)
	cmd := &cobra.Command{
		Use:     "run [--from FOLDER]... [--env-file FILE] [--dynamic VAR=NAME]... [--mask] -- COMMAND [ARGS...]",
		Aliases: []string{"exec"},
		Short:   "run a command with secrets in its environment",
		Long:    helptext.Run,
		Example: helptext.RunExample,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("missing COMMAND: put it after --, e.g. `hush run --from app/dev -- npm start`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.run(args, from, dyn, envFile, preserve, mask, noProj, watch)
		},
	}
	// Flags stop at the command: `hush run --from x npm start --port 3`.
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringArrayVar(&from, "from", nil, "inject the secrets directly in `FOLDER` (repeatable; later wins)")
	f.StringVar(&envFile, "env-file", "", "read variables from a dotenv `FILE`; hush:// values are resolved")
	f.BoolVar(&preserve, "preserve-env", false, "inherited variables win over injected secrets")
	f.BoolVar(&mask, "mask", false, "replace secret values in the command's output with <concealed by hush>")
	f.BoolVar(&noProj, "no-project", false, "ignore .hush.toml")
	f.StringVar(&watch.mode, "watch", "", "restart the command when a secret it was given changes (`restart` or signal:NAME)")
	f.Lookup("watch").NoOptDefVal = "restart"
	f.StringVar(&watch.signal, "watch-signal", "TERM", "the signal that asks the command to stop before a restart (`NAME`)")
	f.DurationVar(&watch.grace, "watch-grace", 10*time.Second, "how long the command has to stop before SIGKILL (`DURATION`)")
	f.StringArrayVar(&dyn, "dynamic", nil, "a short-lived database login from dynamic source NAME, its URL in VAR (`VAR=NAME`, repeatable)")
	return cmd
}

// watchFlags are run's --watch, --watch-signal and --watch-grace.
type watchFlags struct {
	mode   string // "", "restart" or "signal:NAME"
	signal string
	grace  time.Duration
}

func (a *app) run(args, from, dyn []string, envFile string, preserve, mask, noProject bool, watch watchFlags) error {
	specs, err := dynamic.ParseBindings(dyn)
	if err != nil {
		return usageError{err}
	}
	if src := machine.Source(a.getenv, a.tokenFile); src != "" && (watch.mode != "" || len(specs) > 0) {
		return usagef("--watch and --dynamic do not work with a machine token (%s) yet: `hush agent` follows a team with one", src)
	}
	var rw run.Watch
	if watch.mode != "" {
		if rw, err = run.ParseWatch(watch.mode, watch.signal, watch.grace); err != nil {
			return usageError{err}
		}
		rw.Mask = mask
	}
	o, projectVault, err := run.Prepare(run.Request{From: from, EnvFile: envFile, PreserveEnv: preserve, NoProject: noProject,
		Env: a.env, Command: args})
	if err != nil {
		return err
	}
	if a.vaultName == "" {
		a.vaultName = projectVault
	}
	needsVault, err := o.NeedsVault()
	if err != nil {
		return err
	}
	needsVault = needsVault || len(specs) > 0
	if watch.mode != "" && !needsVault {
		return usagef("--watch follows secrets from the vault: give --from FOLDER or a hush:// reference")
	}
	if !needsVault && o.EnvFile == nil {
		return usagef("nothing to inject: give --from FOLDER, --env-file FILE, --dynamic VAR=NAME, a hush:// reference, or a %s with from = [...]", run.ProjectFile)
	}
	s := &runsession.Session{Stdio: a.stdio(), Notef: a.notef, Record: a.record}
	if needsVault {
		if s.Vault, err = a.unlocked(); err != nil {
			return err
		}
	}
	m := runsession.Mode{Mask: mask, Bindings: specs}
	if watch.mode != "" {
		m.Watch = &rw
	}
	return exitCode(s.Run(o, m))
}

// exitCode is a supervised child's exit code as hush's, or the error that
// kept it from running.
func exitCode(code int, err error) error {
	if err != nil {
		return err
	}
	return exitStatus(code)
}

func (a *app) stdio() run.Stdio { return run.StdioOf(a.stdin, a.stdout, a.stderr) }
