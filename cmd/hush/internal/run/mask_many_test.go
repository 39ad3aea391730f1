package run

import (
	"bytes"
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

// With 1,000 secrets, chunked masking equals the whole-input reference.
func TestMaskerManySecretsMatchReference(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	secrets := manySecrets(r, 1000)
	// Secrets that overlap, nest and share prefixes with each other.
	secrets = append(secrets, []byte("abcdefghij"), []byte("abcd"), []byte("cdefgh"), []byte("ghijklmn"), []byte("hijk"))
	strs := make([]string, len(secrets))
	for i, s := range secrets {
		strs[i] = string(s)
	}
	set := newMaskSet(secrets)
	for range 400 {
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
}
