package dynamic

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// DefaultTTL is a new source's login lifetime.
const DefaultTTL = time.Hour

// MinTTL is the shortest login lifetime a source may have.
const MinTTL = time.Second

// Available says whether name may take a dynamic source: it is free, or
// holds one already (which a new one updates), but is no other secret.
// It is asked before the admin URL is, so nobody types one for nothing.
func Available(v *vault.Vault, name string) error {
	cur, err := v.Get(name)
	if errors.Is(err, vault.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	clear(cur.Value)
	if !cur.IsDynamic() {
		return fmt.Errorf("secret %s exists (type %s): choose another name for the dynamic source", name, cur.Type)
	}
	return nil
}

// AddOptions describe a new dynamic source.
type AddOptions struct {
	Template *Template
	TTL      time.Duration
	Note     *string // nil: keep the note a source being updated has
	// Check connects now and runs the template for a throw-away login in
	// a transaction that is rolled back, before anything is stored.
	Check bool
	// Describe is the vault's describer of values (vault.Update.Describe).
	Describe func(vault.Type, []byte) (string, time.Time, error)
}

// Added says what [Add] stored.
type Added struct {
	Created bool   // a new source, not an update
	Server  string // the admin URL without its password
	Version int
}

// CheckError is a failed AddOptions.Check: nothing was stored.
type CheckError struct{ Err error }

func (e *CheckError) Error() string { return "check failed, nothing stored: " + e.Err.Error() }
func (e *CheckError) Unwrap() error { return e.Err }

// Pending is a dynamic source ready to be added: its admin URL parsed.
type Pending struct {
	adminURL []byte
	pg       *Postgres
	o        AddOptions
}

// Prepare checks a new source's admin URL and options; nothing is stored
// or recorded yet.
func Prepare(adminURL []byte, o AddOptions) (*Pending, error) {
	if o.TTL < MinTTL {
		return nil, fmt.Errorf("a login must be valid at least %s", vault.FormatInterval(MinTTL))
	}
	pg, err := NewPostgres(string(adminURL))
	if err != nil {
		return nil, err
	}
	return &Pending{adminURL: adminURL, pg: pg, o: o}, nil
}

// Add stores the source as name in v: the PostgreSQL admin URL as its
// sealed value, the template and the TTL as its metadata; with
// AddOptions.Check, only once the check passed. The caller opens the
// audit entry (vault.Intend) and records the result.
func (s *Pending) Add(v *vault.Vault, name string) (*Added, error) {
	o := s.o
	if o.Check {
		ctx, cancel := context.WithTimeout(context.Background(), DropTimeout)
		err := s.pg.Check(ctx, o.Template)
		cancel()
		if err != nil {
			return nil, &CheckError{err}
		}
	}
	typ := vault.TypeDynamicPostgres
	u := vault.Update{Type: &typ, Dynamic: &vault.DynamicSource{Template: o.Template.String(), TTL: o.TTL}, Describe: o.Describe, Note: o.Note}
	res, err := v.Set(name, s.adminURL, u)
	if err != nil {
		return nil, err
	}
	return &Added{Created: res.Created, Server: s.pg.Redacted(), Version: res.Version}, nil
}

// AddAudited adds the source name with its audit entry, for a front end
// that has checked o and unlocked v: the name must be free for a source
// first, and only then is the admin URL read (nobody types one for
// nothing), checked (Prepare, and AddOptions.Check) and stored. The entry
// goes in with the change (vault.Intend) and record writes its result: a
// failed check is logged as what the check found. It returns what to tell
// the person.
func AddAudited(v *vault.Vault, name string, o AddOptions, adminURL func() ([]byte, error),
	record func(v *vault.Vault, action string, names []string, result error) error) (string, error) {
	if err := Available(v, name); err != nil {
		return "", err
	}
	value, err := adminURL()
	if err != nil {
		return "", err
	}
	defer crypto.Wipe(value)
	src, err := Prepare(value, o)
	if err != nil {
		return "", err
	}
	v.Intend("dynamic-add", []string{name})
	res, err := src.Add(v, name)
	result := err
	var ce *CheckError
	if errors.As(err, &ce) {
		result = ce.Err // the log says what the check found
	}
	if rerr := record(v, "dynamic-add", []string{name}, result); err == nil {
		err = rerr
	}
	if err != nil {
		return "", err
	}
	return res.words(name, o), nil
}

// words say what was stored, and that the check passed when there was one.
func (a *Added) words(name string, o AddOptions) string {
	verb := "added"
	if !a.Created {
		verb = "updated"
	}
	checked := ""
	if o.Check {
		checked = "; checked: the admin role can create logins and the template runs"
	}
	return fmt.Sprintf("%s dynamic source %s: %s, logins valid for %s%s", verb, name, a.Server, vault.FormatInterval(o.TTL), checked)
}
