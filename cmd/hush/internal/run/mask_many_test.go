package run

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"
)

// manySecrets makes n distinct secrets of 12 to 40 bytes from an alphabet
// shared with the filler text, as generated tokens and passwords are.
func manySecrets(r *rand.Rand, n int) [][]byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_/+="
	seen := map[string]bool{}
	var out [][]byte
	for len(out) < n {
		b := make([]byte, 12+r.Intn(29))
		for i := range b {
			b[i] = alphabet[r.Intn(len(alphabet))]
		}
		if !seen[string(b)] {
			seen[string(b)] = true
			out = append(out, b)
		}
	}
	return out
}

// With 1,000 secrets (and, with a tiny dense table, with every state
// beyond the root on trie edges and failure links), chunked masking equals
// the whole-input reference.
func TestMaskerManySecretsMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	secrets := manySecrets(r, 1000)
	// Secrets that overlap, nest and share prefixes with each other.
	secrets = append(secrets, []byte("abcdefghij"), []byte("abcd"), []byte("cdefgh"), []byte("ghijklmn"), []byte("hijk"))
	strs := make([]string, len(secrets))
	for i, s := range secrets {
		strs[i] = string(s)
	}
	for _, budget := range []int{denseBudget, 1} {
		t.Run(fmt.Sprint("budget ", budget), func(t *testing.T) {
			set := newAutomatonBudget(patternsOf(secrets), budget)
			for range 200 {
				input := []byte(randomInput(r, strs))
				var buf bytes.Buffer
				m := newMaskerWith(&buf, set)
				m.idle = 1 << 62
				for _, c := range randomChunks(intn{r}, input) {
					m.Write(c)
				}
				m.Close()
				if want := referenceMask(input, secrets); buf.String() != want {
					t.Fatalf("input %q:\n got %q\nwant %q", input, buf.String(), want)
				}
			}
		})
	}
}

// patternsOf is what newMaskSet gives the automaton for secrets without
// newlines or duplicates: those of 4 bytes or more.
func patternsOf(secrets [][]byte) [][]byte {
	var out [][]byte
	for _, s := range secrets {
		if len(s) >= minMaskLen {
			out = append(out, s)
		}
	}
	return out
}
