package vault

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Type says what kind of secret a value is. It changes how hush shows and
// checks it, never how it is stored.
type Type string

const (
	TypePassword      Type = "password"
	TypeAPIKey        Type = "api-key"
	TypeToken         Type = "token"
	TypeCertificate   Type = "certificate"
	TypeSSHKey        Type = "ssh-key"
	TypeEncryptionKey Type = "encryption-key"
	TypeNote          Type = "note"
	TypeOther         Type = "other"

	// TypeDynamicPostgres is a dynamic source: its value is a PostgreSQL
	// admin URL from which `hush run --dynamic` makes short-lived logins
	// (see [DynamicSource]). It is made by `hush dynamic add`, never by
	// --type, and its value is never injected into a program.
	TypeDynamicPostgres Type = "dynamic-postgres"
)

// Types lists every type, in the order help texts show them.
var Types = []Type{TypePassword, TypeAPIKey, TypeToken, TypeCertificate, TypeSSHKey, TypeEncryptionKey, TypeNote, TypeOther}

// ParseType accepts the name of a type a user may choose (one of [Types]).
func ParseType(s string) (Type, error) {
	if s == string(TypeDynamicPostgres) {
		return "", fmt.Errorf("type %s is made by `hush dynamic add`, not by --type", s)
	}
	for _, t := range Types {
		if string(t) == s {
			return t, nil
		}
	}
	names := make([]string, len(Types))
	for i, t := range Types {
		names[i] = string(t)
	}
	return "", fmt.Errorf("unknown type %q: use one of %s", s, strings.Join(names, ", "))
}

// Limits on what a secret may hold. A value of 8 MiB fits any certificate
// chain or key file; the limits keep a stray `hush set x - < big.iso` from
// filling the vault.
const (
	MaxValueSize = 8 << 20
	MaxNoteSize  = 64 << 10
	MaxTags      = 64
	MaxTagLen    = 64
)

// Meta is everything about a secret but its name and value. It is sealed as
// one JSON document per version.
type Meta struct {
	Type        Type          `json:"type"`
	Note        string        `json:"note,omitempty"`
	Tags        []string      `json:"tags,omitempty"`
	RotateEvery time.Duration `json:"rotate_every,omitempty"` // zero: no schedule
	Expires     time.Time     `json:"expires,omitzero"`       // zero: never
	// Rotator is a shell command that `hush rotate` runs with the old value
	// on stdin; its output becomes the new value.
	Rotator string `json:"rotator,omitempty"`
	// Revoked is set on the version that retired a leaked secret.
	Revoked *Revocation `json:"revoked,omitempty"`
	// Exposed is set when someone who could read the secret left the
	// team: it should get a new value, which clears it.
	Exposed *Exposure `json:"exposed,omitempty"`
	// NotAfter is a certificate's end, read from the value when it is set.
	NotAfter time.Time `json:"not_after,omitzero"`
	// Summary describes the value without showing it (a certificate's
	// subject, an SSH key's fingerprint), read when it is set.
	Summary string `json:"summary,omitempty"`
	// Dynamic is set exactly when Type is [TypeDynamicPostgres].
	Dynamic *DynamicSource `json:"dynamic,omitempty"`
	// ValueSince is when the value was last set, on a version that
	// changed something else (an edit, a revocation, a rename): the
	// rotation clock runs from it, not from that version. Zero: the
	// version set the value.
	ValueSince time.Time `json:"value_since,omitzero"`
}

// keepClock marks m, the metadata of a new version of the secret whose
// current version has metadata cur and row r, as keeping the value: the
// rotation clock keeps running from when the value was set.
func keepClock(m *Meta, cur Meta, r *row) {
	m.ValueSince = cur.ValueSince
	if m.ValueSince.IsZero() {
		m.ValueSince = time.Unix(0, r.updated).UTC()
	}
}

// RotationStart is when the rotation clock of a secret last changed at
// updated started: when its value was set.
func (m Meta) RotationStart(updated time.Time) time.Time {
	if !m.ValueSince.IsZero() {
		return m.ValueSince
	}
	return updated
}

// DynamicSource is what a dynamic source keeps besides its admin URL (the
// secret's value): the SQL that grants a new login its rights, and how long
// the login is valid. The package cmd/hush/internal/dynamic reads and checks the
// template; the vault only stores it.
type DynamicSource struct {
	Template string        `json:"template"`
	TTL      time.Duration `json:"ttl"`
}

// IsDynamic reports whether the secret is a dynamic source, whose value
// (an admin credential) must never be handed to a program.
func (m *Meta) IsDynamic() bool { return m.Type == TypeDynamicPostgres || m.Dynamic != nil }

// MaxTemplateSize bounds a dynamic source's role template.
const MaxTemplateSize = 64 << 10

// Exposure says when and why a secret should be rotated.
type Exposure struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Revocation says when and why a secret was retired.
type Revocation struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// RevokedError is returned when the current value of a revoked secret is
// asked for.
type RevokedError struct {
	Name string
	Revocation
	// OldValue: not the secret's current state, but a value it had (one
	// a set or rollback would bring back) was revoked; the secret may
	// have a newer value.
	OldValue bool
}

