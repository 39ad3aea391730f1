package client

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
)

func testToken(t testing.TB) *Token {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := crypto.Random(32)
	g, _ := crypto.Random(32)
	h, _ := crypto.Random(32)
	return &Token{Server: "https://hush.example.com:8443", Team: wire.NewID(), TeamName: "acme", Device: wire.NewID(), Name: "ci-deploy",
		SignSeed: seed, Box: id.String(), Genesis: g, PinSeq: 7, PinHead: h, Expires: time.Unix(1900000000, 0).UTC()}
}

func TestTokenRoundTrip(t *testing.T) {
	tok := testToken(t)
	s := tok.String()
	if !strings.HasPrefix(s, TokenPrefix) || strings.ContainsAny(s, " \n\t=+/") {
		t.Fatalf("token is not one URL-safe line: %q", s)
	}
	got, err := ParseToken("  " + s + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, tok) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, tok)
	}
	tok.CA = []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	if got, err := ParseToken(tok.String()); err != nil || !reflect.DeepEqual(got, tok) {
		t.Fatalf("with a CA: %v", err)
	}
}

// A token cut at any point is named as cut short, and one with any
// character changed as damaged: never accepted, never another error.
func TestTokenDamage(t *testing.T) {
	s := testToken(t).String()
	for i := len(TokenPrefix); i < len(s); i++ {
		_, err := ParseToken(s[:i])
		if !errors.Is(err, ErrTokenTruncated) && !errors.Is(err, ErrTokenDamaged) {
			t.Fatalf("cut at %d: %v", i, err)
		}
		if i > len(TokenPrefix)+4 && !errors.Is(err, ErrTokenTruncated) {
			t.Fatalf("cut at %d of %d: %v, want cut short", i, len(s), err)
		}
	}
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for i := len(TokenPrefix); i < len(s); i++ {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, s[i])+1)%64], alphabet[(strings.IndexByte(alphabet, s[i])+37)%64], '!'} {
			b := []byte(s)
			b[i] = c
			_, err := ParseToken(string(b))
			if err == nil {
				t.Fatalf("character %d changed to %c: accepted", i, c)
			}
			if !errors.Is(err, ErrTokenDamaged) && !errors.Is(err, ErrTokenTruncated) {
				t.Fatalf("character %d changed to %c: %v", i, c, err)
			}
		}
	}
	if _, err := ParseToken(s + "AA"); !errors.Is(err, ErrTokenDamaged) {
		t.Fatalf("extra characters: %v", err)
	}
	if _, err := ParseToken("hush-invite-1.abc"); !errors.Is(err, ErrNotToken) {
		t.Fatalf("an invitation: %v", err)
	}
	if _, err := ParseToken("hush_m2_abc"); err == nil || !strings.Contains(err.Error(), "newer format") {
		t.Fatalf("a newer token: %v", err)
	}
}

// Fields: an unknown tag (a newer hush's, such as the scopes) is refused;
// so are a missing field and a bad server address, with the checksum
// right.
func TestTokenFields(t *testing.T) {
	tok := testToken(t)
	build := func(extra []byte, drop byte) string {
		s := tok.String()
		b := tokenBytes(t, s)
		f := b[2 : len(b)-4]
		var out []byte
		for len(f) > 0 {
			tag, l := f[0], int(f[1]) // all test fields are under 128 bytes
			if tag != drop {
				out = append(out, f[:2+l]...)
			}
			f = f[2+l:]
		}
		out = append(out, extra...)
		return encodeToken(out)
	}
	for _, c := range []struct {
		s, want string
	}{
		{build([]byte{14, 1, 0}, 0), "field 14 is unknown to this hush"},
		{build([]byte{13, 1, 0}, 0), "its scopes are not folder names"},
		{build(appendField(nil, tagScopes, []byte("app/prod\n/bad")), 0), "its scopes are not folder names"},
		{build(appendField(nil, tagScopes, []byte("app/prod\napp/prod")), 0), "its scopes are not folder names"},
		{build(nil, tagBox), "field 6 is missing"},
		{build(appendField(nil, tagServer, []byte("http://evil.example.com")), tagServer), "plain http is allowed only to a loopback address"},
		{build(appendField(nil, tagName, []byte("x")), 0), "field 4 twice"},
	} {
		if _, err := ParseToken(c.s); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v, want %q", err, c.want)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	tok := testToken(f)
	f.Add(tok.String())
	f.Add(TokenPrefix)
	f.Add(TokenPrefix + "AAAA")
	f.Add(tok.String()[:40])
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		again, err := ParseToken(tok.String())
		if err != nil || !reflect.DeepEqual(again, tok) {
			t.Fatalf("a parsed token does not round-trip: %v", err)
		}
	})
}

func tokenBytes(t testing.TB, s string) []byte {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, TokenPrefix))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
