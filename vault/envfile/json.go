package envfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"unicode/utf8"
)

const scalarsOnly = "only strings, numbers and booleans are allowed"

func parseJSON(data []byte) ([]Entry, error) {
	// encoding/json would silently turn bad bytes into U+FFFD, changing a
	// secret on import; refuse instead.
	if !utf8.Valid(data) {
		return nil, errorAt((&lineCounter{data: data}).at(int64(firstInvalidUTF8(data))), "input is not valid UTF-8")
	}
	// Token-level decoding, because Unmarshal silently keeps the last of
	// two duplicate keys.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	lines := lineCounter{data: data}
	token := func() (json.Token, error) {
		t, err := dec.Token()
		if err != nil {
			return nil, jsonError(&lines, dec, err)
		}
		return t, nil
	}
	t, err := token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, errorAt(lines.at(dec.InputOffset()), "top level must be a JSON object")
	}
	var entries []Entry
	seen := map[string]int{}
	for dec.More() {
		t, err := token()
		if err != nil {
			return nil, err
		}
		key := t.(string) // the decoder only yields strings in key position
		line := lines.at(dec.InputOffset())
		if err := ValidKey(key); err != nil {
			return nil, errorAt(line, "%v", err)
		}
		if first, ok := seen[key]; ok {
			return nil, errorAt(line, "duplicate key %s (first defined on line %d)", key, first)
		}
		seen[key] = line
		before := dec.InputOffset()
		if t, err = token(); err != nil {
			return nil, err
		}
		// encoding/json turns an unpaired UTF-16 surrogate escape into
		// U+FFFD: a changed secret. Look at the raw text of the value.
		if loneSurrogate(data[before:dec.InputOffset()]) {
			return nil, errorAt(line, `value of %s holds an unpaired UTF-16 surrogate escape (\uD800 to \uDFFF), which is not text and cannot be stored exactly`, key)
		}
		var v string
		switch t := t.(type) {
		case string:
			v = t
		case json.Number:
			v = t.String()
		case bool:
			v = "false"
			if t {
				v = "true"
			}
		case nil:
			return nil, errorAt(line, "value of %s is null; %s", key, scalarsOnly)
		default: // a json.Delim opening an array or object
			return nil, errorAt(line, "value of %s is nested (an array or object); %s", key, scalarsOnly)
		}
		entries = append(entries, Entry{Key: key, Value: []byte(v)})
	}
	if _, err := token(); err != nil { // the closing '}'
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errorAt(lines.at(dec.InputOffset()), "unexpected data after the JSON object")
	}
	return entries, nil
}

// jsonError rewords a decoder error: encoding/json's messages can quote a
// character of the value being read ("invalid character 'x' in string").
func jsonError(lines *lineCounter, dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errorAt(lines.at(int64(len(lines.data))), "unexpected end of JSON input")
	}
	off := dec.InputOffset()
	if se, ok := err.(*json.SyntaxError); ok {
		off = se.Offset
	}
	return errorAt(lines.at(off), "invalid JSON syntax")
}

// loneSurrogate reports whether the JSON text b holds a \u escape of a
// UTF-16 surrogate that is not half of a high-low pair.
func loneSurrogate(b []byte) bool {
	esc := func(i int) (rune, bool) { // the \uXXXX at b[i:], if any
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range b[i+2 : i+6] {
			d, ok := unhex([]byte{c}, 0)
			if !ok {
				return 0, false
			}
			r = r<<4 | rune(d)
		}
		return r, true
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := esc(i)
		if !ok {
			i++ // another escape: skip the escaped byte (it may be a backslash)
			continue
		}
		switch {
		case 0xd800 <= r && r < 0xdc00:
			if lo, ok := esc(i + 6); !ok || lo < 0xdc00 || lo > 0xdfff {
				return true
			}
			i += 11
		case 0xdc00 <= r && r <= 0xdfff:
			return true
		default:
			i += 5
		}
	}
	return false
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

func appendJSON(b []byte, entries []Entry) []byte {
	if len(entries) == 0 {
		return append(b, "{}\n"...)
	}
	buf := bytes.NewBuffer(b)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false) // <, > and & are fine in a file; keep values readable
	str := func(s string) {
		enc.Encode(s) // cannot fail for a string
		buf.Truncate(buf.Len() - 1)
	}
	buf.WriteString("{\n")
	for i, e := range entries {
		buf.WriteString("  ")
		str(e.Key)
		buf.WriteString(": ")
		str(string(e.Value))
		if i < len(entries)-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return buf.Bytes()
}
