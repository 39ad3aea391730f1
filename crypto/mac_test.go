package crypto

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

func referenceMAC(k *Key, data []byte) []byte {
	m := hmac.New(sha256.New, k[:])
	m.Write(data)
	return m.Sum(nil)
}

// Key.MAC computes HMAC-SHA256 itself for short inputs (two one-shot sums
// on the stack): it must be crypto/hmac's answer at every length, on both
// sides of where it hands over to crypto/hmac. Lookup MACs are stored in
// every vault: a different answer would lose every secret.
func TestMACIsHMAC(t *testing.T) {
	k, _ := NewKey()
	data := make([]byte, 2*macStack+64)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for n := range len(data) {
		if got, want := k.MAC(data[:n]), referenceMAC(k, data[:n]); !bytes.Equal(got, want) {
			t.Fatalf("MAC of %d bytes = %x, crypto/hmac says %x", n, got, want)
		}
	}
}

func FuzzMACIsHMAC(f *testing.F) {
	f.Add(make([]byte, 32), []byte("name"))
	f.Add(bytes.Repeat([]byte{0xff}, 32), make([]byte, macStack+1))
	f.Fuzz(func(t *testing.T, key, data []byte) {
		var k Key
		copy(k[:], key)
		if got, want := k.MAC(data), referenceMAC(&k, data); !bytes.Equal(got, want) {
			t.Fatalf("MAC(%x) = %x, crypto/hmac says %x", data, got, want)
		}
	})
}

// referenceAD is AD as first written (one small allocation per part): the
// encoding is stored in every vault's ciphertexts and MACs, so the
// one-allocation AD must give exactly its bytes.
func referenceAD(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		var v []byte
		switch x := p.(type) {
		case []byte:
			v = x
		case string:
			v = []byte(x)
		case int:
			v = binary.BigEndian.AppendUint64(nil, uint64(x))
		case int64:
			v = binary.BigEndian.AppendUint64(nil, uint64(x))
		case uint32:
			v = binary.BigEndian.AppendUint64(nil, uint64(x))
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	return b
}

func TestADEncodingUnchanged(t *testing.T) {
	for _, parts := range [][]any{
		{},
		{"hush/v1/secret", []byte{1, 2, 3}, []byte{}, "value", 7, int64(-1), uint32(1 << 31)},
		{"", "", []byte(nil)},
		{int64(1) << 62, -5, uint32(0)},
	} {
		if got, want := AD(parts...), referenceAD(parts...); !bytes.Equal(got, want) {
			t.Fatalf("AD(%v) = %x, want %x", parts, got, want)
		}
	}
}

func FuzzADEncodingUnchanged(f *testing.F) {
	f.Add("hush/v1/secret", []byte("id"), int64(3), 2)
	f.Fuzz(func(t *testing.T, s string, b []byte, i64 int64, i int) {
		parts := []any{s, b, i64, i, uint32(i64), b, s}
		if got, want := AD(parts...), referenceAD(parts...); !bytes.Equal(got, want) {
			t.Fatalf("AD(%v) = %x, want %x", parts, got, want)
		}
	})
}

// Subkeys runs HKDF's extract once for several purposes: each key must be
// Subkey's, or every vault opens with wrong keys.
func TestSubkeysAreSubkey(t *testing.T) {
	k, _ := NewKey()
	purposes := []string{"hush/v1/name", "hush/v1/value", "", "hush/v1/row"}
	for _, salt := range [][]byte{nil, []byte("vault-id-16bytes"), bytes.Repeat([]byte{7}, 100)} {
		for i, sub := range k.Subkeys(salt, purposes...) {
			if *sub != *k.Subkey(salt, purposes[i]) {
				t.Fatalf("Subkeys(%x)[%q] differs from Subkey", salt, purposes[i])
			}
		}
	}
}
