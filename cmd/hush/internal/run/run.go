// Package run is the machinery behind `hush run` (and `hush exec`): it
// builds a child's environment from the vault, then either replaces hush
// with the child (execve) or starts and supervises it (signals, masking,
// a pseudo-terminal).
//
// # Building the environment
//
// [Build] starts from the parent's environment without hush's own secrets
// (HUSH_PASSPHRASE, HUSH_NEW_PASSPHRASE), adds the plain lines of an
// --env-file, resolves every hush://NAME reference, and injects the secrets
// of each --from folder (later folders win). Injected secrets override
// inherited variables unless PreserveEnv. HUSH_RUN=1 marks the child.
// Every problem (an unknown reference, an empty folder, a name that is not a
// variable name, a missing command) is an error before anything starts.
//
// # Running
//
// [Exec] replaces the process: the child keeps hush's pid, terminal, signals
// and exit code, and hush costs nothing after it. [Supervise] is for
// features that need hush to stay (masking): it forwards a fixed set of
// signals, passes stdin through, gives the child a parent-death signal,
// and returns the child's exit code (128+N for signal N).
// [SuperviseAround] adds work before and after the child that no signal
// cuts short (the logins of --dynamic, see package dynamic): the one place
// where hush decides what a signal means when it is not the child's.
package run

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/envfile"
	"github.com/hush-secrets/hush/vault/unlock"
)

// Source is what Build needs of a vault. *vault.Vault satisfies it.
type Source interface {
	// Children returns the live secrets directly in folder, with values.
	Children(folder string) ([]*vault.Secret, error)
	// GetVersion returns version n (0: current) of a live secret.
	GetVersion(name string, n int) (*vault.Secret, error)
}

// Options say what to inject and what to run.
type Options struct {
	From        []string // folders; later ones win; "FOLDER?" may be empty or absent
	EnvFile     []byte   // contents of --env-file (dotenv), or nil
	EnvFileName string   // for messages
	PreserveEnv bool     // inherited variables win over injected secrets
	Parent      []string // the parent's environment, KEY=VALUE
	Command     []string // argv; Command[0] is looked up in the child's PATH
	// Hidden says why a --from folder shows nothing here when that is not
	// for lack of secrets (a team's folder scope this device does not
	// hold); nil, or a nil error: it is only empty.
	Hidden func(folder string) error
}

// Plan is a child ready to start.
type Plan struct {
	Path    string   // the executable
	Argv    []string // its arguments, Argv[0] as given
	Env     []string // its environment, sorted
	Secrets [][]byte // every value injected from the vault (for masking)
	Names   []string // the secrets injected, for the audit log
	// Versions are the injected secrets' version numbers, in Names'
	// order: `run --watch` restarts when they change, not the values.
	Versions []int
	// Skipped are the dynamic sources found in --from folders and left
	// out: their values are admin credentials (use --dynamic).
	Skipped []string
}

// Setenv sets a variable in the child's environment after Build, over
// anything Build put there (a short-lived login from --dynamic). The
// value is added to the values masked by --mask.
func (p *Plan) Setenv(k, v string) error {
	if err := CheckVarName(k); err != nil {
		return err
	}
	if err := checkValue([]byte(v)); err != nil {
		return fmt.Errorf("variable %s: %w", k, err)
	}
	env := newEnviron(p.Env)
	env.set(k, v)
	p.Env = env.list()
	p.Secrets = append(p.Secrets, []byte(v))
	return nil
}

// CheckVarName says whether k can be given to a program: a portable
// variable name that is not one of hush's own.
func CheckVarName(k string) error {
	if !validVarName(k) {
		return fmt.Errorf("%q is not a valid environment variable name", k)
	}
	if unlock.IsPassphraseVar(k) {
		return fmt.Errorf("%s is hush's own and is never passed to a program", k)
	}
	return nil
}

// OptionalFolder reads a --from folder: "app/dev-local?" is optional (a
// folder with no secrets is skipped, not an error), and is returned
// without its "?".
func OptionalFolder(f string) (folder string, optional bool) {
	if strings.HasSuffix(f, "?") {
		return strings.TrimSuffix(f, "?"), true
	}
	return f, false
}

// NeedsVault reports whether o refers to the vault at all, so the caller
// can skip unlocking when only plain --env-file lines are given.
func (o *Options) NeedsVault() (bool, error) {
	if len(o.From) > 0 {
		return true, nil
	}
	env, _, err := o.inherited()
	if err != nil {
		return false, err
	}
	for _, v := range env.vals {
		if IsReference(v) {
			return true, nil
		}
	}
	return false, nil
}

// inherited is the parent environment, without hush's own variables, with
// --env-file's lines on top. It also returns the env-file's keys in order.
func (o *Options) inherited() (*environ, []string, error) {
	env := newEnviron(unlock.Scrub(o.Parent))
	if o.EnvFile == nil {
		return env, nil, nil
	}
	entries, err := envfile.Parse(envfile.Dotenv, o.EnvFile)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", o.EnvFileName, err)
	}
	var keys []string
	for _, e := range entries {
		if !validVarName(e.Key) {
			return nil, nil, fmt.Errorf("%s: %q is not a valid environment variable name", o.EnvFileName, e.Key)
		}
		if unlock.IsPassphraseVar(e.Key) {
			return nil, nil, fmt.Errorf("%s: %s is hush's own and is never passed to a program", o.EnvFileName, e.Key)
		}
		if err := checkValue(e.Value); err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", o.EnvFileName, e.Key, err)
		}
		env.set(e.Key, string(e.Value))
		keys = append(keys, e.Key)
	}
	return env, keys, nil
}

