package listing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/jsonout"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/kinds"
)

// Get reads version (0: the current one) of name, and whether a sync left
// it in conflict with a teammate's version. A name removed here while a
// teammate changed it is an error that says how to settle it.
func Get(v *vault.Vault, name string, version int) (s *vault.Secret, conflict bool, err error) {
	s, err = v.GetVersion(name, version)
	if errors.Is(err, vault.ErrNotFound) {
		if cs, _ := v.Conflicts(); slices.Contains(slices.Collect(maps.Values(cs)), name) {
			return nil, false, fmt.Errorf("secret %s is in conflict: removed here, changed by a teammate: `hush resolve %s --keep theirs` brings their version back, `--keep mine` removes it for the team", name, name)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if conflict, err = v.HasConflict(s.ID); err != nil {
		clear(s.Value)
		return nil, false, err
	}
	return s, conflict, nil
}

// SecretRow is a secret as `get --json` shows it, value included.
type SecretRow struct {
	Created         string         `json:"created"`
	Current         bool           `json:"current"`
	Dynamic         *DynamicRow    `json:"dynamic,omitempty"`
	Expires         string         `json:"expires,omitempty"`
	Flags           []string       `json:"flags"`
	Kind            map[string]any `json:"kind,omitempty"` // what kinds.Inspect reads: public parts only
	Name            string         `json:"name"`
	NotAfter        string         `json:"not_after,omitempty"`
	Note            string         `json:"note"`
	Revoked         *RevokedRow    `json:"revoked,omitempty"`
	RotateEvery     string         `json:"rotate_every,omitempty"`
	RotateEveryFrom string         `json:"rotate_every_from,omitempty"`
	Rotator         string         `json:"rotator,omitempty"`
	Summary         string         `json:"summary,omitempty"`
	Tags            []string       `json:"tags"`
	Type            vault.Type     `json:"type"`
	Updated         string         `json:"updated"`
	jsonout.Value
	Version int `json:"version"`
}

// DynamicRow is a dynamic source's settings.
type DynamicRow struct {
	Template string `json:"template"`
	TTL      string `json:"ttl"`
}

// RevokedRow says when and why a secret was revoked.
type RevokedRow struct {
	At     string `json:"at"`
	Reason string `json:"reason"`
}

// Secret is s as a SecretRow; conflict adds the "conflict" flag, and a
// folder policy s inherits its rotation from is named.
func Secret(v *vault.Vault, s *vault.Secret, conflict bool, now time.Time) (*SecretRow, error) {
	ps, err := v.Policies()
	if err != nil {
		return nil, err
	}
	from := vault.Inherit(&s.Meta, s.Name, ps)
	r := &SecretRow{Name: s.Name, Version: s.Version, Current: s.Version == s.Head, Type: s.Type, Note: s.Note, Tags: jsonout.List(s.Tags),
		Created: jsonout.Time(s.Created), Updated: jsonout.Time(s.Updated), Flags: jsonout.List(Marks(s.Meta, s.Updated, now)),
		Expires: jsonout.Time(s.Expires), Summary: s.Summary, NotAfter: jsonout.Time(s.NotAfter), Rotator: s.Rotator,
		RotateEveryFrom: from, Value: jsonout.NewValue(s.Value)}
	if s.RotateEvery > 0 {
		r.RotateEvery = vault.FormatInterval(s.RotateEvery)
	}
	if s.Revoked != nil {
		r.Revoked = &RevokedRow{At: jsonout.Time(s.Revoked.At), Reason: s.Revoked.Reason}
	}
	if s.Dynamic != nil {
		r.Dynamic = &DynamicRow{Template: s.Dynamic.Template, TTL: vault.FormatInterval(s.Dynamic.TTL)}
	}
	if conflict {
		r.Flags = append(r.Flags, "conflict")
	}
	if info, err := kinds.Inspect(string(s.Type), s.Value); err == nil && len(info.Fields) > 0 {
		r.Kind = info.Fields
	}
	return r, nil
}

// TheirsRow is the teammate's side of a conflict, as `get --theirs --json`
// shows it.
type TheirsRow struct {
	Author string     `json:"author"`
	Name   string     `json:"name"`
	Note   string     `json:"note"`
	Tags   []string   `json:"tags"`
	Type   vault.Type `json:"type"`
	jsonout.Value
}

// Theirs is a teammate's version as a TheirsRow; who made it is author.
func Theirs(name string, meta vault.Meta, value []byte, author string) TheirsRow {
	return TheirsRow{Author: author, Name: name, Note: meta.Note, Tags: jsonout.List(meta.Tags), Type: meta.Type, Value: jsonout.NewValue(value)}
}
