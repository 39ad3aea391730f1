package vault

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"
)

// decodeMeta is json.Unmarshal(b, m) for a zero m, with a shortcut for
// the metadata hush writes for most secrets. encoding/json builds its
// decoder for Meta by reflection on first use, 70–170 µs in a fresh
// process: the largest single cost of a `hush get` after SQLite's (a
// quarter of its instructions, docs/benchmarks.md "a get on one P").
//
// The shortcut takes only input whose decoding cannot differ from
// encoding/json's (fastMeta); anything else, including every revocation,
// exposure and dynamic source, goes to encoding/json. FuzzDecodeMeta and
// TestDecodeMetaIsJSON compare the two.
func decodeMeta(b []byte, m *Meta) error {
	if fastMeta(b, m) {
		return nil
	}
	*m = Meta{}
	return json.Unmarshal(b, m)
}

// Which fields fastMeta has seen.
const (
	seenType = 1 << iota
	seenNote
	seenTags
	seenRotateEvery
	seenExpires
	seenRotator
	seenNotAfter
	seenSummary
	seenValueSince
)

// fastMeta decodes b into m and reports true when b is a JSON object
// without whitespace whose keys are distinct and each exactly one of
// type, note, rotator, summary (plain strings), rotate_every (an integer),
// expires, not_after, value_since (plain strings, read by
// time.Time.UnmarshalJSON as encoding/json does) and tags (an array of
// plain strings); a plain string has no backslash, no control character
// and is valid UTF-8, so its JSON decoding is its bytes. Otherwise it
// reports false, with m in any state.
func fastMeta(b []byte, m *Meta) bool {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	p := b[1 : len(b)-1]
	if len(p) == 0 {
		return true // {}
	}
	seen := 0
	for {
		key, rest, ok := plainString(p)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return false
		}
		p = rest[1:]
		var bit int
		switch string(key) {
		case "type":
			bit = seenType
		case "note":
			bit = seenNote
		case "tags":
			bit = seenTags
		case "rotate_every":
			bit = seenRotateEvery
		case "expires":
			bit = seenExpires
		case "rotator":
			bit = seenRotator
		case "not_after":
			bit = seenNotAfter
		case "summary":
			bit = seenSummary
		case "value_since":
			bit = seenValueSince
		default:
			return false
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		switch bit {
		case seenType, seenNote, seenRotator, seenSummary:
			s, rest, ok := plainString(p)
			if !ok {
				return false
			}
			p = rest
			switch bit {
			case seenType:
				m.Type = Type(s)
			case seenNote:
				m.Note = string(s)
			case seenRotator:
				m.Rotator = string(s)
			case seenSummary:
				m.Summary = string(s)
			}
		case seenExpires, seenNotAfter, seenValueSince:
			s, rest, ok := plainString(p)
			if !ok {
				return false
			}
			quoted := p[:len(s)+2]
			p = rest
			var t time.Time
			if t.UnmarshalJSON(quoted) != nil {
				return false
			}
			switch bit {
			case seenExpires:
				m.Expires = t
			case seenNotAfter:
				m.NotAfter = t
			case seenValueSince:
				m.ValueSince = t
			}
		case seenRotateEvery:
			n := jsonInteger(p)
			if n == 0 {
				return false
			}
			d, err := strconv.ParseInt(string(p[:n]), 10, 64)
			if err != nil {
				return false
			}
			m.RotateEvery = time.Duration(d)
			p = p[n:]
		case seenTags:
			if len(p) == 0 || p[0] != '[' {
				return false
			}
			p = p[1:]
			tags := []string{} // encoding/json makes [] an empty slice, not nil
			if len(p) > 0 && p[0] == ']' {
				p = p[1:]
			} else {
				for {
					s, rest, ok := plainString(p)
					if !ok || len(rest) == 0 {
						return false
					}
					tags = append(tags, string(s))
					p = rest[1:]
					if rest[0] == ']' {
						break
					}
					if rest[0] != ',' {
						return false
					}
				}
			}
			m.Tags = tags
		}
		if len(p) == 0 {
			return true
		}
		if p[0] != ',' {
			return false
		}
		p = p[1:]
	}
}

// plainString reads a JSON string at the start of p that holds no
// backslash, no control character and only valid UTF-8: its contents
// (without the quotes) and what follows it.
func plainString(p []byte) (s, rest []byte, ok bool) {
	if len(p) == 0 || p[0] != '"' {
		return nil, nil, false
	}
	end := bytes.IndexByte(p[1:], '"')
	if end < 0 {
		return nil, nil, false
	}
	s = p[1 : 1+end]
	for _, c := range s {
		if c < 0x20 || c == '\\' {
			return nil, nil, false
		}
	}
	if !utf8.Valid(s) {
		return nil, nil, false
	}
	return s, p[2+end:], true
}

// jsonInteger is the length of the JSON integer at the start of p
// (-?(0|[1-9][0-9]*)), or 0. What follows it is the caller's to check: a
// fraction or an exponent makes the object's next byte neither ',' nor
// its end.
func jsonInteger(p []byte) int {
	i := 0
	if i < len(p) && p[i] == '-' {
		i++
	}
	switch {
	case i < len(p) && p[i] == '0':
		return i + 1
	case i < len(p) && p[i] >= '1' && p[i] <= '9':
		i++
		for i < len(p) && p[i] >= '0' && p[i] <= '9' {
			i++
		}
		return i
	}
	return 0
}