// Build resolves everything and returns the plan, or the first problem.
// src may be nil when NeedsVault is false.
func Build(src Source, o Options) (*Plan, error) {
	if len(o.Command) == 0 {
		return nil, errors.New("no command to run: put it after --, e.g. `hush run --from app/dev -- npm start`")
	}
	env, _, err := o.inherited()
	if err != nil {
		return nil, err
	}
	var secrets [][]byte
	var names, skipped []string
	var versions []int

	// References: hush://NAME[?version=N] in any inherited variable.
	for _, k := range env.sortedKeys() {
		v := env.vals[k]
		if !IsReference(v) {
			continue
		}
		ref, err := ParseReference(v)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", k, err)
		}
		if src == nil {
			return nil, fmt.Errorf("variable %s: a hush:// reference needs the vault", k)
		}
		s, err := src.GetVersion(ref.Name, ref.Version)
		if err != nil {
			return nil, fmt.Errorf("variable %s refers to %s: %w", k, v, err)
		}
		if s.IsDynamic() {
			clear(s.Value)
			return nil, fmt.Errorf("variable %s refers to %s, a dynamic source: its admin URL is never given to a program; use --dynamic %s=%s for a login of its own", k, ref.Name, k, ref.Name)
		}
		if c, ok := src.(interface{ RevokedValue(string, []byte) error }); ok && ref.Version != 0 {
			if err := c.RevokedValue(ref.Name, s.Value); err != nil {
				return nil, fmt.Errorf("variable %s refers to %s: %w", k, v, err)
			}
		}
		if err := checkValue(s.Value); err != nil {
			return nil, fmt.Errorf("variable %s refers to %s: %w", k, ref.Name, err)
		}
		env.set(k, string(s.Value))
		secrets = append(secrets, s.Value)
		names = append(names, ref.Name)
		versions = append(versions, s.Version)
	}

	// Folders, in order: later ones win.
	injected := map[string]string{}
	var order []string
	if len(o.From) > 0 && src == nil {
		return nil, errors.New("--from needs the vault")
	}
	for _, f := range o.From {
		f, optional := OptionalFolder(f)
		folder, err := vault.CleanFolder(f)
		if err != nil {
			return nil, err
		}
		list, err := src.Children(folder)
		if err != nil {
			return nil, err
		}
		if len(list) == 0 && optional {
			continue // "app/dev-local?": used when it exists
		}
		if len(list) == 0 && o.Hidden != nil {
			if err := o.Hidden(folder); err != nil {
				return nil, err
			}
		}
		if len(list) == 0 {
			return nil, fmt.Errorf("no secrets directly in folder %q: `hush ls %s` shows what is there", f, folder)
		}
		// A dynamic source's value is an admin credential: never injected.
		var kept []*vault.Secret
		for _, s := range list {
			if s.IsDynamic() {
				clear(s.Value)
				skipped = append(skipped, s.Name)
				continue
			}
			kept = append(kept, s)
		}
		if len(kept) == 0 {
			return nil, fmt.Errorf("folder %q holds only dynamic sources, whose admin URLs are never given to a program: use --dynamic VAR=NAME", f)
		}
		for _, s := range kept {
			key := vault.Base(s.Name)
			if !validVarName(key) {
				return nil, fmt.Errorf("secret %s cannot be injected: %q is not a valid environment variable name (rename it with `hush mv`)", s.Name, key)
			}
			if unlock.IsPassphraseVar(key) {
				return nil, fmt.Errorf("secret %s cannot be injected: %s is hush's own and is never passed to a program", s.Name, key)
			}
			if err := checkValue(s.Value); err != nil {
				return nil, fmt.Errorf("secret %s: %w", s.Name, err)
			}
			if err := s.RevokedErr(); err != nil {
				return nil, err
			}
			if _, seen := injected[key]; !seen {
				order = append(order, key)
			}
			injected[key] = string(s.Value)
			secrets = append(secrets, s.Value)
			names = append(names, s.Name)
			versions = append(versions, s.Version)
		}
	}
	for _, k := range order {
		if o.PreserveEnv {
			if _, ok := env.vals[k]; ok {
				continue
			}
		}
		env.set(k, injected[k])
	}
	env.set("HUSH_RUN", "1")

	path, err := lookPath(o.Command[0], searchPath(env.vals))
	if err != nil {
		return nil, err
	}
	return &Plan{Path: path, Argv: slices.Clone(o.Command), Env: env.list(), Secrets: secrets, Names: names, Versions: versions, Skipped: skipped}, nil
}

func checkValue(v []byte) error {
	if slices.Contains(v, 0) {
		return errors.New("the value contains a NUL byte, which an environment variable cannot hold")
	}
	return nil
}

// validVarName: [A-Za-z_][A-Za-z0-9_]*, the portable form (POSIX).
func validVarName(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}
