package tui

import (
	"sort"
	"strings"
)

// index holds the names of the vault's secrets, decrypted once when the
// browser opens, lower-cased for matching. Values are never in it.
type index struct {
	names []string // sorted
	lower []string
}

func newIndex(names []string) *index {
	ix := &index{names: names, lower: make([]string, len(names))}
	for i, n := range names {
		ix.lower[i] = strings.ToLower(n)
	}
	return ix
}

// filter narrows the index as the user types. It remembers the last query
// and its result, so that typing one more character only searches what
// matched before: every keystroke stays well within a frame at 100,000
// secrets.
type filter struct {
	ix      *index
	query   string
	result  []int // indexes into ix.names
	scratch []int // rank's rows, reused
}

// maxRanked bounds how many matches are sorted by score: beyond it, name
// order is kept, which is what a person scans anyway.
const maxRanked = 5000

func newFilter(ix *index) *filter {
	f := &filter{ix: ix}
	f.result = f.all()
	return f
}

func (f *filter) all() []int {
	r := make([]int, len(f.ix.names))
	for i := range r {
		r[i] = i
	}
	return r
}

// set applies a new query and returns the matching rows.
func (f *filter) set(query string) []int {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == f.query {
		return f.result
	}
	var from []int
	if f.query != "" && strings.HasPrefix(q, f.query) {
		from = f.result // a longer query only matches a subset
	} else {
		from = f.all()
	}
	f.query = q
	if q == "" {
		f.result = from
		return f.result
	}
	out := make([]int, 0, min(len(from), 1024))
	for _, i := range from {
		if matches(f.ix.lower[i], q) {
			out = append(out, i)
		}
	}
	if len(out) <= maxRanked {
		scores := make([]int, len(out))
		for k, i := range out {
			scores[k] = rank(f.ix.lower[i], q, &f.scratch)
		}
		sort.Stable(byScore{out, scores})
	}
	f.result = out
	return f.result
}

// matches reports whether every character of q appears in s in order.
func matches(s, q string) bool {
	qi := 0
	for si := 0; si < len(s) && qi < len(q); si++ {
		if s[si] == q[qi] {
			qi++
		}
	}
	return qi == len(q)
}

// Scores of rank, in the manner of fzf: a matched character scores, more
// at the start of a path segment or word, more again right after the
// previous one; a gap between matched characters costs, the first skipped
// character most.
const (
	scoreMatch       = 16
	bonusBoundary    = 8
	bonusConsecutive = 6
	gapStart         = 5
	gapExtend        = 1
)

// rank scores the best way q (a subsequence of s) lines up in s: for
// "billingsecret", billing_secret_x (one character skipped) ranks above
// billing_client_secret_x (eight skipped), whatever their order by name.
// It is a dynamic programme over two rows, each row i limited to where
// q[i] can be (between its earliest and its latest possible place), run
// only on the matches shown ranked.
func rank(s, q string, scratch *[]int) int {
	const none = -1 << 30
	n, m := len(s), len(q)
	if cap(*scratch) < 2*n+2*m {
		*scratch = make([]int, 2*n+2*m)
	}
	buf := (*scratch)[:2*n+2*m]
	prev, cur, lo, hi := buf[:n], buf[n:2*n], buf[2*n:2*n+m], buf[2*n+m:]
	for i, j := 0, 0; i < m; j++ { // earliest places
		if s[j] == q[i] {
			lo[i] = j
			i++
		}
	}
	for i, j := m-1, n-1; i >= 0; j-- { // latest places
		if s[j] == q[i] {
			hi[i] = j
			i--
		}
	}
	boundary := func(j int) int {
		if j == 0 {
			return bonusBoundary
		}
		switch s[j-1] {
		case '/', '_', '-', '.', ' ':
			return bonusBoundary
		}
		return 0
	}
	for j := lo[0]; j <= hi[0]; j++ {
		prev[j] = none
		if s[j] == q[0] {
			prev[j] = scoreMatch + boundary(j)
		}
	}
	for i := 1; i < m; i++ {
		plo, phi := lo[i-1], hi[i-1]
		at := func(j int) int { // prev[j], none outside the last row's span
			if j < plo || j > phi {
				return none
			}
			return prev[j]
		}
		gap := none // best prev[p] - gap cost, for p ≤ j-2
		for j := plo + 2; j < lo[i]; j++ {
			gap = max(gap-gapExtend, at(j-2)-gapStart)
		}
		for j := lo[i]; j <= hi[i]; j++ {
			if j >= plo+2 {
				gap = max(gap-gapExtend, at(j-2)-gapStart)
			}
			cur[j] = none
			if s[j] != q[i] {
				continue
			}
			best := max(gap, at(j-1)+bonusConsecutive)
			if best > none/2 {
				cur[j] = best + scoreMatch + boundary(j)
			}
		}
		prev, cur = cur, prev
	}
	best := none
	for j := lo[m-1]; j <= hi[m-1]; j++ {
		best = max(best, prev[j])
	}
	return best
}

type byScore struct {
	rows   []int
	scores []int
}

func (b byScore) Len() int           { return len(b.rows) }
func (b byScore) Less(i, j int) bool { return b.scores[i] > b.scores[j] }
func (b byScore) Swap(i, j int) {
	b.rows[i], b.rows[j] = b.rows[j], b.rows[i]
	b.scores[i], b.scores[j] = b.scores[j], b.scores[i]
}
