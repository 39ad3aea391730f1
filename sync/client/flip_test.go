package client

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Bit flips in JSON answers, for the malicious-server suite: every leaf of
// an answer (string, number, bool) gets one bit flipped where its meaning
// lives: in the bytes of a base64 or hex field (re-encoded, so the field
// still decodes), in a number's value, in a text's characters.

// jpath is a leaf's place: object keys and array indices.
type jpath []any

func (p jpath) String() string {
	var b strings.Builder
	for _, k := range p {
		switch k := k.(type) {
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		}
	}
	return b.String()
}

// pattern is the path with indices as [*]: records[*].sealed.
func (p jpath) pattern() string { return indexRE.ReplaceAllString(p.String(), "[*]") }

var indexRE = regexp.MustCompile(`\[\d+\]`)

func jdecode(body []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// jleaves lists the paths of every non-null leaf.
func jleaves(body []byte) ([]jpath, error) {
	v, err := jdecode(body)
	if err != nil {
		return nil, err
	}
	var out []jpath
	var walk func(v any, p jpath)
	walk = func(v any, p jpath) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(c, append(append(jpath(nil), p...), k))
			}
		case []any:
			for i, c := range v {
				walk(c, append(append(jpath(nil), p...), i))
			}
		case nil:
		default:
			out = append(out, p)
		}
	}
	walk(v, nil)
	return out, nil
}

// jflip flips one bit of the leaf at p; high picks a high bit of a number
// (bit 20) instead of its lowest.
func jflip(body []byte, p jpath, high bool) ([]byte, error) {
	root, err := jdecode(body)
	if err != nil {
		return nil, err
	}
	var set func(v any, i int) (any, error)
	set = func(v any, i int) (any, error) {
		if i == len(p) {
			return flipLeaf(v, high)
		}
		switch k := p[i].(type) {
		case string:
			m := v.(map[string]any)
			c, err := set(m[k], i+1)
			m[k] = c
			return m, err
		default:
			a, _ := v.([]any)
			if k.(int) >= len(a) {
				return v, errors.New("the path is no longer in this response")
			}
			c, err := set(a[k.(int)], i+1)
			a[k.(int)] = c
			return a, err
		}
	}
	if root, err = set(root, 0); err != nil {
		return nil, err
	}
	return json.Marshal(root)
}

var lowerHex = regexp.MustCompile(`^([0-9a-f]{2})+$`)

func flipLeaf(v any, high bool) (any, error) {
	switch v := v.(type) {
	case bool:
		return !v, nil
	case json.Number:
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			return nil, err
		}
		bit := int64(1)
		if high {
			bit = 1 << 20
		}
		return json.Number(strconv.FormatInt(n^bit, 10)), nil
	case string:
		if lowerHex.MatchString(v) {
			b, _ := hex.DecodeString(v)
			b[len(b)/2] ^= 1
			return hex.EncodeToString(b), nil
		}
		if b, err := base64.StdEncoding.DecodeString(v); err == nil && len(v) >= 8 {
			b[len(b)/2] ^= 1
			return base64.StdEncoding.EncodeToString(b), nil
		}
		if v == "" {
			return nil, fmt.Errorf("empty string")
		}
		b := []byte(v)
		b[len(b)/2] ^= 1
		return string(b), nil
	}
	return nil, fmt.Errorf("leaf of type %T", v)
}
