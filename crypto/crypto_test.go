package crypto

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The vector is the reference implementation's answer (Debian's argon2 CLI,
// phc-winner-argon2), so this checks our parameters reach Argon2id as meant.
func TestDeriveKeyKnownAnswer(t *testing.T) {
	for _, tc := range []struct {
		pass, salt string
		p          KDFParams
		want       string
	}{
		{"correct horse battery staple", "hush-kat-salt-0123456789abcdef", KDFParams{MemoryKiB: 32768, Passes: 2, Lanes: 1},
			"bcc7a1061bcd8c887db9eb691617050758bc78b3bbbcabad638d01ba334661c9"},
		{"password", "somesaltsomesalt", DefaultKDF,
			"81db97a7e67a891784a2599bc879f957cb3512d273984bd97d8a18fc59ff01e2"},
	} {
		k, err := DeriveKey([]byte(tc.pass), []byte(tc.salt), tc.p)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(k[:]); got != tc.want {
			t.Errorf("DeriveKey(%q, %s) = %s, want %s", tc.pass, tc.p, got, tc.want)
		}
	}
}

func TestKDFFloorAndCeiling(t *testing.T) {
	bad := []KDFParams{
		{MemoryKiB: 19*1024 - 1, Passes: 2, Lanes: 1},
		{MemoryKiB: 64 * 1024, Passes: 1, Lanes: 4},
		{MemoryKiB: 64 * 1024, Passes: 3, Lanes: 0},
		{MemoryKiB: 8 * 1024 * 1024, Passes: 3, Lanes: 4},
		{MemoryKiB: 64 * 1024, Passes: 1000, Lanes: 4},
		// issue 15: a header asking for 4 GiB and 64 passes was accepted.
		{MemoryKiB: 4 * 1024 * 1024, Passes: 64, Lanes: 4},
		{MemoryKiB: 1024*1024 + 1, Passes: 2, Lanes: 4},
		{MemoryKiB: 1024 * 1024, Passes: 5, Lanes: 4},
		{MemoryKiB: 64 * 1024, Passes: 65, Lanes: 4},
		{MemoryKiB: 64 * 1024, Passes: 3, Lanes: 17},
	}
	for _, p := range []KDFParams{{MemoryKiB: 1024 * 1024, Passes: 4, Lanes: 16}, {MemoryKiB: 64 * 1024, Passes: 64, Lanes: 4}} {
		if err := p.Validate(); err != nil {
			t.Errorf("Validate(%+v) refused parameters at the documented ceiling: %v", p, err)
		}
	}
	for _, p := range bad {
		if err := p.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted parameters it must refuse", p)
		}
		if _, err := DeriveKey([]byte("x"), make([]byte, SaltSize), p); err == nil {
			t.Errorf("DeriveKey(%+v) derived with parameters it must refuse", p)
		}
	}
	if err := FloorKDF.Validate(); err != nil {
		t.Errorf("the floor itself must be accepted: %v", err)
	}
	if err := DefaultKDF.Validate(); err != nil {
		t.Errorf("the default must be accepted: %v", err)
	}
	if !errors.Is((&KDFParams{MemoryKiB: 1024, Passes: 1, Lanes: 1}).Validate(), ErrWeakKDF) {
		t.Error("weak parameters must be reported as ErrWeakKDF")
	}
}

// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
func TestSealKnownAnswer(t *testing.T) {
	key, _ := KeyFromBytes(unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
	nonce := unhex(t, "404142434445464748494a4b4c4d4e4f5051525354555657")
	ad := unhex(t, "50515253c0c1c2c3c4c5c6c7")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	want := "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e" +
		"c0875924c1c7987947deafd8780acf49"
	got, err := sealWithNonce(key, nonce, pt, ad)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(got[len(nonce):]) != want {
		t.Fatalf("ciphertext mismatch:\n got %x\nwant %s", got[len(nonce):], want)
	}
	back, err := Open(key, got, ad)
	if err != nil || !bytes.Equal(back, pt) {
		t.Fatalf("Open of the known answer failed: %v", err)
	}
}

// RFC 5869, test case 1 (the first 32 bytes of its OKM).
func TestSubkeyKnownAnswer(t *testing.T) {
	ikm := bytes.Repeat([]byte{0x0b}, 22)
	salt := unhex(t, "000102030405060708090a0b0c")
	info := string(unhex(t, "f0f1f2f3f4f5f6f7f8f9"))
	got := deriveSubkey(ikm, salt, info)
	if want := "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"; hex.EncodeToString(got[:]) != want {
		t.Fatalf("HKDF = %x, want %s", got[:], want)
	}
}

// RFC 4231, test case 2: HMAC pads a short key with zeros, so "Jefe" in a
// 32-byte key gives the published answer.
func TestMACKnownAnswer(t *testing.T) {
	var k Key
	copy(k[:], "Jefe")
	got := k.MAC([]byte("what do ya want for nothing?"))
	if want := "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; hex.EncodeToString(got) != want {
		t.Fatalf("HMAC = %x, want %s", got, want)
	}
}

func TestSealOpenRejectsAnyChange(t *testing.T) {
	k, _ := NewKey()
	other, _ := NewKey()
	ad := AD("vault", []byte{1, 2}, "value", 3)
	sealed, err := Seal(k, []byte("s3cret"), ad)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := Open(k, sealed, ad); err != nil || string(got) != "s3cret" {
		t.Fatalf("round trip failed: %q %v", got, err)
	}
	for i := range sealed {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		if _, err := Open(k, c, ad); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipping byte %d: err = %v, want ErrDecrypt", i, err)
		}
	}
	if _, err := Open(other, sealed, ad); !errors.Is(err, ErrDecrypt) {
		t.Fatal("opened under the wrong key")
	}
	if _, err := Open(k, sealed, AD("vault", []byte{1, 2}, "value", 4)); !errors.Is(err, ErrDecrypt) {
		t.Fatal("opened with other associated data")
	}
	if _, err := Open(k, sealed[:10], ad); !errors.Is(err, ErrDecrypt) {
		t.Fatal("opened a truncated ciphertext")
	}
	again, _ := Seal(k, []byte("s3cret"), ad)
	if bytes.Equal(again, sealed) {
		t.Fatal("two seals of one plaintext are equal: nonce reuse")
	}
}

func TestADIsUnambiguous(t *testing.T) {
	if bytes.Equal(AD("ab", "c"), AD("a", "bc")) {
		t.Fatal("AD(ab,c) == AD(a,bc)")
	}
	if bytes.Equal(AD("x", 1), AD("x", 2)) {
		t.Fatal("versions not distinguished")
	}
}

func TestSubkeysDiffer(t *testing.T) {
	k, _ := NewKey()
	a := k.Subkey([]byte("vault"), "hush/v1/value")
	b := k.Subkey([]byte("vault"), "hush/v1/name")
	c := k.Subkey([]byte("other"), "hush/v1/value")
	if *a == *b || *a == *c || *a == *k {
		t.Fatal("subkeys for different purposes or vaults must differ")
	}
	k.Wipe()
	if *k != (Key{}) {
		t.Fatal("Wipe left key material")
	}
}

func BenchmarkDeriveKeyDefault(b *testing.B) {
	salt := make([]byte, SaltSize)
	for b.Loop() {
		if _, err := DeriveKey([]byte("correct horse battery staple"), salt, DefaultKDF); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal1KiB(b *testing.B) {
	k, _ := NewKey()
	pt := make([]byte, 1024)
	ad := AD("hush/v1", "value", 1)
	b.SetBytes(1024)
	for b.Loop() {
		Seal(k, pt, ad)
	}
}
