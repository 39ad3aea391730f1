package run

import "slices"

// automaton finds every secret in a stream of bytes in one pass: an
// Aho-Corasick automaton over the trie of secrets. Shallow states (where
// almost all time is spent) have a dense transition table over byte
// classes, so scanning costs one table load per byte whatever the number
// of secrets; deeper states keep their trie edges and failure links, which
// bounds the memory for long secrets (keys, certificates).
//
// It is built once and only read afterwards, so maskers (stdout and stderr)
// share it.
type automaton struct {
	class [256]int32 // byte → column of the dense table; 0: in no secret
	nc    int        // columns

	depth []int32 // length of the prefix a state stands for
	fail  []int32 // the longest proper suffix that is also a trie state
	// out is the length of the longest secret that is a suffix of the
	// state's prefix (0: none), so a match is seen at the byte that ends it.
	out  []int32
	term []bool // the state's prefix is a whole secret

	// Trie edges of state s: edgeByte/edgeTo[edge[s]:edge[s+1]].
	edge     []int32
	edgeByte []byte
	edgeTo   []int32

	nDense int32 // states 0..nDense-1 (in breadth-first order) are dense
	// dense holds nDense rows of nc transitions. An entry is the target's
	// row offset (state × nc) when the target is dense and ends no secret,
	// so the hot loop needs no multiplication; otherwise it is ^target.
	dense []int32
	built bool // dense is encoded
}

// denseBudget bounds the dense table (entries of 4 bytes).
const denseBudget = 1 << 20

// newAutomaton builds the automaton for patterns (none empty, no duplicates).
func newAutomaton(patterns [][]byte) *automaton { return newAutomatonBudget(patterns, denseBudget) }

// newAutomatonBudget: tests shrink the budget so that deep states (sparse
// edges and failure links) are exercised with short secrets too.
func newAutomatonBudget(patterns [][]byte, budget int) *automaton {
	// A first-child/next-sibling trie, renumbered breadth first below so
	// that a state's failure target always comes before it.
	type node struct {
		b                   byte
		child, sibling, par int32
		term                bool
	}
	nodes := []node{{child: -1, sibling: -1, par: -1}}
	var used [256]bool
	for _, p := range patterns {
		s := int32(0)
		for _, b := range p {
			used[b] = true
			c := nodes[s].child
			for c >= 0 && nodes[c].b != b {
				c = nodes[c].sibling
			}
			if c < 0 {
				c = int32(len(nodes))
				nodes = append(nodes, node{b: b, child: -1, sibling: nodes[s].child, par: s})
				nodes[s].child = c
			}
			s = c
		}
		nodes[s].term = true
	}

	a := &automaton{nc: 1}
	for b := range 256 {
		if used[b] {
			a.class[b] = int32(a.nc)
			a.nc++
		}
	}
	n := len(nodes)
	order := make([]int32, 0, n) // breadth-first: new index → old
	newID := make([]int32, n)
	order = append(order, 0)
	for q := 0; q < len(order); q++ {
		for c := nodes[order[q]].child; c >= 0; c = nodes[c].sibling {
			newID[c] = int32(len(order))
			order = append(order, c)
		}
	}
	a.depth = make([]int32, n)
	a.fail = make([]int32, n)
	a.out = make([]int32, n)
	a.term = make([]bool, n)
	a.edge = make([]int32, n+1)
	a.edgeByte = make([]byte, 0, n-1)
	a.edgeTo = make([]int32, 0, n-1)
	type edge struct {
		b  byte
		to int32
	}
	var kids []edge
	for s, old := range order {
		a.term[s] = nodes[old].term
		if p := nodes[old].par; p >= 0 {
			a.depth[s] = a.depth[newID[p]] + 1
		}
		kids = kids[:0]
		for c := nodes[old].child; c >= 0; c = nodes[c].sibling {
			kids = append(kids, edge{nodes[c].b, newID[c]})
		}
		slices.SortFunc(kids, func(x, y edge) int { return int(x.b) - int(y.b) })
		a.edge[s] = int32(len(a.edgeTo))
		for _, k := range kids {
			a.edgeByte = append(a.edgeByte, k.b)
			a.edgeTo = append(a.edgeTo, k.to)
		}
	}
	a.edge[n] = int32(len(a.edgeTo))

	a.nDense = int32(min(n, max(1, budget/a.nc)))
	a.dense = make([]int32, int(a.nDense)*a.nc)
	var rep [256]byte // a byte of each class
	for b := range 256 {
		rep[a.class[b]] = byte(b)
	}
	for s := range int32(n) {
		// Failure links and outputs of s's children; fail[s] < s is done.
		for e := a.edge[s]; e < a.edge[s+1]; e++ {
			v := a.edgeTo[e]
			if s != 0 {
				a.fail[v] = a.step(a.fail[s], a.edgeByte[e])
			}
			if a.term[v] {
				a.out[v] = a.depth[v]
			} else {
				a.out[v] = a.out[a.fail[v]]
			}
		}
		if s < a.nDense {
			row := a.dense[int(s)*a.nc : int(s+1)*a.nc]
			for c := 1; c < a.nc; c++ {
				if t := a.child(s, rep[c]); t >= 0 {
					row[c] = t
				} else if s != 0 {
					row[c] = a.dense[int(a.fail[s])*a.nc+c]
				}
			}
		}
	}
	// Encode the entries for scan (see dense); build used plain states.
	for i, t := range a.dense {
		if t < a.nDense && a.out[t] == 0 {
			a.dense[i] = t * int32(a.nc)
		} else {
			a.dense[i] = ^t
		}
	}
	a.built = true
	return a
}

