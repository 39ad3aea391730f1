package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// secret marks value text in hostile inputs; no error may ever contain it.
const secret = "sekrit"

// kv builds entries from key, value pairs.
func kv(pairs ...string) []Entry {
	var es []Entry
	for i := 0; i < len(pairs); i += 2 {
		es = append(es, Entry{Key: pairs[i], Value: []byte(pairs[i+1])})
	}
	return es
}

func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

type goodCase struct {
	name string
	in   string
	want []Entry
}

type badCase struct {
	name string
	in   string
	line int    // wanted ParseError.Line
	msg  string // wanted substring of the message
}

func runGood(t *testing.T, f Format, cases []goodCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(f, []byte(c.in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !sameEntries(got, c.want) {
				t.Fatalf("got %q\nwant %q", got, c.want)
			}
			for _, e := range got {
				if e.Value == nil {
					t.Errorf("value of %s is nil, want non-nil", e.Key)
				}
			}
		})
	}
}

func runBad(t *testing.T, f Format, cases []badCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(f, []byte(c.in))
			if err == nil {
				t.Fatalf("Parse succeeded with %q", got)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is %T, want *ParseError", err, err)
			}
			if pe.Line != c.line {
				t.Errorf("line %d, want %d (%v)", pe.Line, c.line, err)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Errorf("error %q does not contain %q", err, c.msg)
			}
			if strings.Contains(err.Error(), "krit") {
				t.Errorf("error %q leaks value text", err)
			}
		})
	}
}

