package tui

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// Results are ranked by how well they match, not by name: the closest
// matches come first.
func TestFilterRanksByMatchQuality(t *testing.T) {
	names := []string{
		"app/prod/BILLING_CLIENT_SECRET_ID",
		"app/prod/BILLING_CLIENT_SECRET_KEY",
		"app/prod/BILLING_SECRET_KEY",
		"app/prod/BILLING_SECRET_SALT",
	}
	for _, c := range []struct {
		query string
		first []string // the leading results, in any order
	}{
		{"billingsecret", []string{"app/prod/BILLING_SECRET_KEY", "app/prod/BILLING_SECRET_SALT"}},
		{"billing_secret", []string{"app/prod/BILLING_SECRET_KEY", "app/prod/BILLING_SECRET_SALT"}},
		{"clientsecret", []string{"app/prod/BILLING_CLIENT_SECRET_ID", "app/prod/BILLING_CLIENT_SECRET_KEY"}},
	} {
		f := newFilter(newIndex(names))
		rows := f.set(c.query)
		var got []string
		for _, r := range rows {
			got = append(got, names[r])
		}
		for i, want := range c.first {
			if i >= len(got) || !slices.Contains(c.first, got[i]) {
				t.Errorf("%q: results %q, want %q first (%s)", c.query, got, c.first, want)
				break
			}
		}
	}
}

// rankFull is rank without the limits on each row: every place of s for
// every character of q.
func rankFull(s, q string) int {
	const none = -1 << 30
	n := len(s)
	prev, cur := make([]int, n), make([]int, n)
	boundary := func(j int) int {
		if j == 0 || strings.ContainsRune("/_-. ", rune(s[j-1])) {
			return bonusBoundary
		}
		return 0
	}
	for j := range n {
		prev[j] = none
		if s[j] == q[0] {
			prev[j] = scoreMatch + boundary(j)
		}
	}
	for i := 1; i < len(q); i++ {
		gap := none
		for j := range n {
			cur[j] = none
			if j >= 2 {
				gap = max(gap-gapExtend, prev[j-2]-gapStart)
			}
			if s[j] != q[i] || j == 0 {
				continue
			}
			if best := max(gap, prev[j-1]+bonusConsecutive); best > none/2 {
				cur[j] = best + scoreMatch + boundary(j)
			}
		}
		prev, cur = cur, prev
	}
	best := none
	for _, v := range prev {
		best = max(best, v)
	}
	return best
}

// The limits on each row change nothing: rank agrees with the full
// programme on random names and queries.
func TestRankAgreesWithTheFullProgramme(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	const alphabet = "ab/_c"
	var scratch []int
	for range 20000 {
		s := make([]byte, 1+rnd.IntN(30))
		for i := range s {
			s[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		q := make([]byte, 1+rnd.IntN(6))
		for i := range q {
			q[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		if !matches(string(s), string(q)) {
			continue
		}
		if got, want := rank(string(s), string(q), &scratch), rankFull(string(s), string(q)); got != want {
			t.Fatalf("rank(%q, %q) = %d, want %d", s, q, got, want)
		}
	}
}