// target decodes a dense entry into a state.
func (a *automaton) target(e int32) int32 {
	if e < 0 {
		return ^e
	}
	if a.built {
		return e / int32(a.nc)
	}
	return e
}

// child is the trie edge from s on b, or -1.
func (a *automaton) child(s int32, b byte) int32 {
	for e := a.edge[s]; e < a.edge[s+1]; e++ {
		if a.edgeByte[e] == b {
			return a.edgeTo[e]
		}
	}
	return -1
}

// walk is the trie edge from s on b, or -1, using the dense table where
// there is one: a transition is a trie edge exactly when it goes one deeper.
func (a *automaton) walk(s int32, b byte) int32 {
	if s >= a.nDense {
		return a.child(s, b)
	}
	if a.class[b] == 0 {
		return -1
	}
	if t := a.target(a.dense[int(s)*a.nc+int(a.class[b])]); a.depth[t] == a.depth[s]+1 {
		return t
	}
	return -1
}

// step is the automaton's transition from s on b.
func (a *automaton) step(s int32, b byte) int32 {
	for s >= a.nDense {
		if t := a.child(s, b); t >= 0 {
			return t
		}
		s = a.fail[s]
	}
	return a.target(a.dense[int(s)*a.nc+int(a.class[b])])
}

// scan runs the automaton over data[p:] from state s and stops after the
// first byte that ends a secret (or at the end): the hot loop of masking,
// one table load per byte while in dense states that end no secret.
func (a *automaton) scan(s int32, data []byte, p int) (int32, int) {
	dense, class, nc := a.dense, &a.class, int32(a.nc)
	for p < len(data) {
		if s >= a.nDense || a.out[s] != 0 {
			s = a.step(s, data[p])
			p++
			if a.out[s] != 0 {
				return s, p
			}
			continue
		}
		off := s * nc
		for p < len(data) {
			e := dense[off+class[data[p]]]
			p++
			if e < 0 {
				off = -1
				s = ^e
				break
			}
			off = e
		}
		if off >= 0 {
			return off / nc, p
		}
		if a.out[s] != 0 {
			return s, p
		}
	}
	return s, p
}

// longestAt walks the trie along b: n is the length of the longest secret
// b starts with (0: none); open is true when b ended while a longer secret
// was still possible.
func (a *automaton) longestAt(b []byte) (n int, open bool) {
	s := int32(0)
	for i, c := range b {
		if s = a.walk(s, c); s < 0 {
			return n, false
		}
		if a.term[s] {
			n = i + 1
		}
	}
	return n, a.edge[s+1] > a.edge[s]
}
