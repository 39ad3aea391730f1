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
	ix     *index
	query  string
	result []int // indexes into ix.names
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
	scores := make([]int, 0, min(len(from), 1024))
	for _, i := range from {
		if s, ok := fuzzy(f.ix.lower[i], q); ok {
			out = append(out, i)
			scores = append(scores, s)
		}
	}
	if len(out) <= maxRanked {
		sort.Stable(byScore{out, scores})
	}
	f.result = out
	return f.result
}

// fuzzy reports whether every character of q appears in s in order, and a
// score that favours consecutive characters and starts of path segments.
func fuzzy(s, q string) (int, bool) {
	score, qi, run := 0, 0, 0
	for si := 0; si < len(s) && qi < len(q); si++ {
		if s[si] != q[qi] {
			run = 0
			continue
		}
		score++
		if run > 0 {
			score += 2 * run
		}
		if si == 0 || s[si-1] == '/' || s[si-1] == '_' || s[si-1] == '-' || s[si-1] == '.' {
			score += 3
		}
		run++
		qi++
	}
	return score, qi == len(q)
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
