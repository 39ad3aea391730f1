package kinds

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
)

var errNotEncryptionKey = errors.New("not an encryption key: expected 128, 192, 256 or 512 bits (raw, hex or base64)")

func keyLenOK(n int) bool {
	return n == 16 || n == 24 || n == 32 || n == 64
}

// inspectEncryptionKey reads the value, without surrounding white space,
// as hex first, then as base64, and only then takes it as raw bytes: 32 hex
// digits would also pass for 24 bytes of base64 or 32 raw bytes, and are
// far likelier to be meant as hex. Some values stay ambiguous (32 letters
// and digits are 24 bytes of base64 or 32 raw bytes); they get the first
// reading that fits.
func inspectEncryptionKey(value []byte) (*Info, error) {
	n, encoding := 0, ""
	text := bytes.TrimSpace(value)
	if len(text) <= 256 { // 512 bits in hex is 128 characters
		if b, err := hex.DecodeString(string(text)); err == nil && keyLenOK(len(b)) {
			n, encoding = len(b), "hex"
		} else if b, ok := decodeBase64(string(text)); ok && keyLenOK(len(b)) {
			n, encoding = len(b), "base64"
		}
	}
	if encoding == "" && keyLenOK(len(value)) {
		n, encoding = len(value), "raw"
	}
	if encoding == "" {
		return nil, errNotEncryptionKey
	}
	bits := n * 8
	return &Info{
		Kind:    "encryption-key",
		Summary: strconv.Itoa(bits) + "-bit key",
		Fields:  map[string]any{"bits": bits, "encoding": encoding},
	}, nil
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}
