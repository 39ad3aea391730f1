package store

import (
	"math/rand/v2"
	"regexp"
	"testing"
)

// TestRebindDollars: the loop that turns $1 into +?1 gives what a
// regular expression gives, on the package's kind of queries
// and on random text made of the characters that matter.
func TestRebindDollars(t *testing.T) {
	re := regexp.MustCompile(`\$(\d+)`)
	for _, q := range []string{
		``, `$`, `$$`, `$a`, `a$`, `$1`, `$12$3`, `x$0y`, `'$1'`, `$$1`,
		`UPDATE devices SET last_seen = $1 WHERE id = $2 AND last_seen < $1`,
		`SELECT pos FROM chain WHERE team = $1 AND pos > $2 ORDER BY pos LIMIT 1001`,
	} {
		if got, want := rebindDollars(q), re.ReplaceAllString(q, "+?$1"); got != want {
			t.Errorf("rebindDollars(%q) = %q, want %q", q, got, want)
		}
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	const chars = "$0123456789a ?"
	for range 10000 {
		b := make([]byte, rnd.IntN(12))
		for i := range b {
			b[i] = chars[rnd.IntN(len(chars))]
		}
		q := string(b)
		if got, want := rebindDollars(q), re.ReplaceAllString(q, "+?$1"); got != want {
			t.Fatalf("rebindDollars(%q) = %q, want %q", q, got, want)
		}
	}
	// Remembered: the same query twice gives the same text.
	q := `SELECT $1, $2`
	if a, b := sqliteRebind(q), sqliteRebind(q); a != b || a != `SELECT +?1, +?2` {
		t.Fatalf("sqliteRebind: %q then %q", a, b)
	}
}