func (e *RevokedError) Error() string {
	when := e.At.Local().Format("2006-01-02 15:04")
	if e.Reason != "" {
		when += " (" + e.Reason + ")"
	}
	if e.OldValue {
		return fmt.Sprintf("that value of secret %s was revoked on %s: hush will not use a leaked value again; choose another version (`hush history %s`) or a new value", e.Name, when, e.Name)
	}
	return fmt.Sprintf("secret %s was revoked on %s: set a new value (hush set or hush rotate), or read an old one with --version N", e.Name, when)
}

// RevokedErr returns the revocation error for s, or nil when s is usable.
func (s *Secret) RevokedErr() error {
	if s.Revoked == nil {
		return nil
	}
	return &RevokedError{Name: s.Name, Revocation: *s.Revoked}
}

func (m *Meta) validate() error {
	if m.Type != TypeDynamicPostgres {
		if _, err := ParseType(string(m.Type)); err != nil {
			return err
		}
	}
	switch {
	case m.Type == TypeDynamicPostgres && m.Dynamic == nil:
		return fmt.Errorf("a %s secret needs its template and TTL: create it with `hush dynamic add`", m.Type)
	case m.Type != TypeDynamicPostgres && m.Dynamic != nil:
		return fmt.Errorf("a dynamic source's type cannot be changed (its value is an admin credential that must never reach a program): remove it with `hush rm` instead")
	case m.Dynamic != nil:
		if m.Dynamic.Template == "" || len(m.Dynamic.Template) > MaxTemplateSize ||
			!utf8.ValidString(m.Dynamic.Template) || strings.ContainsRune(m.Dynamic.Template, 0) {
			return fmt.Errorf("role template must be 1 to %d bytes of UTF-8 text, without NUL", MaxTemplateSize)
		}
		if m.Dynamic.TTL < time.Second {
			return fmt.Errorf("a dynamic source's TTL must be at least 1s")
		}
	}
	if len(m.Note) > MaxNoteSize {
		return fmt.Errorf("note is longer than %d bytes", MaxNoteSize)
	}
	if !utf8.ValidString(m.Note) {
		return fmt.Errorf("note is not valid UTF-8")
	}
	if len(m.Tags) > MaxTags {
		return fmt.Errorf("more than %d tags", MaxTags)
	}
	for _, t := range m.Tags {
		if t == "" || len(t) > MaxTagLen {
			return fmt.Errorf("tag %q: tags are 1 to %d bytes", t, MaxTagLen)
		}
		for _, r := range t {
			if unicode.IsSpace(r) || unicode.IsControl(r) || r == ',' || r == utf8.RuneError {
				return fmt.Errorf("tag %q: no spaces, commas or control characters", t)
			}
		}
	}
	if m.RotateEvery < 0 {
		return fmt.Errorf("rotation interval must be positive")
	}
	if len(m.Rotator) > 4096 || strings.ContainsRune(m.Rotator, 0) {
		return fmt.Errorf("rotator command must be at most 4096 bytes, without NUL")
	}
	return nil
}

// Secret is one version of a secret, with its value.
type Secret struct {
	ID      string // hex of the random id
	Name    string
	Version int // this version's number, from 1
	Head    int // the current version's number
	Epoch   int // key epoch the version is sealed under
	Meta
	Value   []byte
	Created time.Time // when the secret was first created
	Updated time.Time // when this version was written
	Deleted time.Time // when it was removed with rm; zero while live
}

// Entry is what a listing shows of a secret: never its value.
type Entry struct {
	ID      string
	Name    string
	Version int
	Meta
	Created time.Time
	Updated time.Time
	// RotateFrom is the folder whose policy gave RotateEvery ("/" for the
	// root), as [Vault.ListWithPolicies] fills it; "" when the secret has
	// its own interval, or none.
	RotateFrom string
}

// RotationDue reports whether the secret's rotation interval has passed
// since its value was set ([Meta.RotationStart]).
func (m Meta) RotationDue(updated, now time.Time) bool {
	if m.Exposed != nil {
		return true // someone who could read it left the team
	}
	return m.RotateEvery > 0 && !m.RotationStart(updated).Add(m.RotateEvery).After(now)
}

// Expired reports whether the secret's expiry date has passed.
func (m Meta) Expired(now time.Time) bool {
	return !m.Expires.IsZero() && !m.Expires.After(now)
}

// VersionInfo describes one version in a secret's history.
type VersionInfo struct {
	Version int
	Name    string
	Type    Type
	Note    string // the version's note
	Size    int    // bytes of the value
	Created time.Time
	Current bool
}

func idString(id []byte) string { return hex.EncodeToString(id) }

// ParseDate reads an expiry date: 2027-01-31 (midnight UTC) or RFC 3339;
// "" and "never" mean none.
func ParseDate(s string) (time.Time, error) {
	if s == "" || s == "never" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("invalid date %q: use YYYY-MM-DD or RFC 3339", s)
}

// ParseInterval reads a rotation interval: Go durations plus days and
// weeks (30d, 2w, 12h). "" and "0" mean none.
func ParseInterval(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 || v > 100*365 {
				return 0, fmt.Errorf("invalid duration %q: use e.g. 30d, 2w or 12h", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("invalid duration %q: use e.g. 30d, 2w or 12h", s)
	}
	return d, nil
}

// FormatInterval prints an interval the way ParseInterval reads it: 720h as 30d.
func FormatInterval(d time.Duration) string {
	if d == 0 {
		return ""
	}
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	// 8h rather than 8h0m0s; 90m as 1h30m.
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
