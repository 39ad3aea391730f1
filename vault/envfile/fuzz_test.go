package envfile

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// reparse writes entries in format f and parses them again, failing t
// unless the result is identical.
func reparse(t *testing.T, f Format, es []Entry) {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, es); err != nil {
		t.Fatalf("%s: Write of parsed entries failed: %v", f, err)
	}
	got, err := Parse(f, buf.Bytes())
	if err != nil {
		t.Fatalf("%s: re-parse failed: %v\n%q", f, err, buf.Bytes())
	}
	if !sameEntries(got, es) {
		t.Fatalf("%s: round trip changed entries\n got %q\nwant %q", f, got, es)
	}
}

// fuzzParse checks that Parse never panics, fails only with *ParseError,
// and that whatever it accepts survives Write and Parse unchanged.
func fuzzParse(t *testing.T, f Format, data []byte) {
	es, err := Parse(f, data)
	if err != nil {
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("error %v is %T, want *ParseError", err, err)
		}
		return
	}
	reparse(t, f, es)
}

func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{
		"A=1\nB=two\n",
		"# c\nexport A = 'x y' # c\nB=\"l1\nl2\\x41\\$\"\r\n",
		"A=a #b\nC=#d\nD='\n'\n",
		"\ufeffA=\"\\q\\\\\\\"\"",
		"A=\"unterminated\n",
		"A=\"x\" y\n",
		"A=1\nA=2\n",
		`A="\xZZ"`,
		"A=x\nB=${A}\nC=$B\nD=\"${A}${B}\\$A\"\nE='$A'\n",
		"A=${B\nC=\"${}\"\nD=$1$",
		"K='line one\nthis is \\'quoted\\'\none more line'\n",
		"A=\"\\`id\\` \\\\` `\"\nB=`x`\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzParse(t, Dotenv, data)
		// Without expansion too: whatever is accepted must round-trip.
		if es, err := (Options{NoExpand: true}).Parse(Dotenv, data); err == nil {
			reparse(t, Dotenv, es)
		}
	})
}

func FuzzDotenvRoundTrip(f *testing.F) {
	for _, v := range []string{"", "x", "\x00\xff\n\r\t\"\\$'", "é🙂\u2028", "\xed\xa0\x80", "#a b ", "\\x4g", "`id` \\`"} {
		f.Add([]byte(v))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		es := []Entry{{Key: "A", Value: v}, {Key: "b.c-d", Value: append([]byte("x"), v...)}}
		reparse(t, Dotenv, es)
		reparse(t, YAML, es)
		if utf8.Valid(v) {
			reparse(t, JSON, es)
		}
		err := Write(&bytes.Buffer{}, Shell, es[:1])
		if (err != nil) != bytes.Contains(v, []byte{0}) {
			t.Fatalf("shell Write: %v", err)
		}
	})
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"A": "x", "B": 5432, "C": true}`,
		`{"A": "\u0000\n\"", "B": 1.50e3}`,
		`{"A": {"B": "x"}}`,
		`{"A": "x", "A": "y"}`,
		`{"A": null} trailing`,
		`[1, 2]`,
		`{"A": "\ud83d\ude00", "B": "\ud800", "C": "\\udc00"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, JSON, data) })
}

func FuzzParseYAML(f *testing.F) {
	for _, s := range []string{
		"A: x\nport: 5432\non: yes\n",
		"A:\nB: ~\nC: \"\\x01\\u2028\"\nD: |\n  l1\n  l2\n",
		"A: &a x\nB: *a\n",
		"A: [1]\nB: {c: d}\n",
		"A: x\n---\nB: y\n",
		"{A: b, 'C': \"d\"}",
		"A: !!binary AAEC\nB: !!binary |\n  aGVs\n  bG8=\nC: !!binary x!\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzParse(t, YAML, data) })
}
