// Package machine is what the command line does with a machine token
// (sync/client's Token): find it (HUSH_TOKEN or --token-file, refused
// when others can read the file), and read the team with it into a vault
// that lives only in memory, with the ordinary sync and every one of its
// checks. Nothing is written to disk: no vault, no cache, no lock file.
// session.go is one command's use of a token: which commands take one,
// the names checked against the scopes the log gives it, the read, and
// a writer machine's push; and the machines `hush due` lists. The agent
// (agent.go) keeps such a vault and serves it over HTTP.
package machine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// TokenVar is the environment variable a machine token comes in.
const TokenVar = unlock.TokenVar

// ErrInsecureFile: the token file can be read by others.
var ErrInsecureFile = errors.New("the token file can be read by other users")

// Source says where a token comes from: the file, or else the variable.
// Empty when neither is set.
func Source(getenv func(string) string, file string) string {
	switch {
	case file != "":
		return "--token-file " + file
	case getenv(TokenVar) != "":
		return TokenVar
	}
	return ""
}

// Load reads the token from file (when not empty) or the variable, and
// parses it. A file that group or others may read is refused, as ssh
// refuses such a private key: the token is a credential.
func Load(getenv func(string) string, file string) (*client.Token, error) {
	s := getenv(TokenVar)
	if file != "" {
		b, err := readTokenFile(file)
		if err != nil {
			return nil, err
		}
		s = string(b)
	}
	if strings.TrimSpace(s) == "" {
		if file != "" {
			return nil, fmt.Errorf("the token file %s is empty", file)
		}
		return nil, fmt.Errorf("%s is empty", TokenVar)
	}
	tok, err := client.ParseToken(s)
	if err != nil {
		return nil, err
	}
	return tok, nil
}

// ReadSecretFile reads a credential from a file only its owner may read,
// without surrounding space (the agent's bearer token).
func ReadSecretFile(file string) ([]byte, error) {
	b, err := readTokenFile(file)
	if err != nil {
		return nil, err
	}
	return []byte(strings.TrimSpace(string(b))), nil
}

func readTokenFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("failed to read the token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("failed to read the token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("the token file %s is not a regular file", file)
	}
	// As ssh refuses a private key others may read. (In Kubernetes, pass
	// the token in HUSH_TOKEN from the Secret: a mounted Secret is group
	// readable when the pod sets fsGroup.)
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s is mode %04o; run `chmod 600 %s`", ErrInsecureFile, file, fi.Mode().Perm(), file)
	}
	return io.ReadAll(io.LimitReader(f, client.MaxToken+2))
}

// Read syncs the token's team into a new memory vault and returns it,
// unlocked; the caller closes it. The sync is the ordinary one: the log
// verified from the token's pins, the key checked, every record checked.
func Read(ctx context.Context, tok *client.Token) (*vault.Vault, *client.Team, *client.Report, error) {
	v, err := vault.CreateMemory()
	if err != nil {
		return nil, nil, nil, err
	}
	t, err := client.OpenToken(v, tok)
	if err != nil {
		v.Close()
		return nil, nil, nil, err
	}
	rep, err := t.Sync(ctx)
	if err != nil {
		v.Close()
		return nil, nil, rep, Explain(err, tok)
	}
	return v, t, rep, nil
}

