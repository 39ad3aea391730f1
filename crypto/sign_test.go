package crypto

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

// SignEd25519 must give exactly crypto/ed25519's signature: team servers
// and members verify hush's signatures with crypto/ed25519.Verify.
func TestSignEd25519IsStdlibs(t *testing.T) {
	for i := range 200 {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		msg := make([]byte, i*7)
		rand.Read(msg)
		priv := ed25519.NewKeyFromSeed(seed)
		if !bytes.Equal(Ed25519PrivateKey(seed), priv) {
			t.Fatalf("seed %x: private key %x, crypto/ed25519 gives %x", seed, Ed25519PrivateKey(seed), priv)
		}
		got, want := SignEd25519(seed, msg), ed25519.Sign(priv, msg)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %x, %d-byte message: signature %x, crypto/ed25519 gives %x", seed, len(msg), got, want)
		}
		if !ed25519.Verify(priv.Public().(ed25519.PublicKey), msg, got) {
			t.Fatal("the signature does not verify")
		}
	}
}

// RFC 8032, section 7.1, TEST 3.
func TestSignEd25519KnownAnswer(t *testing.T) {
	seed := unhex(t, "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")
	want := unhex(t, "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")
	if got := SignEd25519(seed, []byte{0xaf, 0x82}); !bytes.Equal(got, want) {
		t.Fatalf("RFC 8032 test 3: %x, want %x", got, want)
	}
}

func FuzzSignEd25519IsStdlibs(f *testing.F) {
	f.Add(make([]byte, 32), []byte("hush"))
	f.Fuzz(func(t *testing.T, seed, msg []byte) {
		if len(seed) != ed25519.SeedSize {
			return
		}
		if got, want := SignEd25519(seed, msg), ed25519.Sign(ed25519.NewKeyFromSeed(seed), msg); !bytes.Equal(got, want) {
			t.Fatalf("signature %x, crypto/ed25519 gives %x", got, want)
		}
	})
}

// SignEd25519Many must give exactly crypto/ed25519's signature, for any
// key and message (deterministic signatures: anything else is a bug).
func TestSignEd25519ManyIsStdlibs(t *testing.T) {
	for i := range 300 {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		msg := make([]byte, i*5)
		rand.Read(msg)
		priv := ed25519.NewKeyFromSeed(seed)
		got, want := SignEd25519Many(priv, msg), ed25519.Sign(priv, msg)
		if !bytes.Equal(got, want) {
			t.Fatalf("seed %x, %d-byte message: signature %x, crypto/ed25519 gives %x", seed, len(msg), got, want)
		}
	}
	// RFC 8032, section 7.1, TEST 3.
	seed := unhex(t, "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7")
	want := unhex(t, "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a")
	if got := SignEd25519Many(ed25519.NewKeyFromSeed(seed), []byte{0xaf, 0x82}); !bytes.Equal(got, want) {
		t.Fatalf("RFC 8032 test 3: %x, want %x", got, want)
	}
}

func FuzzSignEd25519ManyIsStdlibs(f *testing.F) {
	f.Add(make([]byte, 32), []byte("hush"))
	f.Fuzz(func(t *testing.T, seed, msg []byte) {
		if len(seed) != ed25519.SeedSize {
			return
		}
		priv := ed25519.NewKeyFromSeed(seed)
		if got, want := SignEd25519Many(priv, msg), ed25519.Sign(priv, msg); !bytes.Equal(got, want) {
			t.Fatalf("signature %x, crypto/ed25519 gives %x", got, want)
		}
	})
}

func BenchmarkSignEd25519(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	msg := bytes.Repeat([]byte("m"), 150)
	b.Run("crypto-ed25519", func(b *testing.B) {
		for b.Loop() {
			ed25519.Sign(priv, msg)
		}
	})
	b.Run("many", func(b *testing.B) {
		for b.Loop() {
			SignEd25519Many(priv, msg)
		}
	})
}
