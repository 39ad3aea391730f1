package crypto

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// stdlibVerify is crypto/ed25519.Verify, without its panic on a
// wrong-sized key (VerifyEd25519 says false there).
func stdlibVerify(pub, msg, sig []byte) bool {
	return len(pub) == ed25519.PublicKeySize && ed25519.Verify(pub, msg, sig)
}

// readVectors decodes a gzipped JSON file of testdata/ed25519 into v.
func readVectors(t *testing.T, name string, v any) {
	t.Helper()
	f, err := os.Open("testdata/ed25519/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.NewDecoder(z).Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// sigCase is one public key, message and signature to decide.
type sigCase struct {
	name          string
	pub, msg, sig []byte
}

// edgeCases are the vectors of testdata/ed25519 (README.md there): small
// and mixed order keys and R, non-canonical encodings, S past the order,
// cofactored-only signatures.
func edgeCases(t *testing.T) []sigCase {
	t.Helper()
	unhex := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var out []sigCase
	var cctv []struct{ A, R, S, M string }
	readVectors(t, "ed25519vectors.json.gz", &cctv)
	for i, v := range cctv {
		out = append(out, sigCase{"cctv " + itoa(i), unhex(v.A), []byte(v.M), append(unhex(v.R), unhex(v.S)...)})
	}
	var spec []struct {
		Message string `json:"message"`
		PubKey  string `json:"pub_key"`
		Sig     string `json:"signature"`
	}
	readVectors(t, "speccheck_cases.json.gz", &spec)
	for i, v := range spec {
		out = append(out, sigCase{"speccheck " + itoa(i), unhex(v.PubKey), unhex(v.Message), unhex(v.Sig)})
	}
	var zip215 [][2]string
	readVectors(t, "zip215.json.gz", &zip215)
	for i, v := range zip215 {
		out = append(out, sigCase{"zip215 " + itoa(i), unhex(v[0]), []byte("Zcash"), unhex(v[1])})
	}
	return out
}

func itoa(i int) string {
	return string(rune('0'+i/1000%10)) + string(rune('0'+i/100%10)) + string(rune('0'+i/10%10)) + string(rune('0'+i%10))
}

// Team servers and members decide on the same signatures with
// VerifyEd25519 and, in older hush releases, crypto/ed25519.Verify: a
// signature one takes and the other refuses would let a hostile member
// store what teammates refuse. Every edge case must get crypto/ed25519's
// verdict, and the vectors must hold both verdicts (else they test
// nothing).
func TestVerifyEd25519IsStdlibs(t *testing.T) {
	cases := edgeCases(t)
	t.Logf("%d vectors", len(cases))
	if len(cases) < 500 {
		t.Fatalf("only %d vectors read", len(cases))
	}
	verdicts := map[bool]int{}
	for _, c := range cases {
		want := stdlibVerify(c.pub, c.msg, c.sig)
		verdicts[want]++
		// Twice: the second check of a key uses its kept expanded form.
		for range 2 {
			if got := VerifyEd25519(c.pub, c.msg, c.sig); got != want {
				t.Errorf("%s (key %x, signature %x): VerifyEd25519 says %v, crypto/ed25519 %v", c.name, c.pub, c.sig, got, want)
			}
		}
	}
	if verdicts[true] < 20 || verdicts[false] < 20 {
		t.Fatalf("the vectors hold %d good and %d bad signatures: not a test of both verdicts", verdicts[true], verdicts[false])
	}
}

// Honest signatures verify; any one bit flipped in the key, the message
// or the signature is refused, as crypto/ed25519 refuses it.
func TestVerifyEd25519Flips(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("hush/v1/record-signature, and what it covers")
	sig := ed25519.Sign(priv, msg)
	if !VerifyEd25519(pub, msg, sig) {
		t.Fatal("an honest signature does not verify")
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i/8] ^= 1 << (i % 8)
		return c
	}
	for i := range len(pub) * 8 {
		p := flip(pub, i)
		if got, want := VerifyEd25519(p, msg, sig), stdlibVerify(p, msg, sig); got != want || got {
			t.Fatalf("key bit %d flipped: VerifyEd25519 %v, crypto/ed25519 %v", i, got, want)
		}
	}
	for i := range len(msg) * 8 {
		if VerifyEd25519(pub, flip(msg, i), sig) {
			t.Fatalf("message bit %d flipped: verifies", i)
		}
	}
	for i := range len(sig) * 8 {
		s := flip(sig, i)
		if got, want := VerifyEd25519(pub, msg, s), stdlibVerify(pub, msg, s); got != want || got {
			t.Fatalf("signature bit %d flipped: VerifyEd25519 %v, crypto/ed25519 %v", i, got, want)
		}
	}
	for _, bad := range [][]byte{nil, pub[:31], append(bytes.Clone(pub), 0)} {
		if VerifyEd25519(bad, msg, sig) {
			t.Fatalf("a %d-byte key verifies", len(bad))
		}
	}
	for _, bad := range [][]byte{nil, sig[:63], append(bytes.Clone(sig), 0)} {
		if VerifyEd25519(pub, msg, bad) {
			t.Fatalf("a %d-byte signature verifies", len(bad))
		}
	}
}

// The kept keys are bounded, and a key pushed out is expanded again
// (with the same verdicts) when it comes back.
func TestVerifyEd25519KeysBounded(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := []byte("m")
	sig := ed25519.Sign(priv, msg)
	if !VerifyEd25519(pub, msg, sig) {
		t.Fatal("does not verify")
	}
	other := make([]byte, ed25519.PublicKeySize)
	for i := range maxKeys + 10 {
		other[0], other[1], other[2] = byte(i), byte(i>>8), 0x42
		VerifyEd25519(other, msg, sig)
	}
	keys.mu.RLock()
	n := len(keys.m)
	keys.mu.RUnlock()
	if n > maxKeys {
		t.Fatalf("%d keys kept, at most %d", n, maxKeys)
	}
	if !VerifyEd25519(pub, msg, sig) || VerifyEd25519(pub, []byte("n"), sig) {
		t.Fatal("a key expanded again decides otherwise")
	}
}

func FuzzVerifyEd25519IsStdlibs(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f.Add([]byte(pub), []byte("hush"), ed25519.Sign(priv, []byte("hush")))
	f.Add(make([]byte, 32), []byte{}, make([]byte, 64))
	// A small-order key (the identity) and R, S = 0: crypto/ed25519 takes it.
	id := make([]byte, 32)
	id[0] = 1
	f.Add(id, []byte("Zcash"), append(bytes.Clone(id), make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, pub, msg, sig []byte) {
		if got, want := VerifyEd25519(pub, msg, sig), stdlibVerify(pub, msg, sig); got != want {
			t.Fatalf("key %x, message %x, signature %x: VerifyEd25519 %v, crypto/ed25519 %v", pub, msg, sig, got, want)
		}
	})
}

func BenchmarkVerifyEd25519(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := bytes.Repeat([]byte("m"), 150)
	sig := ed25519.Sign(priv, msg)
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Verify(pub, msg, sig)
		}
	})
	b.Run("hush", func(b *testing.B) {
		for b.Loop() {
			VerifyEd25519(pub, msg, sig)
		}
	})
}
