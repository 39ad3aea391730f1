package machine

import (
	"context"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// Commands work with a machine token instead of a vault; the writing ones
// only for a writer machine, and push before they return.
var Commands = map[string]bool{"get": true, "ls": true, "export": true, "run": true, "set": true, "rm": true}

// OnlyError is the refusal of a command that does not work with a token
// given as src (see [Source]).
func OnlyError(src string) error {
	return fmt.Errorf("with a machine token (%s), only get, ls, export, run, set and rm work: unset it to use this device's vault", src)
}

// Name is a name (or a folder) a command given a token will read.
type Name struct {
	Name   string
	Folder bool
}

// Names are what command reads, to check them against the scopes the
// verified log gives the machine once the team is read: get, set and rm
// name secrets; ls and export a folder; run its --from folders (from).
func Names(command string, args, from []string) []Name {
	var out []Name
	switch command {
	case "get", "set":
		if len(args) > 0 {
			out = append(out, Name{args[0], false})
		}
	case "rm":
		for _, n := range args {
			out = append(out, Name{n, false})
		}
	case "ls", "export":
		if len(args) > 0 {
			out = append(out, Name{args[0], true})
		} else {
			out = append(out, Name{"", true})
		}
	case "run":
		for _, n := range from {
			out = append(out, Name{n, true})
		}
	}
	return out
}

// Session is a token's team read into a memory vault for one command
// ([Open]); the caller closes Vault.
type Session struct {
	Vault *vault.Vault
	Team  *client.Team
	Token *client.Token
	Note  string // what to tell the person about the read (SkippedNote)
	// unread are the names of secrets the read did not take (their last
	// version could not be read or accepted): the machine cannot replace
	// them either (see Push).
	unread []string
}

// Open loads the token (from file, or the variable), reads the team with
// it ([Read]), and refuses a name outside every scope the verified log
// gives the machine. The token's own folders (tag 13, as they were when
// it was made) are only a fast path: a name inside them is read at once,
// one outside them is checked against the log once it is read, so a
// scope granted to the machine later works without a new token, and one
// ungranted is refused though the token names it.
func Open(ctx context.Context, getenv func(string) string, file string, names []Name) (*Session, error) {
	tok, err := Load(getenv, file)
	if err != nil {
		return nil, err
	}
	v, t, rep, err := Read(ctx, tok)
	if err != nil {
		return nil, err
	}
	if err := heldNames(t, names); err != nil {
		v.Close()
		return nil, err
	}
	var unread []string
	for _, u := range rep.Unreadable {
		if u.Name != "" {
			unread = append(unread, u.Name)
		}
	}
	return &Session{Vault: v, Team: t, Token: tok, Note: SkippedNote(rep), unread: unread}, nil
}

// heldNames refuses the first of names that the log t verified does not
// give its machine: "not in this token's scopes: F only", F what it holds.
func heldNames(t *client.Team, names []Name) error {
	if len(names) == 0 {
		return nil
	}
	held, err := t.State().Held()
	if err != nil {
		return err
	}
	for _, n := range names {
		if !held.Covers(n.Name, n.Folder) {
			return held.OutOfScope()
		}
	}
	return nil
}

// Writable refuses a change by a machine that cannot write; the caller
// closes the vault then.
func (s *Session) Writable() error {
	if !s.Team.State().WritesAny() { // a writing role, or a writer grant on a scope
		return fmt.Errorf("machine %s is a %s: it cannot change secrets", s.Token.Name, s.Team.State().Role)
	}
	return nil
}

// Push is a writer machine's change, pushed now, or the command fails
// (the memory vault holds it only until then): see the function Push.
func (s *Session) Push(ctx context.Context) error { return Push(ctx, s.Team, s.Token, s.unread...) }

// Warning is how long before its end `hush due` lists a machine.
const Warning = 14 * 24 * time.Hour

// Due lists the team's machines whose access ends within [Warning] (or
// has ended), from the membership log this device verified last: no
// server is asked.
func Due(v *vault.Vault, now time.Time) []vault.DueItem {
	st, err := client.Load(v)
	if err != nil {
		return nil
	}
	var out []vault.DueItem
	for _, d := range st.Machines(now, Warning) {
		out = append(out, vault.DueItem{Name: "machine " + d.Name, What: "access ends", Reason: "renew: `hush team invite --machine`", When: d.Expires, Overdue: !now.Before(d.Expires)})
	}
	return out
}
