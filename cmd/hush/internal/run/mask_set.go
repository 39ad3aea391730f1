package run

// maskSet is what a [Masker] looks for, built once per run and shared by
// its maskers (stdout and stderr): the secrets in a trie, which says
// whether a secret starts at a position and which is the longest, and a
// [skipper], which says where one might start without reading every byte.
//
// The trie is small (a node per distinct prefix, 12 bytes each) and a
// walk from a position that starts no secret ends after a byte or two, so
// the cost of masking is mostly the skipper's.
type maskSet struct {
	root  [256]int32 // the root's child by byte, or -1: the hottest step
	nodes []trieNode
	skip  *skipper
}

type trieNode struct {
	b              byte
	term           bool  // a secret ends here
	child, sibling int32 // first child, next sibling: -1 for none
}

// newMaskSetOf builds the set for patterns: none shorter than minMaskLen,
// no duplicates.
func newMaskSetOf(patterns [][]byte) *maskSet {
	t := &maskSet{nodes: []trieNode{{child: -1, sibling: -1}}}
	for i := range t.root {
		t.root[i] = -1
	}
	for _, p := range patterns {
		s := int32(0)
		for _, b := range p {
			c := t.nodes[s].child
			for c >= 0 && t.nodes[c].b != b {
				c = t.nodes[c].sibling
			}
			if c < 0 {
				c = int32(len(t.nodes))
				t.nodes = append(t.nodes, trieNode{b: b, child: -1, sibling: t.nodes[s].child})
				t.nodes[s].child = c
				if s == 0 {
					t.root[b] = c
				}
			}
			s = c
		}
		t.nodes[s].term = true
	}
	t.skip = newSkipper(patterns)
	return t
}

// longestAt walks the trie along b (not empty): n is the length of the
// longest secret b starts with (0: none); open is true when b ended while
// a longer secret was still possible.
func (t *maskSet) longestAt(b []byte) (n int, open bool) {
	nodes := t.nodes
	s := t.root[b[0]]
	if s < 0 {
		return 0, false
	}
	if nodes[s].term {
		n = 1
	}
	for i := 1; i < len(b); i++ {
		c := nodes[s].child
		for c >= 0 && nodes[c].b != b[i] {
			c = nodes[c].sibling
		}
		if c < 0 {
			return n, false
		}
		if s = c; nodes[s].term {
			n = i + 1
		}
	}
	return n, nodes[s].child >= 0
}
