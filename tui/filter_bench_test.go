package tui

import (
	"fmt"
	"testing"
)

func benchNames(n int) []string {
	envs := []string{"dev", "staging", "prod", "ci", "local"}
	apps := []string{"shop", "billing", "auth", "search", "mail", "payments", "analytics"}
	keys := []string{"DATABASE_URL", "API_KEY", "SECRET_KEY", "REDIS_URL", "SMTP_PASSWORD", "STRIPE_KEY", "JWT_SECRET"}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s/%s/%s_%05d", apps[i%len(apps)], envs[(i/7)%len(envs)], keys[(i/35)%len(keys)], i)
	}
	return names
}

// BenchmarkFilterKeystroke is one frame's work while typing in the filter:
// the query grows by one character ("p", "pr", ... "prod/stripe"), which
// narrows the previous result, at 1k, 10k and 100k secrets. A frame is
// 16 ms.
func BenchmarkFilterKeystroke(b *testing.B) {
	const query = "prod/stripe"
	for _, n := range []int{1_000, 10_000, 100_000} {
		ix := newIndex(benchNames(n))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			f := newFilter(ix)
			i := 0
			for b.Loop() {
				i = i%len(query) + 1
				if i == 1 {
					f.set("") // start typing again
				}
				f.set(query[:i])
			}
		})
	}
}

// BenchmarkFilterFresh is the worst keystroke: a query that does not extend
// the previous one (a deletion), so every name is searched again.
func BenchmarkFilterFresh(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		ix := newIndex(benchNames(n))
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			f := newFilter(ix)
			qs := []string{"pdb", "pd"}
			i := 0
			for b.Loop() {
				f.set(qs[i%2])
				i++
			}
		})
	}
}
