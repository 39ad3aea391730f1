// Package metaflags owns the metadata flags that `hush set` and `hush edit`
// share (--type, --note, --tag, --rotate-every, --expires, --rotator): how
// they are declared and how the ones given become a vault.Update. A flag
// not given leaves its field nil, so the secret keeps what it had.
package metaflags

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/hush-secrets/hush/vault"
)

// Names are the flags, as a person types them.
var Names = []string{"type", "note", "tag", "rotate-every", "expires", "rotator"}

// Flags holds the flags' values once parsed.
type Flags struct {
	typ, note, rotate, expires, rotator string
	tags                                []string
}

// Add declares the flags on f.
func (m *Flags) Add(f *pflag.FlagSet) {
	f.StringVar(&m.typ, "type", "", "kind of secret: "+typeNames())
	f.StringVar(&m.note, "note", "", "a note kept (encrypted) with the secret")
	f.StringSliceVar(&m.tags, "tag", nil, "tags (repeat or separate with commas)")
	f.StringVar(&m.rotate, "rotate-every", "", "rotation interval, e.g. 30d, 2w (0 for none)")
	f.StringVar(&m.expires, "expires", "", "expiry date, YYYY-MM-DD (never for none)")
	f.StringVar(&m.rotator, "rotator", "", "a `COMMAND` that hush rotate runs: old value on stdin, new value on stdout")
}

// Changed reports whether any of the flags was given.
func (m *Flags) Changed(f *pflag.FlagSet) bool {
	for _, n := range Names {
		if f.Changed(n) {
			return true
		}
	}
	return false
}

// Update turns the flags given into a vault.Update. Every error is a
// value that does not parse: a usage error for the caller.
func (m *Flags) Update(f *pflag.FlagSet) (vault.Update, error) {
	var u vault.Update
	if f.Changed("type") {
		t, err := vault.ParseType(m.typ)
		if err != nil {
			return u, err
		}
		u.Type = &t
	}
	if f.Changed("note") {
		u.Note = &m.note
	}
	if f.Changed("tag") {
		clean := []string{}
		for _, t := range m.tags {
			if t = strings.TrimSpace(t); t != "" {
				clean = append(clean, t)
			}
		}
		u.Tags = &clean
	}
	if f.Changed("rotate-every") {
		d, err := vault.ParseInterval(m.rotate)
		if err != nil {
			return u, err
		}
		u.RotateEvery = &d
	}
	if f.Changed("expires") {
		t, err := vault.ParseDate(m.expires)
		if err != nil {
			return u, err
		}
		u.Expires = &t
	}
	if f.Changed("rotator") {
		u.Rotator = &m.rotator
	}
	return u, nil
}

func typeNames() string {
	s := make([]string, len(vault.Types))
	for i, t := range vault.Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}