func TestParseDotenv(t *testing.T) {
	runGood(t, Dotenv, []goodCase{
		{"empty", "", nil},
		{"only comments", "# a\n\n   # b\n\t\n", nil},
		{"simple", "A=1\nB=two", kv("A", "1", "B", "two")},
		{"key chars", "a.b-c_D9=x\n", kv("a.b-c_D9", "x")},
		{"export prefix", "export A=1\nexport\tB=2\nexport   C = 3\n  export D=4\n", kv("A", "1", "B", "2", "C", "3", "D", "4")},
		{"key named export", "export=1\nexportX=2\n", kv("export", "1", "exportX", "2")},
		{"key named export spaced", "export = 1\n", kv("export", "1")},
		{"blanks around =", "A = 1\n\tB\t=\t2\t\n", kv("A", "1", "B", "2")},
		{"empty values", "A=\nB=   \nC=''\nD=\"\"", kv("A", "", "B", "", "C", "", "D", "")},
		{"inline comments", "A=abc # comment\nB=a#b\nC=a\t#c\nD= #only comment\nE=#x\n",
			kv("A", "abc", "B", "a#b", "C", "a", "D", "", "E", "#x")},
		{"unquoted is literal", `A=a\nb"c'd\$HOME\${X}` + "\n", kv("A", `a\nb"c'd$HOME${X}`)},
		{"unquoted equals", "A=b=c==\n", kv("A", "b=c==")},
		{"unquoted utf8 and binary", "A=héllo 🙂\nB=\x00\xff\x01\n", kv("A", "héllo 🙂", "B", "\x00\xff\x01")},
		{"single quoted literal", `A='a "b" \n $X # not a comment'`, kv("A", `a "b" \n $X # not a comment`)},
		{"single quoted multi-line", "A='line1\nline2'\nB=2\n", kv("A", "line1\nline2", "B", "2")},
		{"double quoted escapes", `A="a\nb\tc\r\"d\\e\$f\'g\x41\x7e\xff\x4A"`, kv("A", "a\nb\tc\r\"d\\e$f'g\x41\x7e\xff\x4a")},
		{"double quoted unknown escapes kept", `A="\a\q\u00e9\\"`, kv("A", `\a\q\u00e9\`)},
		{"double quoted escaped dollar", `A="\$HOME \${USER}"`, kv("A", "$HOME ${USER}")},
		{"double quoted escaped backtick", "A=\"\\`id\\` \\\\`\"", kv("A", "`id` \\`")},
		{"double quoted multi-line", "A=\"-----BEGIN-----\nMIIE\n-----END-----\"\nB=1\n", kv("A", "-----BEGIN-----\nMIIE\n-----END-----", "B", "1")},
		{"double quoted hash", `A="a # b"`, kv("A", "a # b")},
		{"comment after quotes", "A=\"x\" # c\nB='y'\t#c\nC=\"z\"#c\nD=\"w\"   \n", kv("A", "x", "B", "y", "C", "z", "D", "w")},
		{"quoted with blanks kept", `A="  x  "`, kv("A", "  x  ")},
		{"crlf", "A=1\r\nB=\"x\r\ny\"\r\n# c\r\nC=3\r\n", kv("A", "1", "B", "x\ny", "C", "3")},
		{"bom", "\ufeffA=1\n", kv("A", "1")},
	})
}

func TestParseDotenvErrors(t *testing.T) {
	runBad(t, Dotenv, []badCase{
		{"missing equals", "A=1\nsekrit\n", 2, "missing '='"},
		{"export without value", "export A\n", 1, "missing '='"},
		{"stray secret line", "KEY=-----BEGIN-----\nsekrit+/abc==\n", 2, "invalid key"},
		{"key with space", "A B=sekrit", 1, "only A-Z"},
		{"empty key", "=sekrit", 1, "must not be empty"},
		{"dot key", ".=sekrit", 1, `must not be "."`},
		{"dotdot key", "\n..=sekrit", 2, `must not be "." or ".."`},
		{"long key", strings.Repeat("K", 256) + "=sekrit", 1, "longer than 255 bytes"},
		{"unterminated double", "A=1\nB=\"sekrit\nmore\n", 2, "unterminated double-quoted value of B"},
		{"unterminated single", "\n\nB='sekrit", 3, "unterminated single-quoted value of B"},
		{"trailing backslash", `B="sekrit\`, 1, "unterminated double-quoted value of B"},
		{"escaped closing quote", `B="sekrit\"`, 1, "unterminated double-quoted value of B"},
		{"garbage after double", `B="sekrit"sekrit`, 1, "unexpected text after the closing quote of B"},
		{"garbage after single", `B='sekrit' x`, 1, "unexpected text after the closing quote of B"},
		{"second quoted part", `B="sekrit" "sekrit"`, 1, "closing quote of B"},
		{"garbage after multi-line", "B=\"se\nkrit\" sekrit\n", 2, "closing quote of B"},
		{"bad hex", `B="sekrit\xZZ"`, 1, `invalid \x escape in value of B`},
		{"short hex", `B="sekrit\x4"`, 1, `invalid \x escape`},
		{"hex at end", `B="sekrit\x`, 1, `invalid \x escape`},
		{"bad hex later line", "B=\"se\nkrit\\xg1\"", 2, `invalid \x escape in value of B`},
		{"duplicate", "A=sekrit\nB=2\nexport A=\"sekrit\"\n", 3, "duplicate key A (first defined on line 1)"},
		{"duplicate after multi-line", "A=\"x\ny\"\nA=sekrit", 3, "duplicate key A (first defined on line 1)"},
	})
}

func TestParseJSON(t *testing.T) {
	runGood(t, JSON, []goodCase{
		{"empty object", "{}", nil},
		{"strings", `{"A": "x", "B": ""}`, kv("A", "x", "B", "")},
		{"order kept", `{"Z": "1", "A": "2", "M": "3"}`, kv("Z", "1", "A", "2", "M", "3")},
		{"literals kept", `{"P": 5432, "F": 1.50, "T": true, "N": false, "Z": -0, "E": 1e3}`,
			kv("P", "5432", "F", "1.50", "T", "true", "N", "false", "Z", "-0", "E", "1e3")},
		{"escapes", `{"A": "a\nb\u0000\u00e9 \"q\" \\ \/ <&>"}`, kv("A", "a\nb\x00é \"q\" \\ / <&>")},
		{"utf8", `{"A": "héllo 🙂"}`, kv("A", "héllo 🙂")},
		{"bom crlf whitespace", "\ufeff\r\n{\r\n  \"A\": \"1\"\r\n}\r\n\r\n", kv("A", "1")},
	})
}

func TestParseJSONErrors(t *testing.T) {
	runBad(t, JSON, []badCase{
		{"empty", "", 1, "unexpected end"},
		{"array", `["sekrit"]`, 1, "top level must be a JSON object"},
		{"string", `"sekrit"`, 1, "top level must be a JSON object"},
		{"null value", "{\n\"A\": null}", 2, "value of A is null"},
		{"object value", `{"A": {"x": "sekrit"}}`, 1, "value of A is nested"},
		{"array value", "{\"B\": \"x\",\n \"A\": [\"sekrit\"]}", 2, "value of A is nested"},
		{"duplicate", "{\n\"A\": \"sekrit\",\n\"A\": \"sekrit2\"\n}", 3, "duplicate key A (first defined on line 2)"},
		{"duplicate via escape", `{"A": "sekrit", "\u0041": "sekrit"}`, 1, "duplicate key A"},
		{"invalid key", `{"a b": "sekrit"}`, 1, `invalid key "a b"`},
		{"empty key", `{"": "sekrit"}`, 1, `invalid key ""`},
		{"bad escape", "{\"A\":\n \"sek\\qrit\"}", 2, "invalid JSON syntax"},
		{"bad char in string", "{\"A\": \"sek\x01rit\"}", 1, "invalid JSON syntax"},
		{"unterminated", `{"A": "sekrit`, 1, "unexpected end"},
		{"unclosed object", `{"A": "sekrit"`, 1, "unexpected end"},
		{"missing comma", `{"A": "sekrit" "B": "x"}`, 1, "invalid JSON syntax"},
		{"trailing object", "{\"A\": \"x\"}\n{\"B\": \"sekrit\"}", 2, "unexpected data after the JSON object"},
		{"trailing garbage", `{"A": "x"} sekrit`, 1, "unexpected data after"},
		{"bare word value", `{"A": sekrit}`, 1, "invalid JSON syntax"},
		{"invalid utf8", "{\"A\": \"x\",\n\"B\": \"sek\xffrit\"}", 2, "not valid UTF-8"},
	})
}

func TestParseYAML(t *testing.T) {
	runGood(t, YAML, []goodCase{
		{"empty", "", nil},
		{"comments only", "# nothing here\n", nil},
		{"bare document", "---\n", nil},
		{"empty flow map", "{}\n", nil},
		{"literal text kept", "port: 5432\non: yes\nf: 1.50\nhex: 0x1F\nq: \"0123\"\ns: 'it''s'\nt: true\n",
			kv("port", "5432", "on", "yes", "f", "1.50", "hex", "0x1F", "q", "0123", "s", "it's", "t", "true")},
		{"nulls", "A:\nB: ~\nC: null\nD: \"null\"\nE: ''\nF: '~'\n", kv("A", "", "B", "", "C", "", "D", "null", "E", "", "F", "~")},
		{"block scalar", "K: |\n  line1\n  line2\nL: x\n", kv("K", "line1\nline2\n", "L", "x")},
		{"tags ignored", "K: !!str 5\nL: !custom x\n", kv("K", "5", "L", "x")},
		{"binary is bytes", "K: !!binary AAEC\nL: !!binary |\n  aGVs\n  bG8=\nM: !!binary \"\"\n", kv("K", "\x00\x01\x02", "L", "hello", "M", "")},
		{"flow mapping", "{A: b, C: d}", kv("A", "b", "C", "d")},
		{"markers", "---\nA: b\n...\n", kv("A", "b")},
		{"order kept", "Z: 1\nA: 2\nM: 3\n", kv("Z", "1", "A", "2", "M", "3")},
		{"quoted keys", "\"A\": x\n'-b': y\n", kv("A", "x", "-b", "y")},
		{"double-quoted escapes", `A: "a\nb\t\x01\u00e9\"\\"`, kv("A", "a\nb\t\x01é\"\\")},
		{"crlf and bom", "\ufeffA: 1\r\nB: \"x\"\r\n", kv("A", "1", "B", "x")},
		{"null key text", "null: x\n", kv("null", "x")},
	})
}

func TestParseYAMLErrors(t *testing.T) {
	runBad(t, YAML, []badCase{
		{"top-level sequence", "- sekrit\n", 1, "top level must be a mapping"},
		{"top-level scalar", "sekrit\n", 1, "top level must be a mapping"},
		{"nested mapping", "A: x\nB:\n  b: sekrit\n", 3, "value of B is nested"},
		{"nested sequence", "A: [sekrit]\n", 1, "value of A is nested"},
		{"anchor", "A: &x sekrit\nB: *x\n", 1, "value of A uses an anchor or alias"},
		{"unknown alias", "A: *sekrit\n", 0, "anchors and aliases are not allowed"},
		{"anchored root", "&sekrit {A: x}\n", 1, "anchors and aliases are not allowed"},
		{"anchored key", "&sekrit A: x\n", 1, "anchors and aliases are not allowed"},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n", 1, "anchor or alias"},
		{"merge key", "<<: {A: sekrit}\n", 1, `invalid key "<<"`},
		{"second document", "A: x\n---\nB: sekrit\n", 2, "only one YAML document"},
		{"duplicate", "A: sekrit\nA: sekrit\n", 2, "duplicate key A (first defined on line 1)"},
		{"invalid key", "a b: sekrit\n", 1, `invalid key "a b"`},
		{"null key", "~: sekrit\n", 1, `invalid key "~"`},
		{"complex key", "? [a]\n: sekrit\n", 1, "keys must be text scalars"},
		{"binary key", "!!binary QUJD: sekrit\n", 1, "keys must be text scalars"},
		{"bad binary", "A: x\nB: !!binary sekrit!\n", 2, "value of B is tagged !!binary but is not valid base64"},
		{"unterminated quote", "A: x\nB: \"sekrit\n", 2, "invalid YAML"},
		{"bad escape", "A: x\nB: \"sek\\qrit\"\n", 2, "invalid YAML"},
		// yaml.v3 gives no line number for problems on line 1.
		{"bad escape line 1", "A: \"sek\\qrit\"\n", 0, "invalid YAML"},
		// yaml.v3 counts lines from 0 in parser (not scanner) errors.
		{"unclosed flow mapping", "A: x\nB: {a: sekrit", 1, "did not find expected ',' or '}'"},
		{"bad indentation", "A: x\n  B: sekrit\n", 2, "invalid YAML"},
		{"invalid utf8", "A: sek\xffrit\n", 0, "invalid YAML"},
		{"control character", "A: sek\x01rit\n", 0, "invalid YAML"},
	})
}

func TestParseLimitsAndFormats(t *testing.T) {
	big := make([]byte, MaxInput+1)
	for _, f := range []Format{Dotenv, JSON, YAML} {
		_, err := Parse(f, big)
		if err == nil || !strings.Contains(err.Error(), "16 MiB") {
			t.Errorf("%s: oversized input gave %v", f, err)
		}
	}
	max := append([]byte("A="), bytes.Repeat([]byte("x"), MaxInput-2)...)
	if es, err := Parse(Dotenv, max); err != nil || len(es[0].Value) != MaxInput-2 {
		t.Errorf("input of exactly MaxInput bytes: %v", err)
	}
	if _, err := Parse(Shell, []byte("A=1")); err == nil || err.Error() != "shell format is export-only; import a dotenv file instead" {
		t.Errorf("Parse(Shell) = %v", err)
	}
	if _, err := Parse("xml", nil); err == nil {
		t.Error("Parse with unknown format succeeded")
	}
	if err := Write(&bytes.Buffer{}, "xml", nil); err == nil {
		t.Error("Write with unknown format succeeded")
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	for _, f := range []Format{Dotenv, JSON, YAML} {
		in := map[Format]string{Dotenv: "A=sekrit", JSON: `{"A": "sekrit"}`, YAML: "A: sekrit"}[f]
		data := []byte(in)
		es, err := Parse(f, data)
		if err != nil {
			t.Fatal(err)
		}
		clear(data) // what a careful caller does with the input
		if string(es[0].Value) != secret {
			t.Errorf("%s: value changed to %q after wiping the input", f, es[0].Value)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"dotenv": Dotenv, "env": Dotenv, "json": JSON, "yaml": YAML, "yml": YAML, "shell": Shell, "JSON": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	_, err := ParseFormat("toml")
	if err == nil || !strings.Contains(err.Error(), `"toml"`) || !strings.Contains(err.Error(), "dotenv") || !strings.Contains(err.Error(), "shell") {
		t.Errorf("ParseFormat(toml) = %v", err)
	}
}

func TestFormatFromPath(t *testing.T) {
	for in, want := range map[string]Format{
		"a.json": JSON, "dir/b.yaml": YAML, "c.yml": YAML, "C.YML": YAML, ".env": Dotenv,
		"prod.env": Dotenv, "secrets": Dotenv, "x.sh": Dotenv, "yaml/x.txt": Dotenv,
	} {
		if got := FormatFromPath(in); got != want {
			t.Errorf("FormatFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidKey(t *testing.T) {
	for _, k := range []string{"A", "a.b", "_-.", "...", "0", "DB_PASSWORD", strings.Repeat("k", 255)} {
		if err := ValidKey(k); err != nil {
			t.Errorf("ValidKey(%q) = %v", k, err)
		}
	}
	for _, k := range []string{"", ".", "..", "a/b", "a b", "é", "a=b", "a\x00", strings.Repeat("k", 256)} {
		err := ValidKey(k)
		if err == nil {
			t.Errorf("ValidKey(%q) succeeded", k)
		} else if len(k) < 40 && !strings.Contains(err.Error(), fmt.Sprintf("%q", k)) {
			t.Errorf("ValidKey(%q) = %v, does not name the key", k, err)
		}
	}
}

func TestParseErrorFormat(t *testing.T) {
	if got := (&ParseError{Line: 3, Msg: "bad"}).Error(); got != "line 3: bad" {
		t.Errorf("got %q", got)
	}
	if got := (&ParseError{Msg: "bad"}).Error(); got != "bad" {
		t.Errorf("got %q", got)
	}
}

func TestWriteExact(t *testing.T) {
	es := kv("A", "a\"b\\c$d\n\r\t\x00\x1b\x7f\xffé🙂'`", "b.c", "")
	for _, c := range []struct {
		f    Format
		es   []Entry
		want string
	}{
		{Dotenv, es, `A="a\"b\\c\$d\n\r\t\x00\x1b\x7f\xffé🙂'\` + "`" + `"` + "\nb.c=\"\"\n"},
		{Dotenv, nil, ""},
		{JSON, kv("A", "x<&>\"\n", "B", ""), "{\n  \"A\": \"x<&>\\\"\\n\",\n  \"B\": \"\"\n}\n"},
		{JSON, nil, "{}\n"},
		{YAML, kv("A", "0123", "-b", "yes", "C", "a\"\\\n\t\x01\u0085\u2028é🙂"), "A: \"0123\"\n\"-b\": \"yes\"\nC: \"a\\\"\\\\\\n\\t\\x01\\x85\\u2028é🙂\"\n"},
		{YAML, nil, "{}\n"},
		{YAML, kv("B", "\x00\x01\x02\xff"), "B: !!binary AAEC/w==\n"},
		{Shell, kv("A", "it's $HOME\n", "_b", ""), "export A='it'\\''s $HOME\n'\nexport _b=''\n"},
		{Shell, nil, ""},
	} {
		var buf bytes.Buffer
		if err := Write(&buf, c.f, c.es); err != nil {
			t.Errorf("%s: %v", c.f, err)
		} else if buf.String() != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.f, buf.String(), c.want)
		}
	}
}

func TestWriteErrors(t *testing.T) {
	for _, c := range []struct {
		f    Format
		es   []Entry
		want string
	}{
		{Dotenv, kv("a b", secret), `invalid key "a b"`},
		{Dotenv, kv("A", secret, "A", secret), "duplicate key A"},
		{JSON, kv("A", "x", "K", "sek\xffrit"), "value of K is not valid UTF-8: use --format dotenv"},
		{Shell, kv("a.b", secret), "a.b is not a valid shell variable name"},
		{Shell, kv("1A", secret), "1A is not a valid shell variable name"},
		{Shell, kv("K-2", secret), "K-2 is not a valid shell variable name"},
		{Shell, kv("K", "sek\x00rit"), "value of K contains a NUL byte"},
	} {
		var buf bytes.Buffer
		err := Write(&buf, c.f, c.es)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: got %v, want %q", c.f, c.es[0].Key, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "krit") {
			t.Errorf("%s: error %q leaks value text", c.f, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: failed Write wrote %q", c.f, buf.String())
		}
	}
}

// trickyValues are values that each format's quoting could get wrong.
func trickyValues() []string {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	return []string{
		"", "plain", " lead and trail ", "\t", "#hash", "a #b", "'", `"`, `\`, `\\n`, `\x41`,
		"$HOME", "${X}", "`cmd`", "\n", "\r\n", "\r", "\x00", "a\x00b", "\x7f", "é🙂", "\u2028\u2029\u0085\ufeff\ufffd\uffff",
		"yes", "0123", "null", "~", "- item", "key: v", "[a]", "{a}", "&a", "*a", "!tag", "---", "...",
		"-----BEGIN KEY-----\nMIIE+/=\n-----END KEY-----\n", strings.Repeat("long ", 2000),
		string(all), "\xff\xfe", "\xc3", "\xed\xa0\x80", "\xe2\x82", "ok\xc3(",
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range []Format{Dotenv, JSON, YAML} {
		var es []Entry
		for i, v := range trickyValues() {
			if f == JSON && !utf8.ValidString(v) {
				continue
			}
			es = append(es, Entry{Key: "K" + string(rune('a'+i%26)) + strings.Repeat("_", i/26), Value: []byte(v)})
		}
		es = append(es, kv("-dash", "x", ".dot", "y", "...", "z", "0", "n", "true", "t", "null", "u")...)
		var buf bytes.Buffer
		if err := Write(&buf, f, es); err != nil {
			t.Fatalf("%s: Write: %v", f, err)
		}
		got, err := Parse(f, buf.Bytes())
		if err != nil {
			t.Fatalf("%s: Parse: %v\n%s", f, err, buf.String())
		}
		if !sameEntries(got, es) {
			for i := range min(len(got), len(es)) {
				if !sameEntries(got[i:i+1], es[i:i+1]) {
					t.Errorf("%s: entry %d: got %q, want %q", f, i, got[i], es[i])
				}
			}
			t.Fatalf("%s: round trip changed entries (%d vs %d)", f, len(got), len(es))
		}
	}
}

// TestShellOutput checks the shell writer against a real POSIX shell.
func TestShellOutput(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	var es []Entry
	for _, v := range trickyValues() {
		if !strings.Contains(v, "\x00") {
			es = append(es, Entry{Key: "V", Value: []byte(v)})
		}
	}
	for _, e := range es {
		var script bytes.Buffer
		if err := Write(&script, Shell, []Entry{e}); err != nil {
			t.Fatal(err)
		}
		script.WriteString(`printf '%s' "$V"`)
		out, err := exec.Command(sh, "-c", script.String()).Output()
		if err != nil {
			t.Fatalf("sh failed on %q: %v", e.Value, err)
		}
		if !bytes.Equal(out, e.Value) {
			t.Errorf("sh gave %q, want %q", out, e.Value)
		}
	}
}

// TestDotenvSourcedByShell sources hush's dotenv output in real shells
// (`set -a; . .env`, a common habit): nothing in a value runs or expands
// (outside attack attack25 #10: a backtick ran a command), and a value of
// printable text reads back exactly there too.
func TestDotenvSourcedByShell(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	hostile := []string{
		"`touch " + marker + "`", "$(touch " + marker + ")", "${X:=$(touch " + marker + ")}",
		"\\`touch " + marker + "`", "\"; touch " + marker + "; \"", "$(echo no)`touch " + marker + "`",
		"!! !$ !-1 \\!", "\n", "$", "\\", "a\\\"b",
	}
	values := append(hostile, trickyValues()...)
	var es []Entry
	for i, v := range values {
		es = append(es, Entry{Key: fmt.Sprintf("V%d", i), Value: []byte(v)})
	}
	file := filepath.Join(dir, "out.env")
	var buf bytes.Buffer
	if err := Write(&buf, Dotenv, es); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each value back, NUL-separated, after sourcing the file.
	var script strings.Builder
	script.WriteString("set -a; . " + file + "\n")
	for i := range es {
		fmt.Fprintf(&script, "printf '%%s\\0' \"$V%d\"\n", i)
	}
	ran := 0
	for _, shell := range []string{"sh", "dash", "bash"} {
		path, err := exec.LookPath(shell)
		if err != nil {
			continue
		}
		ran++
		out, err := exec.Command(path, "-c", script.String()).Output()
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("%s ran a command written in a value", shell)
		}
		if err != nil {
			t.Fatalf("%s failed sourcing the file: %v", shell, err)
		}
		got := strings.Split(string(out), "\x00")
		if len(got) != len(es)+1 {
			t.Fatalf("%s: %d values back, want %d", shell, len(got)-1, len(es))
		}
		for i, e := range es {
			printable := utf8.Valid(e.Value) && !strings.ContainsFunc(string(e.Value), func(r rune) bool { return r < 0x20 || r == 0x7f })
			if printable && got[i] != string(e.Value) {
				t.Errorf("%s read %q back as %q", shell, e.Value, got[i])
			}
		}
	}
	if ran == 0 {
		t.Skip("no shell")
	}
}
