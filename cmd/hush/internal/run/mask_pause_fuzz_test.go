package run

import (
	"bytes"
	randv2 "math/rand/v2"
	"strings"
	"testing"
)

// FuzzMaskerPauses: like FuzzMasker, with the output pausing (the idle
// flush firing) after some of the writes. Whatever the pauses, the output
// is the whole-input parse (leftmost, longest) with each secret replaced
// by at most its first maxShown bytes and then Concealed.
func FuzzMaskerPauses(f *testing.F) {
	f.Add([]byte("abcd\x00abcdefgh\x00xxabcdefghyy xxabcdzz"), uint16(3), uint64(0xff))
	f.Add([]byte("aaaa\x00aaaaaa\x00aaaaaaaaaaaaaaa"), uint16(1), uint64(0x5555))
	f.Add([]byte("postgres://u:pw@db\x00url=postgres://u:pw@db/x"), uint16(7), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint16, pauses uint64) {
		fields := bytes.Split(data, []byte{0})
		secrets := fields[:len(fields)-1]
		if len(secrets) > 6 {
			secrets = secrets[:6]
		}
		r := randv2.New(randv2.NewPCG(uint64(split), uint64(len(data))))
		var buf syncBuffer
		m := newQuietMasker(&buf, secrets)
		for i, c := range randomChunks(r, data) {
			m.Write(c)
			if pauses>>(i%64)&1 == 1 {
				m.onIdle()
			}
		}
		m.Close()
		if want := pausedReference(data, secrets); !matchesPaused(buf.String(), want) {
			t.Fatalf("secrets %q, pauses %b:\n got %q\nwant %+v", secrets, pauses, buf.String(), want)
		}
	})
}

// pausedPart is a piece of the expected output: plain text, or a secret
// that shows as up to maxShown of its first bytes and then Concealed.
type pausedPart struct {
	plain  string
	secret string
}

// pausedReference is what masking data may give when the output pauses:
// the leftmost-longest parse of the whole input, in parts.
func pausedReference(data []byte, secrets [][]byte) []pausedPart {
	var patterns [][]byte
	for _, s := range secrets {
		if len(s) >= minMaskLen {
			patterns = append(patterns, s)
		}
		if len(s) >= minMaskLen && bytes.Contains(s, []byte("\n")) {
			patterns = append(patterns, bytes.ReplaceAll(bytes.ReplaceAll(s, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		}
	}
	var parts []pausedPart
	plain := 0
	for i := 0; i < len(data); {
		l := 0
		for _, p := range patterns {
			if len(p) > l && bytes.HasPrefix(data[i:], p) {
				l = len(p)
			}
		}
		if l == 0 {
			i++
			continue
		}
		parts = append(parts, pausedPart{plain: string(data[plain:i])}, pausedPart{secret: string(data[i : i+l])})
		i += l
		plain = i
	}
	return append(parts, pausedPart{plain: string(data[plain:])})
}

// matchesPaused reports whether out is parts with each secret shown as up
// to maxShown of its first bytes and then Concealed.
func matchesPaused(out string, parts []pausedPart) bool {
	if len(parts) == 0 {
		return out == ""
	}
	p := parts[0]
	if p.secret == "" {
		rest, ok := strings.CutPrefix(out, p.plain)
		return ok && matchesPaused(rest, parts[1:])
	}
	for k := 0; k <= min(maxShown, len(p.secret)); k++ {
		if rest, ok := strings.CutPrefix(out, p.secret[:k]+Concealed); ok && matchesPaused(rest, parts[1:]) {
			return true
		}
	}
	return false
}
