package run

// skipper finds where a secret might start without looking at every byte:
// a Wu-Manber shift table over blocks of b bytes in the first m bytes of
// every secret (m: the shortest secret's length). A window of m bytes whose
// last block ends no secret's first m bytes is passed over by up to
// m-b+1 bytes at once; only where a block fits does the trie decide. On
// text that looks nothing like the secrets (logs), most of the input is
// never touched byte by byte.
type skipper struct {
	m, b  int
	shift []uint8 // by blockHash
}

// maxSkipWindow bounds m (shifts are bytes).
const maxSkipWindow = 64

func newSkipper(patterns [][]byte) *skipper {
	m := maxSkipWindow
	for _, p := range patterns {
		m = min(m, len(p))
	}
	b := 3
	if m < 6 {
		b = 2 // short secrets: blocks of 3 would leave little to skip
	}
	sk := &skipper{m: m, b: b, shift: make([]uint8, 1<<16)}
	for i := range sk.shift {
		sk.shift[i] = uint8(m - b + 1)
	}
	for _, p := range patterns {
		for k := b - 1; k < m; k++ {
			h := sk.blockHash(p, k)
			sk.shift[h] = min(sk.shift[h], uint8(m-1-k))
		}
	}
	return sk
}

// blockHash hashes the block of b bytes that ends at data[j]. Collisions
// only make shifts smaller: never a secret missed.
func (sk *skipper) blockHash(data []byte, j int) uint32 {
	if sk.b == 2 {
		return uint32(data[j-1])<<8 | uint32(data[j])
	}
	return (uint32(data[j-2])<<16 | uint32(data[j-1])<<8 | uint32(data[j])) * 0x9E3779B1 >> 16
}

// next returns the first x ≥ from where a secret might start with its
// first m bytes inside data, or, when there is none, len(data)-m+1 (or
// from, if larger): no secret starts before that and ends inside data.
func (sk *skipper) next(data []byte, from int) int {
	m, shift := sk.m, sk.shift
	j := from + m - 1
	if sk.b == 3 {
		for j < len(data) {
			s := shift[(uint32(data[j-2])<<16|uint32(data[j-1])<<8|uint32(data[j]))*0x9E3779B1>>16]
			if s == 0 {
				return j - m + 1
			}
			j += int(s)
		}
	} else {
		for j < len(data) {
			s := shift[uint32(data[j-1])<<8|uint32(data[j])]
			if s == 0 {
				return j - m + 1
			}
			j += int(s)
		}
	}
	return max(from, len(data)-m+1)
}
