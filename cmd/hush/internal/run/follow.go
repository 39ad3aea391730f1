package run

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// Follower decides, each time the vault changed, what that means for a
// child under `hush run --watch`: restart it with a new plan, stop it, or
// keep it running (and say why, once, when the new plan cannot be built).
// It compares the injected secrets' versions, never their values.
type Follower struct {
	Options Options
	Current *Plan
	// Explain, if set, turns a failure to build into what to tell the
	// person (it may look further, e.g. whether the vault key was
	// replaced); by default a locked vault is "the vault is locked" and
	// anything else its error.
	Explain func(error) string
	said    string
}

// Change is what a change of the vault means for the child. At most one
// of Restart and Stop is set; Note, if set, is to be said (once per
// reason: a reason said before is not said again until things recover).
type Change struct {
	Restart *Plan
	Stop    string
	Note    string
}

// Rebuild builds the plan again from src and compares it with the
// current one, which it replaces when the child is to restart.
func (f *Follower) Rebuild(src Source) Change {
	next, err := Build(src, f.Options)
	var revoked *vault.RevokedError
	switch {
	case errors.As(err, &revoked):
		return Change{Stop: err.Error()}
	case err != nil:
		msg := ""
		if f.Explain != nil {
			msg = f.Explain(err)
		}
		if msg == "" {
			msg = err.Error()
			if errors.Is(err, vault.ErrLocked) {
				msg = "the vault is locked"
			}
		}
		if msg == f.said {
			return Change{}
		}
		f.said = msg
		return Change{Note: fmt.Sprintf("cannot restart %s with new secrets: %s; it keeps running with the ones it has", f.Current.Argv[0], msg)}
	}
	f.said = ""
	if PlanPrint(next) == PlanPrint(f.Current) {
		return Change{}
	}
	f.Current = next
	return Change{Restart: next}
}

// PlanPrint is what run --watch compares: the injected secrets and their
// versions (never their values).
func PlanPrint(p *Plan) string {
	var b strings.Builder
	for i, n := range p.Names {
		b.WriteString(n)
		b.WriteByte('@')
		if i < len(p.Versions) {
			b.WriteString(strconv.Itoa(p.Versions[i]))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
