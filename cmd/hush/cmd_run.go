package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/runsession"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
)

// exitStatus carries a child's exit code out of `hush run`: no message.
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func (a *app) runCommand() *cobra.Command {
	var r runsession.Request
	cmd := &cobra.Command{
		Use:     "run [--from FOLDER]... [--env-file FILE] [--dynamic VAR=NAME]... [--mask] -- COMMAND [ARGS...]",
		Aliases: []string{"exec"},
		Short:   "run a command with secrets in its environment",
		Long: `Run COMMAND with secrets as environment variables, named by the last segment
of each secret's name.

  --from FOLDER       the secrets directly in FOLDER (repeatable; later wins);
                      FOLDER? (quoted: 'app/dev-local?') may be empty or absent
  --env-file FILE     KEY=value lines; values of the form hush://NAME or
                      hush://NAME?version=N are replaced by that secret
  hush:// references  in the inherited environment are replaced too
  .hush.toml          in the working folder or a parent: vault = "...",
                      from = ["app/dev"] (used when no --from is given)

Secrets override inherited variables unless --preserve-env. HUSH_PASSPHRASE
and HUSH_NEW_PASSPHRASE never reach the command; HUSH_RUN=1 marks it.

By default hush replaces itself with the command (execve): its exit code and
signals are the command's own. --mask keeps hush in between to replace
secret values in the command's output with <concealed by hush>; hush then
forwards signals and exits with the command's code (128+N for signal N).
Masking catches a value written in pieces, unless the pieces come more than
50 ms apart.

--dynamic VAR=NAME (repeatable) makes a PostgreSQL login of the command's own
from the dynamic source NAME (see ` + "`hush dynamic`" + `), valid for the source's
TTL, and puts its URL in VAR; hush then stays, as with --mask, and drops the
login when the command ends. The source's admin URL never reaches the
command, and --from skips dynamic sources.

--watch keeps hush as a supervisor that follows the vault (a change made on
this machine, by any process) and, when it is shared with a team, the team
server: when an injected secret gets a new version, hush sends the command's
process group --watch-signal (default TERM), waits --watch-grace (default
10s), then SIGKILL, and starts it again with the new values. Changes that
arrive together restart it once. --watch=signal:HUP only sends that signal.
A revoked secret stops the command; a locked vault or an unreachable server
is said once and the command keeps running. See docs/run.md.

The environment of a process is readable by other processes of the same
user (/proc/PID/environ): see docs/run.md.`,
		Example: `  hush run --from app/dev -- npm start
  hush exec --from app/dev --from 'app/dev-local?' -- ./server
  DATABASE_URL=hush://app/prod/DATABASE_URL hush run -- psql
  hush run --env-file .env.tpl -- make test
  hush run --mask --from app/prod -- ./deploy.sh
  hush run --from app/prod --dynamic DATABASE_URL=db/prod -- ./report.sh
  hush run --watch --from app/dev -- npm run dev
  hush run --watch=signal:HUP --from app/prod -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usage.Errorf("missing COMMAND: put it after --, e.g. `hush run --from app/dev -- npm start`")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			r.Command = args
			return a.run(r)
		},
	}
	// Flags stop at the command: `hush run --from x npm start --port 3`.
	cmd.Flags().SetInterspersed(false)
	f := cmd.Flags()
	f.StringArrayVar(&r.From, "from", nil, "inject the secrets directly in `FOLDER` (repeatable; later wins)")
	f.StringVar(&r.EnvFile, "env-file", "", "read variables from a dotenv `FILE`; hush:// values are resolved")
	f.BoolVar(&r.PreserveEnv, "preserve-env", false, "inherited variables win over injected secrets")
	f.BoolVar(&r.Mask, "mask", false, "replace secret values in the command's output with <concealed by hush>")
	f.BoolVar(&r.NoProject, "no-project", false, "ignore .hush.toml")
	f.StringVar(&r.Watch, "watch", "", "restart the command when a secret it was given changes (`restart` or signal:NAME)")
	f.Lookup("watch").NoOptDefVal = "restart"
	f.StringVar(&r.WatchSignal, "watch-signal", "TERM", "the signal that asks the command to stop before a restart (`NAME`)")
	f.DurationVar(&r.WatchGrace, "watch-grace", 10*time.Second, "how long the command has to stop before SIGKILL (`DURATION`)")
	f.StringArrayVar(&r.Dynamic, "dynamic", nil, "a short-lived database login from dynamic source NAME, its URL in VAR (`VAR=NAME`, repeatable)")
	return cmd
}

// run prepares r (runsession.Prepare) and runs the program, with the
// vault unlocked when it needs it.
func (a *app) run(r runsession.Request) error {
	r.Env, r.Token = a.Env, machine.Source(a.Getenv, a.TokenFile)
	p, err := runsession.Prepare(r)
	if err != nil {
		return err
	}
	if a.VaultName == "" {
		a.VaultName = p.ProjectVault
	}
	s := &runsession.Session{Stdio: a.stdio(), Notef: a.notef, Record: a.Record}
	if p.NeedsVault {
		if s.Vault, err = a.Unlocked(); err != nil {
			return err
		}
		p.Options.Hidden = func(f string) error { return teamsync.NotHeld(s.Vault, f, true) }
	}
	return exitCode(s.Run(p.Options, p.Mode))
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
