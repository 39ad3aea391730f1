package wire

import (
	"regexp"
	"strings"
	"testing"
)

// ValidID accepts exactly what ^[0-9a-f]{32}$ matches: ids reach the
// server in URLs and bodies from anyone.
var idPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

func TestValidID(t *testing.T) {
	good := strings.Repeat("0123456789abcdef", 2)
	if !ValidID(good) {
		t.Errorf("%q refused", good)
	}
	for _, s := range []string{"", good[:31], good + "0", strings.ToUpper(good), good[:31] + "g", good[:31] + "\n", "\n" + good[:31], good[:16] + "/" + good[17:], strings.Repeat("é", 16)} {
		if ValidID(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func FuzzValidID(f *testing.F) {
	f.Add(strings.Repeat("ab", 16))
	f.Add(strings.Repeat("AB", 16))
	f.Add(strings.Repeat("a", 31) + "\n")
	f.Fuzz(func(t *testing.T, s string) {
		if ValidID(s) != idPattern.MatchString(s) {
			t.Fatalf("ValidID(%q) = %v, the pattern says %v", s, ValidID(s), idPattern.MatchString(s))
		}
	})
}
