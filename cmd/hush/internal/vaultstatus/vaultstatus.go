// Package vaultstatus reads what `hush status` shows of a vault: where it
// is, how many secrets it holds, how its passphrase key is derived,
// whether and where its key is remembered, and the team part (package
// teamsync). It only reads, and never asks for a passphrase: a team's
// state, which is sealed, is read only when the vault opens without
// asking.
package vaultstatus

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/cmd/hush/internal/teamsync"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// Status is a vault's status. Its JSON is `hush status --json`'s, with the
// fields in the order the command has always printed them.
type Status struct {
	ID          string           `json:"id"`
	KDF         KDF              `json:"kdf"`
	Locked      bool             `json:"locked"` // no key remembered: commands ask
	Path        string           `json:"path"`
	Remembered  []Remembered     `json:"remembered"`
	Secrets     int              `json:"secrets"`
	Sync        *teamsync.Status `json:"sync,omitempty"` // nil: a vault of one's own
	Unavailable []Unavailable    `json:"unavailable"`
	Vault       string           `json:"vault"`

	params crypto.KDFParams
}

// KDF is how the passphrase key is derived.
type KDF struct {
	Algorithm string `json:"algorithm"`
	Lanes     uint8  `json:"lanes"`
	MemoryKiB uint32 `json:"memory_kib"`
	Passes    uint32 `json:"passes"`
}

// Remembered is a store that holds the vault key.
type Remembered struct {
	Store   string    `json:"store"`
	Expires time.Time `json:"-"` // zero: until `hush lock`
	// ExpiresUTC is Expires in RFC 3339, UTC ("" for none).
	ExpiresUTC string `json:"expires,omitempty"`
}

// Unavailable is a store that could not be asked, and why.
type Unavailable struct {
	Store  string `json:"store"`
	Reason string `json:"reason"`
}

// Read reads the status of v (open, locked or not), named name at path,
// with the unlock chain c.
func Read(v *vault.Vault, name, path string, c *unlock.Chain) (*Status, error) {
	count, err := v.Count()
	if err != nil {
		return nil, err
	}
	k := v.KDF()
	s := &Status{Vault: name, Path: path, ID: hex.EncodeToString(v.ID()), Secrets: count, params: k,
		KDF:        KDF{Algorithm: "argon2id", MemoryKiB: k.MemoryKiB, Passes: k.Passes, Lanes: k.Lanes},
		Remembered: []Remembered{}, Unavailable: []Unavailable{}}
	held, unreachable := c.Status(v)
	for _, h := range held {
		s.Remembered = append(s.Remembered, Remembered{Store: h.Store, Expires: h.Expires.Truncate(time.Second), ExpiresUTC: jsonout.Time(h.Expires)})
	}
	for _, u := range unreachable {
		s.Unavailable = append(s.Unavailable, Unavailable{u.Store, u.Err.Error()})
	}
	s.Locked = len(s.Remembered) == 0
	if v.Locked() && client.InTeam(v) {
		// The team's state is sealed: a passphrase given without a
		// prompt opens it; status never asks for one.
		_, _ = c.Given(v)
	}
	if s.Sync, err = teamsync.ReadStatus(v); err != nil {
		return nil, err
	}
	return s, nil
}

// Lines are the status for a person, the team's included; the team's
// freshness warning is Sync.Warning.
func (s *Status) Lines(now time.Time) []teamsync.Line {
	out := []teamsync.Line{{Label: "vault", Text: fmt.Sprintf("%s (%s)", s.Vault, s.Path)}, {Label: "secrets", Text: strconv.Itoa(s.Secrets)}, {Label: "key", Text: s.params.String()}}
	if s.Locked {
		out = append(out, teamsync.Line{Label: "state", Text: "locked: commands ask for the passphrase (`hush unlock` remembers it)"})
	}
	for _, r := range s.Remembered {
		until := "until `hush lock`"
		if !r.Expires.IsZero() {
			until = fmt.Sprintf("until %s (%s left)", human.When(r.Expires, now), human.Left(r.Expires.Sub(now)))
		}
		out = append(out, teamsync.Line{Label: "state", Text: fmt.Sprintf("unlocked %s, in the %s", until, r.Store)})
	}
	for _, u := range s.Unavailable {
		out = append(out, teamsync.Line{Label: "note", Text: u.Reason})
	}
	return append(out, s.Sync.Lines(now)...)
}
