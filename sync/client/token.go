package client

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// A machine token is everything a machine needs to read its team with no
// vault and no passphrase: its device's private keys and the team binding
// an invitation carries (server, team, the log's first entry and the
// entry that added the machine, which the machine's view must pass
// through). It is one line:
//
//	hush_m1_<base64url, no padding>
//
// of: a 2-byte length L, L bytes of fields, and a CRC-32 (IEEE) of
// "hush_m1_" and the L+2 bytes before it, as GitHub's tokens end in a
// CRC-32 of what precedes them. The length tells a token cut short from a
// mistyped one (the checksum). Each field is a tag byte, a uvarint length
// and the value; a tag this build does not know is refused (a newer hush
// made the token), so fields can be added (tag 13, the folders of the
// scopes a machine holds, came with folder scopes) without an old hush
// reading a token it cannot honour.
//
// The token is a credential: whoever holds it reads what the machine may
// read, until it expires or the machine is removed.
type Token struct {
	Server   string
	CA       []byte // PEM roots for a self-signed server; may be empty
	Team     string
	TeamName string
	Device   string // the machine's device id
	Name     string // the machine's name (its member and device name)
	SignSeed []byte // Ed25519 seed
	Box      string // age X25519 identity (AGE-SECRET-KEY-1...)
	Genesis  []byte // hash of the log's first entry
	PinSeq   int64  // the machine's own entry
	PinHead  []byte
	Expires  time.Time
	// Scopes: the folders of the scopes the machine holds (none: the
	// root, the whole team). Names are refused outside them before any
	// request; its sync checks that the log gives it exactly these.
	Scopes []string
}

// TokenPrefix starts every machine token of this format.
const TokenPrefix = "hush_m1_"

// MaxToken bounds a token's length (a CA certificate is most of it).
const MaxToken = 16 << 10

const (
	tagServer = 1 + iota
	tagTeam
	tagDevice
	tagName
	tagSignSeed
	tagBox
	tagGenesis
	tagPinSeq
	tagPinHead
	tagExpires
	tagTeamName
	tagCA
	tagScopes // the folders of the machine's scopes, one a line
)

// Errors of ParseToken, for callers that tell them apart.
var (
	ErrNotToken       = errors.New("this is not a hush machine token (one starts with " + TokenPrefix + ")")
	ErrTokenTruncated = errors.New("the machine token is cut short: copy it again, whole, as one line")
	ErrTokenDamaged   = errors.New("the machine token is damaged (its checksum does not match): a character was changed or mistyped; copy it again")
)

func appendField(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// String is the token's one-line form.
func (t *Token) String() string {
	var f []byte
	f = appendField(f, tagServer, []byte(t.Server))
	f = appendField(f, tagTeam, mustHex(t.Team))
	f = appendField(f, tagDevice, mustHex(t.Device))
	f = appendField(f, tagName, []byte(t.Name))
	f = appendField(f, tagSignSeed, t.SignSeed)
	f = appendField(f, tagBox, []byte(t.Box))
	f = appendField(f, tagGenesis, t.Genesis)
	f = appendField(f, tagPinSeq, binary.AppendUvarint(nil, uint64(t.PinSeq)))
	f = appendField(f, tagPinHead, t.PinHead)
	f = appendField(f, tagExpires, binary.AppendUvarint(nil, uint64(t.Expires.Unix())))
	if t.TeamName != "" {
		f = appendField(f, tagTeamName, []byte(t.TeamName))
	}
	if len(t.CA) > 0 {
		f = appendField(f, tagCA, t.CA)
	}
	if len(t.Scopes) > 0 {
		f = appendField(f, tagScopes, []byte(strings.Join(t.Scopes, "\n")))
	}
	return encodeToken(f)
}

func tokenSum(b []byte) uint32 {
	return crc32.Update(crc32.ChecksumIEEE([]byte(TokenPrefix)), crc32.IEEETable, b)
}

func mustHex(s string) []byte {
	b, _ := hex.DecodeString(s) // ids are checked where they are made
	return b
}

// ParseToken reads a machine token: ErrNotToken, ErrTokenTruncated or
// ErrTokenDamaged (wrapped, with details) for what a person can fix by
// copying it again; another error for a token that checks out but does
// not hold what a machine token holds.
func ParseToken(s string) (*Token, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, TokenPrefix) {
		if strings.HasPrefix(s, "hush_m") {
			return nil, errors.New("this machine token is of a newer format than this hush reads: upgrade hush")
		}
		return nil, ErrNotToken
	}
	body := s[len(TokenPrefix):]
	if len(s) > MaxToken {
		return nil, fmt.Errorf("%w: it is longer than any machine token (%d characters)", ErrTokenDamaged, len(s))
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return nil, fmt.Errorf("%w: character %d cannot be in a token", ErrTokenDamaged, len(TokenPrefix)+i+1)
		}
	}
	// A token cut at any character still decodes up to its last whole byte.
	if len(body)%4 == 1 {
		body = body[:len(body)-1]
	}
	// Lenient first, to tell a token cut short (its length says more)...
	b, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTokenDamaged, err)
	}
	if len(b) < 2 {
		return nil, ErrTokenTruncated
	}
	n := int(binary.BigEndian.Uint16(b))
	switch {
	case len(b) < 2+n+4:
		return nil, ErrTokenTruncated
	case len(b) > 2+n+4:
		return nil, fmt.Errorf("%w: it has characters after its end", ErrTokenDamaged)
	case binary.BigEndian.Uint32(b[2+n:]) != tokenSum(b[:2+n]):
		return nil, ErrTokenDamaged
	}
	// ...then strict: the last character's unused bits are zero, so that
	// no character can change without being noticed.
	if _, err := base64.RawURLEncoding.Strict().DecodeString(body); err != nil {
		return nil, ErrTokenDamaged
	}
	t, err := parseTokenFields(b[2 : 2+n])
	if err != nil {
		return nil, fmt.Errorf("the machine token is not valid: %v (made by another program?)", err)
	}
	return t, nil
}

