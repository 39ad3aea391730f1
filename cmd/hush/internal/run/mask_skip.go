package run

import (
	"encoding/binary"
	"math/bits"
)

// skipper finds where a secret might start without looking at every byte.
//
// First, a sampling filter: every secret's first m bytes (m: the shortest
// secret's length) hold m-3 blocks of 4 bytes, and a bitset records which
// blocks occur there. Any m bytes of input hold m-3 whole blocks, so
// looking at one block every m-3 bytes is enough: where it is absent from
// the bitset, no secret starts in the m-3 positions it would lie in. These
// lookups do not depend on each other (the next one is always m-3 further),
// so the processor runs many at once; on text that looks nothing like the
// secrets (logs) this is nearly all the work.
//
// Where a sampled block is present, a Wu-Manber shift table over blocks of
// b bytes decides for the positions it covers: a window of m bytes whose
// last block ends no secret's first m bytes is passed over by up to m-b+1
// bytes at once; only where a block fits does the trie decide.
type skipper struct {
	m, b  int
	shift []uint8 // by blockHash

	// The sampling filter; nil when secrets are too short for it to pay.
	sample      []uint64 // bitset by sampleHash
	sampleShift uint     // 32 - log2(bits in sample)
	stride      int      // m-3
}

// maxSkipWindow bounds m (shifts are bytes).
const maxSkipWindow = 64

// minSampleWindow: below this m the stride (m-3) is too short to gain on
// the shift table alone.
const minSampleWindow = 8

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
	if m >= minSampleWindow {
		// About 32 bits per block present keeps false hits near 3%. At
		// least 4 KiB: ordinary output repeats a few hundred blocks over
		// and over, and one of them colliding with a secret's block in a
		// small set would be looked at again every time. At most 256 KiB
		// (tens of thousands of secrets), which stays in a core's cache.
		blocks := len(patterns) * (m - 3)
		logBits := min(max(bits.Len(uint(blocks*32)), 15), 21)
		sk.sample = make([]uint64, 1<<logBits/64)
		sk.sampleShift = uint(32 - logBits)
		sk.stride = m - 3
		for _, p := range patterns {
			for k := 3; k < m; k++ {
				h := sk.sampleHash(p, k)
				sk.sample[h>>6] |= 1 << (h & 63)
			}
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

// sampleHash hashes the 4 bytes that end at data[j]. Collisions only make
// the filter let more through: never a secret missed.
func (sk *skipper) sampleHash(data []byte, j int) uint32 {
	return binary.LittleEndian.Uint32(data[j-3:]) * 0x9E3779B1 >> sk.sampleShift
}

// next returns the first x ≥ from where a secret might start with its
// first m bytes inside data, or, when there is none, len(data)-m+1 (or
// from, if larger): no secret starts before that and ends inside data.
func (sk *skipper) next(data []byte, from int) int {
	n, m := len(data), sk.m
	x := from
	for {
		end := n // the shift table's j stays below end
		if sk.sample != nil {
			x = sk.passSampled(data, x)
			// The block at x+m-1 is in the filter: the shift table looks
			// at the positions it covers, then sampling goes on.
			end = min(n, x+sk.stride+m-1)
		}
		if x > n-m {
			return max(from, n-m+1)
		}
		var found bool
		if x, found = sk.shiftFrom(data, x, end); found {
			return x
		}
	}
}

// passSampled returns the first x' ≥ x (in steps of the stride) whose
// window's last block is in the sampling filter: no secret starts in
// [x, x'). It may return more than len(data)-m.
func (sk *skipper) passSampled(data []byte, x int) int {
	set, shift, stride := sk.sample, sk.sampleShift, sk.stride
	j := x + sk.m - 1
	for j < len(data) {
		h := binary.LittleEndian.Uint32(data[j-3:]) * 0x9E3779B1 >> shift
		if set[h>>6]&(1<<(h&63)) != 0 {
			break
		}
		j += stride
	}
	return j - sk.m + 1
}

// shiftFrom runs the shift table from x while its block's end j < end:
// found is true when x' is a position where a secret might start;
// otherwise no secret starts in [x, x').
func (sk *skipper) shiftFrom(data []byte, x, end int) (int, bool) {
	m, shift := sk.m, sk.shift
	j := x + m - 1
	if sk.b == 3 {
		for j < end {
			s := shift[(uint32(data[j-2])<<16|uint32(data[j-1])<<8|uint32(data[j]))*0x9E3779B1>>16]
			if s == 0 {
				return j - m + 1, true
			}
			j += int(s)
		}
	} else {
		for j < end {
			s := shift[uint32(data[j-1])<<8|uint32(data[j])]
			if s == 0 {
				return j - m + 1, true
			}
			j += int(s)
		}
	}
	return j - m + 1, false
}
