package envfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Entry is one key and its secret value.
type Entry struct {
	Key   string
	Value []byte
}

// Format names a file format.
type Format string

const (
	Dotenv Format = "dotenv"
	JSON   Format = "json"
	YAML   Format = "yaml"
	Shell  Format = "shell"
)

// MaxInput is the largest input Parse accepts, in bytes.
const MaxInput = 16 << 20

// maxKeyLen bounds a key, which becomes a path segment.
const maxKeyLen = 255

var bom = []byte("\xef\xbb\xbf")

// ParseError reports a syntax problem. Msg never contains any part of a value.
type ParseError struct {
	Line int // 1-based; 0 when no line applies
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func errorAt(line int, format string, args ...any) error {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// ParseFormat turns a --format flag into a Format.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "dotenv", "env":
		return Dotenv, nil
	case "json":
		return JSON, nil
	case "yaml", "yml":
		return YAML, nil
	case "shell":
		return Shell, nil
	}
	return "", fmt.Errorf("unknown format %q: valid formats are dotenv (or env), json, yaml (or yml) and shell", s)
}

// FormatFromPath guesses a file's format from its extension.
func FormatFromPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json":
		return JSON
	case ".yaml", ".yml":
		return YAML
	}
	return Dotenv
}

// ValidKey reports whether k may be used as a key, naming k if not.
func ValidKey(k string) error {
	if p := keyProblem(k); p != "" {
		if len(k) > 40 {
			k = k[:40] + "..."
		}
		return fmt.Errorf("invalid key %q: %s", k, p)
	}
	return nil
}

// keyProblem is ValidKey without naming the key, for the dotenv reader:
// there a "key" may really be a stray line of a multi-line secret.
func keyProblem(k string) string {
	switch {
	case k == "":
		return "must not be empty"
	case len(k) > maxKeyLen:
		return fmt.Sprintf("longer than %d bytes", maxKeyLen)
	case k == "." || k == "..":
		return `must not be "." or ".."`
	}
	for i := 0; i < len(k); i++ {
		if !isKeyByte(k[i]) {
			return "only A-Z a-z 0-9 _ . - are allowed"
		}
	}
	return ""
}

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}

func isShellName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return k != ""
}

// Options changes how [Options.Parse] reads dotenv input; the zero value
// is what [Parse] does. JSON and YAML have no expansion and ignore it.
type Options struct {
	// NoExpand reads every $ literally, and a backslash before it too, as
	// hush did before expansion existed.
	NoExpand bool
	// LookupEnv, when set, gives the value of a variable that is not a key
	// earlier in the input (the process environment, for instance). When
	// nil such a variable expands to the empty string.
	LookupEnv func(name string) (string, bool)
	// Undefined, when set, is called for each reference to a variable found
	// neither earlier in the input nor through LookupEnv, with the line of
	// the reference and the key whose value holds it; never the variable's
	// name, which could be part of a secret such as "pa$$word".
	Undefined func(line int, key string)
}

// Parse reads entries from data in file order, with the default [Options].
// It does not keep data.
func Parse(f Format, data []byte) ([]Entry, error) {
	return Options{}.Parse(f, data)
}

// Parse reads entries from data in file order. It does not keep data.
func (o Options) Parse(f Format, data []byte) ([]Entry, error) {
	var parse func([]byte) ([]Entry, error)
	switch f {
	case Dotenv:
		parse = func(b []byte) ([]Entry, error) { return parseDotenv(b, o) }
	case JSON:
		parse = parseJSON
	case YAML:
		parse = parseYAML
	case Shell:
		return nil, errors.New("shell format is export-only; import a dotenv file instead")
	default:
		return nil, fmt.Errorf("unknown format %q", string(f))
	}
	if len(data) > MaxInput {
		return nil, fmt.Errorf("input is %d bytes, larger than the limit of %d MiB", len(data), MaxInput>>20)
	}
	return parse(bytes.TrimPrefix(data, bom))
}

// Write writes entries to w in the given order. Everything is checked
// before anything is written, so a failed Write writes nothing.
func Write(w io.Writer, f Format, entries []Entry) error {
	var appendAll func([]byte, []Entry) []byte
	switch f {
	case Dotenv:
		appendAll = appendDotenv
	case JSON:
		appendAll = appendJSON
	case YAML:
		appendAll = appendYAML
	case Shell:
		appendAll = appendShell
	default:
		return fmt.Errorf("unknown format %q", string(f))
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if err := ValidKey(e.Key); err != nil {
			return err
		}
		// A duplicate would make the output impossible to import again.
		if seen[e.Key] {
			return fmt.Errorf("duplicate key %s", e.Key)
		}
		seen[e.Key] = true
		if err := checkValue(f, e); err != nil {
			return err
		}
	}
	b := appendAll(nil, entries)
	defer clear(b) // a secret copy we own; don't leave it for the GC
	_, err := w.Write(b)
	return err
}

func checkValue(f Format, e Entry) error {
	switch f {
	case JSON:
		if !utf8.Valid(e.Value) {
			return fmt.Errorf("value of %s is not valid UTF-8: use --format dotenv", e.Key)
		}
	case Shell:
		if !isShellName(e.Key) {
			return fmt.Errorf("key %s is not a valid shell variable name ([A-Za-z_][A-Za-z0-9_]*): use --format dotenv", e.Key)
		}
		if bytes.IndexByte(e.Value, 0) >= 0 {
			return fmt.Errorf("value of %s contains a NUL byte, which a shell variable cannot hold: use --format dotenv", e.Key)
		}
	}
	return nil
}

func appendShell(b []byte, entries []Entry) []byte {
	for _, e := range entries {
		b = append(b, "export "...)
		b = append(b, e.Key...)
		b = append(b, "='"...)
		for _, c := range e.Value {
			if c == '\'' {
				b = append(b, `'\''`...)
			} else {
				b = append(b, c)
			}
		}
		b = append(b, "'\n"...)
	}
	return b
}

// lineCounter maps byte offsets to 1-based line numbers. Offsets are
// usually asked for in increasing order, so it counts on from the last one
// instead of from the start, which would be quadratic on a large input.
type lineCounter struct {
	data []byte
	off  int
	line int // newlines in data[:off]
}

func (c *lineCounter) at(off int64) int {
	o := int(min(max(off, 0), int64(len(c.data))))
	if o < c.off {
		c.off, c.line = 0, 0
	}
	c.line += bytes.Count(c.data[c.off:o], []byte("\n"))
	c.off = o
	return c.line + 1
}
