package run

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// skipTestSecrets makes n secrets of minLen to minLen+30 bytes from the
// filler's alphabet, some sharing long prefixes, so that sampled blocks
// are often present and the shift table has to decide.
func skipTestSecrets(r *rand.Rand, n, minLen int) [][]byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var out [][]byte
	for len(out) < n {
		b := make([]byte, minLen+r.Intn(31))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		if len(out) > 0 && r.Intn(4) == 0 {
			prev := out[r.Intn(len(out))]
			copy(b, prev[:min(len(prev), len(b))-1])
		}
		out = append(out, b)
	}
	return out
}

// skipTestInput mixes secrets, their beginnings and ends, and filler made
// of the same alphabet, several KB long.
func skipTestInput(r *rand.Rand, secrets [][]byte) []byte {
	var b bytes.Buffer
	for b.Len() < 8<<10 {
		s := secrets[r.Intn(len(secrets))]
		switch r.Intn(5) {
		case 0:
			b.Write(s)
		case 1:
			b.Write(s[:r.Intn(len(s))])
		case 2:
			b.Write(s[r.Intn(len(s)):])
		default:
			for range r.Intn(200) {
				b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789 \n"[r.Intn(38)])
			}
		}
	}
	return b.Bytes()
}

// The skipper never passes over a position where a secret's first m bytes
// begin, whatever the shortest secret's length (sampling or not).
func TestSkipperNeverPassesASecret(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, minLen := range []int{4, 5, 7, 8, 9, 13, 32, 64, 100} {
		for _, n := range []int{1, 30, 1000} {
			secrets := skipTestSecrets(r, n, minLen)
			sk := newMaskSet(secrets).skip
			if (sk.sample != nil) != (sk.m >= minSampleWindow) {
				t.Fatalf("m=%d: sampling filter present: %v", sk.m, sk.sample != nil)
			}
			starts := map[string]bool{}
			for _, s := range secrets {
				starts[string(s[:sk.m])] = true
			}
			for range 20 {
				data := skipTestInput(r, secrets)
				for from := 0; from < len(data); from += 1 + r.Intn(50) {
					next := sk.next(data, from)
					if next < from {
						t.Fatalf("min %d, %d secrets: next(%d) = %d", minLen, n, from, next)
					}
					for x := from; x < next && x+sk.m <= len(data); x++ {
						if starts[string(data[x:x+sk.m])] {
							t.Fatalf("min %d, %d secrets: next(%d) = %d passes over a secret at %d", minLen, n, from, next, x)
						}
					}
				}
			}
		}
	}
}

// Masking in large pieces (where sampling does the skipping) equals the
// whole-input reference.
func TestMaskerLargeWritesMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, minLen := range []int{8, 13, 40, 70} {
		for _, n := range []int{1, 1000} {
			secrets := skipTestSecrets(r, n, minLen)
			set := newMaskSet(secrets)
			t.Run(fmt.Sprintf("min=%d/n=%d", minLen, n), func(t *testing.T) {
				for range 20 {
					input := skipTestInput(r, secrets)
					var buf bytes.Buffer
					m := newMaskerWith(&buf, set)
					m.idle = 1 << 62
					for p := input; len(p) > 0; {
						k := min(len(p), 1+r.Intn(4<<10))
						m.Write(p[:k])
						p = p[k:]
					}
					m.Close()
					if want := referenceMask(input, secrets); buf.String() != want {
						t.Fatalf("masked output differs from the reference (input %d bytes)", len(input))
					}
				}
			})
		}
	}
}
