// Package jsonout holds the conventions every `--json` output of hush
// follows, so that each command's typed rows say them once: times in RFC
// 3339 and UTC ("" for none), lists that are [] and never null, and a
// value as text when it is UTF-8, else as base64 under another key. The
// shapes themselves are documented in docs/cli.md and kept stable.
package jsonout

import (
	"time"
	"unicode/utf8"
)

// Time is t in RFC 3339 and UTC, "" for the zero time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// List is s, or an empty list for nil: JSON [] rather than null.
func List[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Value is a value in JSON without losing bytes: text as "value", anything
// else as base64 under "value_base64". Embed it in a row.
type Value struct {
	Text   *string `json:"value,omitempty"`
	Base64 []byte  `json:"value_base64,omitempty"`
}

// NewValue is b as a Value.
func NewValue(b []byte) Value {
	if utf8.Valid(b) {
		s := string(b)
		return Value{Text: &s}
	}
	return Value{Base64: b}
}