// entryChanges is json.Unmarshal(js, &struct{ Changes int64 `json:"changes"` })
// for an audit entry's JSON: the vault's change counter it recorded. A
// shortcut reads the entries hush writes for a read (fastEntryChanges);
// anything else goes to encoding/json, whose reflection on first use cost
// a get about a tenth of its instructions.
func entryChanges(js []byte) (int64, error) {
	if n, ok := fastEntryChanges(js); ok {
		return n, nil
	}
	var e struct {
		Changes int64 `json:"changes"`
	}
	err := json.Unmarshal(js, &e)
	return e.Changes, err
}

// fastEntryChanges reads the changes field of js, and reports true, when
// js is a JSON object without whitespace whose keys are distinct and each
// exactly one of an audit entry's (seq, time, device, action, names,
// detail, result, changes), with integers for seq and changes, plain
// strings (plainString) for the others and an array of plain strings for
// names. Then js is valid JSON in which no key but "changes" matches the
// field, even ignoring case, and encoding/json reads exactly that value
// (0 when it is absent).
func fastEntryChanges(js []byte) (int64, bool) {
	if len(js) < 2 || js[0] != '{' || js[len(js)-1] != '}' {
		return 0, false
	}
	p := js[1 : len(js)-1]
	var changes int64
	if len(p) == 0 {
		return 0, true
	}
	seen := 0
	for {
		key, rest, ok := plainString(p)
		if !ok || len(rest) == 0 || rest[0] != ':' {
			return 0, false
		}
		p = rest[1:]
		var bit int
		switch string(key) {
		case "seq":
			bit = 1
		case "time":
			bit = 2
		case "device":
			bit = 4
		case "action":
			bit = 8
		case "names":
			bit = 16
		case "detail":
			bit = 32
		case "result":
			bit = 64
		case "changes":
			bit = 128
		default:
			return 0, false
		}
		if seen&bit != 0 {
			return 0, false
		}
		seen |= bit
		switch bit {
		case 1, 128:
			n := jsonInteger(p)
			if n == 0 {
				return 0, false
			}
			if bit == 128 {
				c, err := strconv.ParseInt(string(p[:n]), 10, 64)
				if err != nil {
					return 0, false
				}
				changes = c
			}
			p = p[n:]
		case 16:
			if len(p) == 0 || p[0] != '[' {
				return 0, false
			}
			p = p[1:]
			if len(p) > 0 && p[0] == ']' {
				p = p[1:]
				break
			}
			for {
				_, rest, ok := plainString(p)
				if !ok || len(rest) == 0 {
					return 0, false
				}
				p = rest[1:]
				if rest[0] == ']' {
					break
				}
				if rest[0] != ',' {
					return 0, false
				}
			}
		default:
			_, rest, ok := plainString(p)
			if !ok {
				return 0, false
			}
			p = rest
		}
		if len(p) == 0 {
			return changes, true
		}
		if p[0] != ',' {
			return 0, false
		}
		p = p[1:]
	}
}

// marshalEntry is json.Marshal(e), byte for byte, with a shortcut for the
// entries a read writes: every string plain (jsonPlain), so that its JSON
// is its bytes in quotes; anything else goes to encoding/json. As with
// entryChanges, encoding/json's reflection on first use was a tenth of a
// get's instructions. TestMarshalEntryIsJSON and FuzzMarshalEntry compare
// the two.
func marshalEntry(e AuditEntry) ([]byte, error) {
	plain := jsonPlain(e.Device) && jsonPlain(e.Action) && jsonPlain(e.Detail) && jsonPlain(e.Result)
	for _, n := range e.Names {
		plain = plain && jsonPlain(n)
	}
	if !plain {
		return json.Marshal(e)
	}
	t, err := e.Time.MarshalJSON()
	if err != nil {
		return json.Marshal(e) // its own error for it
	}
	b := make([]byte, 0, 96+len(t)+len(e.Device)+len(e.Action)+len(e.Detail)+len(e.Result)+16*len(e.Names))
	b = append(b, `{"seq":`...)
	b = strconv.AppendInt(b, int64(e.Seq), 10)
	b = append(b, `,"time":`...)
	b = append(b, t...)
	b = appendField(b, "device", e.Device)
	b = appendField(b, "action", e.Action)
	if len(e.Names) > 0 {
		b = append(b, `,"names":[`...)
		for i, n := range e.Names {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, n...)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if e.Detail != "" {
		b = appendField(b, "detail", e.Detail)
	}
	b = appendField(b, "result", e.Result)
	if e.Changes != 0 {
		b = append(b, `,"changes":`...)
		b = strconv.AppendInt(b, e.Changes, 10)
	}
	return append(b, '}'), nil
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':', '"')
	b = append(b, value...)
	return append(b, '"')
}

// jsonPlain reports whether encoding/json writes s as its bytes in quotes:
// printable ASCII but for the quote, the backslash and the three
// characters it escapes for HTML (<, >, &).
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
