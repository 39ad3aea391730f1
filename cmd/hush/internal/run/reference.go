package run

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hush-secrets/hush/vault"
)

// ReferencePrefix starts a variable value that names a secret instead of
// holding one, as op:// does for 1Password.
const ReferencePrefix = "hush://"

// Reference is a parsed hush://NAME[?version=N].
type Reference struct {
	Name    string
	Version int // 0: the current version
}

// IsReference reports whether a variable's value is meant as a reference.
func IsReference(v string) bool { return strings.HasPrefix(v, ReferencePrefix) }

// ParseReference parses hush://app/prod/DB or hush://app/prod/DB?version=3.
// Anything else after the name (another query key, a fragment) is an error:
// a typo must not silently inject the wrong version.
func ParseReference(s string) (Reference, error) {
	rest, ok := strings.CutPrefix(s, ReferencePrefix)
	if !ok {
		return Reference{}, fmt.Errorf("%q is not a hush:// reference", s)
	}
	name, query, hasQuery := strings.Cut(rest, "?")
	if strings.ContainsAny(name, "#%") {
		return Reference{}, fmt.Errorf("reference %q: %w", s, &vault.NameError{Name: name, Reason: "not a secret name"})
	}
	if err := vault.ValidName(name); err != nil {
		return Reference{}, fmt.Errorf("reference %q: %w", s, err)
	}
	ref := Reference{Name: name}
	if !hasQuery {
		return ref, nil
	}
	// Exactly "version=N": no escapes, no other keys, nothing repeated.
	digits, ok := strings.CutPrefix(query, "version=")
	if !ok || strings.ContainsAny(digits, "&=") {
		return Reference{}, fmt.Errorf("reference %q: only ?version=N is understood", s)
	}
	n, err := strconv.Atoi(digits)
	if strings.Trim(digits, "0123456789") != "" {
		err = strconv.ErrSyntax
	}
	if err != nil || n < 1 {
		return Reference{}, fmt.Errorf("reference %q: version must be a number from 1", s)
	}
	ref.Version = n
	return ref, nil
}
