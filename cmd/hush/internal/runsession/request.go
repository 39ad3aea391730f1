package runsession

import (
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/dynamic"
	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
)

// Request is `hush run` as it was asked for: what to inject (run.Request)
// and how the program runs.
type Request struct {
	run.Request
	Dynamic []string // --dynamic VAR=NAME
	Mask    bool
	// Watch is "" (no watching), "restart" or "signal:NAME"; WatchSignal
	// and WatchGrace say how a restart stops the program.
	Watch       string
	WatchSignal string
	WatchGrace  time.Duration
	// Token is where a machine token came from (machine.Source), "" when
	// the vault is read.
	Token string
}

// Prepared is a Request checked: what to build the program's environment
// from, how it runs, and whether it needs the vault (unlocked by the
// caller into Session.Vault).
type Prepared struct {
	Options run.Options
	Mode    Mode
	// ProjectVault is the vault the project file names ("" for none): the
	// caller uses it when no vault was chosen otherwise.
	ProjectVault string
	NeedsVault   bool
}

// Prepare checks r (what is asked for that cannot be done is a usage
// error) and reads the project file and the env file (run.Prepare).
func Prepare(r Request) (*Prepared, error) {
	specs, err := dynamic.ParseBindings(r.Dynamic)
	if err != nil {
		return nil, usage.Wrap(err)
	}
	if r.Token != "" && (r.Watch != "" || len(specs) > 0) {
		return nil, usage.Errorf("--watch and --dynamic do not work with a machine token (%s) yet: `hush agent` follows a team with one", r.Token)
	}
	var rw run.Watch
	if r.Watch != "" {
		if rw, err = run.ParseWatch(r.Watch, r.WatchSignal, r.WatchGrace); err != nil {
			return nil, usage.Wrap(err)
		}
		rw.Mask = r.Mask
	}
	o, projectVault, err := run.Prepare(r.Request)
	if err != nil {
		return nil, err
	}
	needsVault, err := o.NeedsVault()
	if err != nil {
		return nil, err
	}
	needsVault = needsVault || len(specs) > 0
	if r.Watch != "" && !needsVault {
		return nil, usage.Errorf("--watch follows secrets from the vault: give --from FOLDER or a hush:// reference")
	}
	if !needsVault && o.EnvFile == nil {
		return nil, usage.Errorf("nothing to inject: give --from FOLDER, --env-file FILE, --dynamic VAR=NAME, a hush:// reference, or a %s with from = [...]", run.ProjectFile)
	}
	p := &Prepared{Options: o, Mode: Mode{Mask: r.Mask, Bindings: specs}, ProjectVault: projectVault, NeedsVault: needsVault}
	if r.Watch != "" {
		p.Mode.Watch = &rw
	}
	return p, nil
}