func parseTokenFields(f []byte) (*Token, error) {
	seen := map[byte]bool{}
	t := &Token{}
	for len(f) > 0 {
		tag := f[0]
		l, k := binary.Uvarint(f[1:])
		if k <= 0 || l > uint64(len(f)-1-k) {
			return nil, errors.New("a field runs past its end")
		}
		v := f[1+k : 1+k+int(l)]
		f = f[1+k+int(l):]
		if seen[tag] {
			return nil, fmt.Errorf("field %d twice", tag)
		}
		seen[tag] = true
		fixed := func(n int) error {
			if len(v) != n {
				return fmt.Errorf("field %d has %d bytes, not %d", tag, len(v), n)
			}
			return nil
		}
		var err error
		switch tag {
		case tagServer:
			t.Server = string(v)
		case tagTeam:
			if err = fixed(16); err == nil {
				t.Team = hex.EncodeToString(v)
			}
		case tagDevice:
			if err = fixed(16); err == nil {
				t.Device = hex.EncodeToString(v)
			}
		case tagName:
			t.Name = string(v)
		case tagSignSeed:
			if err = fixed(ed25519.SeedSize); err == nil {
				t.SignSeed = v
			}
		case tagBox:
			t.Box = string(v)
		case tagGenesis:
			if err = fixed(32); err == nil {
				t.Genesis = v
			}
		case tagPinSeq, tagExpires:
			n, k := binary.Uvarint(v)
			if k != len(v) || n > 1<<62 {
				return nil, fmt.Errorf("field %d is not a number", tag)
			}
			if tag == tagPinSeq {
				t.PinSeq = int64(n)
			} else {
				t.Expires = time.Unix(int64(n), 0).UTC()
			}
		case tagPinHead:
			if err = fixed(32); err == nil {
				t.PinHead = v
			}
		case tagTeamName:
			t.TeamName = string(v)
		case tagCA:
			t.CA = v
		case tagScopes:
			for _, f := range strings.Split(string(v), "\n") {
				c, err := vault.CleanFolder(f)
				if err != nil || c == "" || c != f || slices.Contains(t.Scopes, f) || len(t.Scopes) >= wire.MaxScopes {
					return nil, errors.New("its scopes are not folder names")
				}
				t.Scopes = append(t.Scopes, f)
			}
		default:
			return nil, fmt.Errorf("field %d is unknown to this hush (upgrade hush)", tag)
		}
		if err != nil {
			return nil, err
		}
	}
	for tag := byte(tagServer); tag <= tagExpires; tag++ {
		if !seen[tag] {
			return nil, fmt.Errorf("field %d is missing", tag)
		}
	}
	if t.PinSeq < 2 {
		return nil, errors.New("it names no entry of the team's log")
	}
	st, err := t.state()
	if err != nil {
		return nil, err
	}
	if len(t.TeamName) > 64 || strings.ContainsFunc(t.TeamName, isControl) {
		return nil, errors.New("the team's name is not printable")
	}
	if _, err := CheckServerURL(st.Server); err != nil {
		return nil, err
	}
	return t, nil
}

func isControl(r rune) bool { return r < 0x20 || (r >= 0x7f && r < 0xa0) }

// state is the team state a machine works from: its identity, the team
// binding, no key yet (a sync fetches it).
func (t *Token) state() (*State, error) {
	id, err := age.ParseX25519Identity(t.Box)
	if err != nil {
		return nil, errors.New("its box key is not an age identity")
	}
	st := &State{Server: t.Server, CA: t.CA, Team: t.Team, TeamName: t.TeamName, SignSeed: t.SignSeed, BoxIdentity: t.Box,
		Keys: map[int64][]byte{}, Genesis: t.Genesis, PinSeq: t.PinSeq, PinHead: t.PinHead}
	st.Device = wire.Device{ID: t.Device, Name: t.Name, Member: t.Name,
		SignKey: ed25519.NewKeyFromSeed(t.SignSeed).Public().(ed25519.PublicKey), Box: id.Recipient().String()}
	if err := st.Device.Check(); err != nil {
		return nil, err
	}
	return st, nil
}

// encodeToken frames fields: length, fields, checksum.
func encodeToken(fields []byte) string {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(fields)))
	b = append(b, fields...)
	b = binary.BigEndian.AppendUint32(b, tokenSum(b))
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b)
}