// Push sends what a command changed in a token's memory vault (a writer
// machine's `hush set`, `hush rm`) and waits until the team shows it: the
// memory vault is gone when the command ends, so a change the server has
// not shown back is an error, not a change left for later. unread names
// the secrets the command's read did not take: a change of one of them
// meets the team's newer version every time, so it is no race to retry.
func Push(ctx context.Context, t *client.Team, tok *client.Token, unread ...string) error {
	rep, err := t.Sync(ctx)
	if err != nil {
		return fmt.Errorf("the change was not saved: %w", Explain(err, tok))
	}
	switch {
	case rep.ReadOnly > 0:
		return fmt.Errorf("the change was not saved: machine %s is a reader", tok.Name)
	case rep.OutOfScope > 0:
		return fmt.Errorf("the change was not saved: machine %s may not write there (it reads it only); see `hush team scopes`", tok.Name)
	case rep.MovedAway > 0:
		return fmt.Errorf("the change was not saved: the secret changed on the team meanwhile into a scope machine %s may not read", tok.Name)
	case len(rep.Conflicts) > 0:
		for _, name := range rep.Conflicts {
			if slices.Contains(unread, name) {
				return fmt.Errorf("the change was not saved: %s was last moved by a change this machine cannot accept (the warning above), so machine %s cannot replace it, and running the command again will not help; a member's device that holds %s settles it (`hush set %s` there), or an admin (`hush team verify`)",
					name, tok.Name, vault.Folder(name), name)
			}
		}
		return fmt.Errorf("the change was not saved: %s changed on the team meanwhile; run the command again", strings.Join(rep.Conflicts, ", "))
	case rep.Unconfirmed > 0 || rep.Stale > 0:
		return errors.New("the change was not saved: the team server did not show it back; run the command again")
	}
	return nil
}

// ErrGone: the team no longer has this machine (removed, expired, or the
// server does not know it): its token will not work again.
var ErrGone = errors.New("this machine is no longer in the team")

type goneError struct{ msg string }

func (e *goneError) Error() string { return e.msg }
func (e *goneError) Unwrap() error { return ErrGone }

// Explain turns a sync error into what the token's holder can act on.
func Explain(err error, tok *client.Token) error {
	var se *client.ServerError
	var me *client.MachineExpiredError
	switch {
	case client.UnknownDevice(err), errors.Is(err, client.ErrRemoved):
		return &goneError{fmt.Sprintf("the team server at %s does not accept machine %s: it was removed from the team, or the token is for another server; ask an admin for a new token", tok.Server, tok.Name)}
	case errors.As(err, &me):
		return &goneError{me.Error()}
	case errors.As(err, &se) && se.Status == 403 && strings.Contains(se.Msg, "expired"):
		return &goneError{fmt.Sprintf("the team server says machine %s's access has expired (%s)", tok.Name, se.Msg)}
	case errors.Is(err, client.ErrPending):
		return fmt.Errorf("machine %s holds no team key on %s: the token was never approved; ask an admin for a new token", tok.Name, tok.Server)
	}
	return err
}

// SkippedNote is what to say when a sync skipped records: sealed under a
// key epoch this machine does not hold (a change of the team it was not
// shown, such as a removal, or an admin's re-sealing still under way), or
// written by an expired machine.
func SkippedNote(rep *client.Report) string {
	if rep == nil || rep.Skipped+rep.ByExpired+len(rep.Unreadable) == 0 {
		return ""
	}
	if rep.ByExpired > 0 && rep.Skipped+len(rep.Unreadable) == 0 {
		return fmt.Sprintf("warning: %d secret(s) were last written by machine %s, whose access has ended: this machine does not read them until an admin runs `hush team remove %s` or a writer changes them",
			rep.ByExpired, strings.Join(rep.ExpiredMachines, ", "), rep.ExpiredMachines[0])
	}
	if rep.Skipped == 0 {
		u := rep.Unreadable[0]
		return fmt.Sprintf("warning: %d record(s) signed by a team member could not be read (the first: version %d of record %s, by %s's device %s: %s): not served (an agent keeps what it read before); tell an admin", len(rep.Unreadable), u.Version, u.ID, u.Member, u.Device, u.Reason)
	}
	return fmt.Sprintf("warning: %d record(s) could not be read by this machine (sealed under a key it does not hold, or written by an expired machine, or unreadable as their author wrote them): what it reads may be out of date; if this lasts, compare `hush team verify` with an admin", rep.Skipped+rep.ByExpired+len(rep.Unreadable))
}
