package run

import (
	"strconv"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

func TestParseReferenceAccepts(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Reference
	}{
		{"hush://app/prod/DB", Reference{Name: "app/prod/DB"}},
		{"hush://DB", Reference{Name: "DB"}},
		{"hush://app/prod/DB?version=3", Reference{Name: "app/prod/DB", Version: 3}},
		{"hush://app/prod/DB?version=1", Reference{Name: "app/prod/DB", Version: 1}},
		{"hush://a.b/c-d/E_F.2?version=12", Reference{Name: "a.b/c-d/E_F.2", Version: 12}},
	} {
		got, err := ParseReference(tc.in)
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseReference(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
		if !IsReference(tc.in) {
			t.Errorf("IsReference(%q) = false", tc.in)
		}
	}
}

func TestParseReferenceRejects(t *testing.T) {
	for _, tc := range []struct {
		in, wantErr string
	}{
		{"hush://", "empty name"},
		{"hush://?version=2", "empty name"},
		{"hush://a//b", "empty segment"},
		{"hush://a/b/", `ends with "/"`},
		{"hush:///a", `starts with "/"`},
		{"hush://../x", `".."`},
		{"hush://a/./x", `"."`},
		{"hush://a/b?version=0", "version must be a number from 1"},
		{"hush://a/b?version=-1", "version must be a number from 1"},
		{"hush://a/b?version=x", "version must be a number from 1"},
		{"hush://a/b?version=", "version must be a number from 1"},
		{"hush://a/b?version=3x", "version must be a number from 1"},
		{"hush://a/b?version=99999999999999999999999", "version must be a number from 1"},
		{"hush://a/b?v=2", "only ?version=N"},
		{"hush://a/b?version=1&version=2", "only ?version=N"},
		{"hush://a/b?version=2&x=1", "only ?version=N"},
		{"hush://a/b?version=1;x=2", "only ?version=N"},
		{"hush://a/b?version=%zz", "version must be a number from 1"},
		{"hush://a/b#frag", "not a secret name"},
		{"hush://a/b?version=3#frag", "version must be a number from 1"},
		{"hush://app%2Fprod/DB", "not a secret name"},
		{"hush://app/%2e%2e/DB", "not a secret name"},
		{"hush://a b", "not allowed"},
		{"hush:// a", "not allowed"},
		{"hush://a/b ", "not allowed"},
		{"hush://a/b?version= 3", "version must be a number from 1"},
		{"hush://a\x00b", "not allowed"},
		{"hush://" + strings.Repeat("a", vault.MaxNameLen+1), "longer than"},
		{"hush://" + strings.Repeat("a/", 600) + "a", "longer than"},
		{"hush:/x", "not a hush:// reference"},
		{"HUSH://a", "not a hush:// reference"},
		{"", "not a hush:// reference"},
		{"op://vault/item", "not a hush:// reference"},
	} {
		got, err := ParseReference(tc.in)
		if err == nil {
			t.Errorf("ParseReference(%.60q) = %+v, want an error", tc.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("ParseReference(%.60q) error %q, want it to say %q", tc.in, err, tc.wantErr)
		}
		if got != (Reference{}) {
			t.Errorf("ParseReference(%.60q) returned %+v with its error", tc.in, got)
		}
	}
}

func TestIsReference(t *testing.T) {
	for in, want := range map[string]bool{
		"hush://a":       true,
		"hush://":        true, // meant as one; ParseReference says what is wrong
		"hush:/a":        false,
		"HUSH://a":       false,
		" hush://a":      false,
		"postgres://u@h": false,
		"":               false,
	} {
		if got := IsReference(in); got != want {
			t.Errorf("IsReference(%q) = %v, want %v", in, got, want)
		}
	}
}

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"hush://app/prod/DB", "hush://app/prod/DB?version=3", "hush://a//b",
		"hush://../x", "hush://a?version=0", "hush://a?version=1&version=2",
		"hush://a#f", "hush://a%2Fb", "hush:/x", "hush://a?v=2", "hush://a?",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			return
		}
		if !IsReference(s) {
			t.Fatalf("ParseReference(%q) accepted what IsReference refuses", s)
		}
		if err := vault.ValidName(ref.Name); err != nil {
			t.Fatalf("ParseReference(%q) accepted name %q: %v", s, ref.Name, err)
		}
		if ref.Version < 0 {
			t.Fatalf("ParseReference(%q): version %d", s, ref.Version)
		}
		// The canonical form of what was accepted means the same.
		canon := ReferencePrefix + ref.Name
		if ref.Version > 0 {
			canon += "?version=" + strconv.Itoa(ref.Version)
		}
		again, err := ParseReference(canon)
		if err != nil || again != ref {
			t.Fatalf("ParseReference(%q) = %+v, but its canonical form %q gives %+v, %v", s, ref, canon, again, err)
		}
	})
}

// Only the exact form ?version=N is accepted: an escaped, empty or
// repeated query is refused rather than read loosely.
func TestParseReferenceStrictQuery(t *testing.T) {
	for _, s := range []string{"hush://a/b?", "hush://a/b?&version=3&", "hush://a/b?version=%33", "hush://a/b?%76ersion=2", "hush://a/b?version=1&version=2"} {
		if _, err := ParseReference(s); err == nil {
			t.Errorf("ParseReference(%q) accepted", s)
		}
	}
}
