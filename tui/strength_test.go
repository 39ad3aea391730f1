package tui

import "testing"

// The meter knows common words and passwords: a phrase of four common
// words is not strong, a famous password with a digit is weak, and random
// characters are strong.
func TestStrengthKnowsCommonWords(t *testing.T) {
	for _, c := range []struct {
		pass, want string
	}{
		{"correct horse battery staple", "fair"},
		{"password1234567", "weak"},
		{"qwertyuiopasdfgh", "weak"},
		{"kX9#mQ2$vL8@nR4!pZ7^", "strong"},
		{"short", "too short"},
	} {
		if bits, label := strength(c.pass); label != c.want {
			t.Errorf("%q: %s (%.0f bits), want %s", c.pass, label, bits, c.want)
		}
	}
}
