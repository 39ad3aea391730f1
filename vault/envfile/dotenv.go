package envfile

import (
	"bytes"
	"unicode/utf8"
)

// escapes maps the byte after a backslash in a double-quoted value to the
// byte it stands for; \xHH is handled separately. \` is one (as in a
// shell and godotenv): the writer escapes backticks.
var escapes = map[byte]byte{'n': '\n', 'r': '\r', 't': '\t', '"': '"', '\\': '\\', '$': '$', '\'': '\'', '`': '`'}

type dotenvParser struct {
	s    []byte
	i    int
	line int
	opts Options
	// entries are those read so far, and defined says where each key is
	// among them and on which line it was defined: duplicates are refused
	// and $KEY expands to an earlier entry's value. One map, sized for
	// the file's lines up front: two maps grown key by key were most of
	// the parse of a large file.
	entries []Entry
	defined map[string]definedAt
}

type definedAt struct{ line, index int }

func parseDotenv(data []byte, opts Options) ([]Entry, error) {
	// ReplaceAll always copies, so s is ours to wipe.
	s := bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	defer clear(s)
	lines := bytes.Count(s, []byte("\n")) + 1
	p := &dotenvParser{s: s, line: 1, opts: opts,
		entries: make([]Entry, 0, lines), defined: make(map[string]definedAt, lines)}
	for {
		p.skipBlanks()
		if p.i == len(p.s) {
			return p.entries, nil
		}
		if c := p.s[p.i]; c == '\n' || c == '#' {
			p.skipLine()
			continue
		}
		line := p.line
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		value, err := p.value(line, key)
		if err != nil {
			return nil, err
		}
		if first, ok := p.defined[key]; ok {
			return nil, errorAt(line, "duplicate key %s (first defined on line %d)", key, first.line)
		}
		p.defined[key] = definedAt{line: line, index: len(p.entries)}
		p.entries = append(p.entries, Entry{Key: key, Value: value})
	}
}

func (p *dotenvParser) skipBlanks() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// skipLine moves past the end of the current line.
func (p *dotenvParser) skipLine() {
	n := bytes.IndexByte(p.s[p.i:], '\n')
	if n < 0 {
		p.i = len(p.s)
		return
	}
	p.i += n + 1
	p.line++
}

// key reads "[export ]KEY =" and leaves p after the '='.
func (p *dotenvParser) key() (string, error) {
	rest := p.s[p.i:]
	if n := bytes.IndexByte(rest, '\n'); n >= 0 {
		rest = rest[:n]
	}
	eq := bytes.IndexByte(rest, '=')
	if eq < 0 {
		// Don't quote the line: it may be part of a secret.
		return "", errorAt(p.line, "missing '=' (expected KEY=value)")
	}
	k := bytes.TrimRight(rest[:eq], " \t")
	// "export =x" sets a key named export; otherwise export is a prefix.
	if after, ok := bytes.CutPrefix(k, []byte("export")); ok && len(after) > 0 && (after[0] == ' ' || after[0] == '\t') {
		k = bytes.TrimLeft(after, " \t")
	}
	p.i += eq + 1
	if msg := keyProblem(string(k)); msg != "" {
		return "", errorAt(p.line, "invalid key: %s", msg)
	}
	return string(k), nil
}

func (p *dotenvParser) value(line int, key string) ([]byte, error) {
	p.skipBlanks()
	var v []byte
	var err error
	switch {
	case p.i < len(p.s) && p.s[p.i] == '\'':
		v, err = p.singleQuoted(key)
	case p.i < len(p.s) && p.s[p.i] == '"':
		v, err = p.doubleQuoted(key)
	default:
		return p.unquoted(line, key)
	}
	if err != nil {
		return nil, err
	}
	p.skipBlanks()
	if p.i < len(p.s) && p.s[p.i] != '\n' && p.s[p.i] != '#' {
		return nil, errorAt(p.line, "unexpected text after the closing quote of %s", key)
	}
	p.skipLine()
	return v, nil
}

func (p *dotenvParser) unquoted(line int, key string) ([]byte, error) {
	rest := p.s[p.i:]
	if n := bytes.IndexByte(rest, '\n'); n >= 0 {
		rest = rest[:n]
	}
	// p.i > 0 here (we are past the '='), so looking one byte back is safe.
	for j := range rest {
		if rest[j] == '#' && (p.s[p.i+j-1] == ' ' || p.s[p.i+j-1] == '\t') {
			rest = rest[:j]
			break
		}
	}
	rest = bytes.TrimRight(rest, " \t")
	p.skipLine()
	if p.opts.NoExpand {
		return append([]byte{}, rest...), nil
	}
	// Sized for the value as written: no copies left behind by growing
	// it (an expansion may still grow it).
	v := make([]byte, 0, len(rest))
	for j := 0; j < len(rest); j++ {
		switch c := rest[j]; {
		case c == '\\' && j+1 < len(rest) && rest[j+1] == '$':
			v = append(v, '$')
			j++
		case c == '$':
			var err error
			if v, j, err = p.expand(v, rest, j, line, key); err != nil {
				return nil, err
			}
		default:
			v = append(v, c)
		}
	}
	return v, nil
}

// singleQuoted reads a literal value. As in godotenv, a quote after an odd
// number of backslashes does not end the value, and the backslashes stay.
func (p *dotenvParser) singleQuoted(key string) ([]byte, error) {
	end := -1
	for j := p.i + 1; j < len(p.s); j++ {
		if p.s[j] != '\'' {
			continue
		}
		n := 0
		for k := j - 1; k > p.i && p.s[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			end = j
			break
		}
	}
	if end < 0 {
		return nil, errorAt(p.line, "unterminated single-quoted value of %s", key)
	}
	v := append([]byte{}, p.s[p.i+1:end]...)
	p.line += bytes.Count(v, []byte("\n"))
	p.i = end + 1
	return v, nil
}

// expand appends the value of the variable referred to at s[j] (a '$') to
// v. It returns the index of the last byte it read. A '$' that starts no
// reference is kept; a malformed ${ is an error, since guessing would change
// the value silently.
func (p *dotenvParser) expand(v, s []byte, j, line int, key string) ([]byte, int, error) {
	braced := j+1 < len(s) && s[j+1] == '{'
	start := j + 1
	if braced {
		start++
	}
	end := start
	for end < len(s) && isNameByte(s[end], end == start) {
		end++
	}
	switch {
	case braced && (end == start || end == len(s) || s[end] != '}'):
		return nil, 0, errorAt(line, "invalid ${...} in value of %s: only ${NAME} and $NAME are expanded; write \\$ for a literal dollar sign", key)
	case end == start:
		return append(v, '$'), j, nil
	}
	name := string(s[start:end])
	last := end - 1
	if braced {
		last = end
	}
	if d, ok := p.defined[name]; ok {
		return append(v, p.entries[d.index].Value...), last, nil
	}
	if p.opts.LookupEnv != nil {
		if val, ok := p.opts.LookupEnv(name); ok {
			return append(v, val...), last, nil
		}
	}
	if p.opts.Undefined != nil {
		p.opts.Undefined(line, key)
	}
	return v, last, nil
}

func (p *dotenvParser) doubleQuoted(key string) ([]byte, error) {
	open := p.line
	v := []byte{}
	for p.i++; p.i < len(p.s); p.i++ {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return v, nil
		case c == '\n':
			p.line++
		case c == '$' && !p.opts.NoExpand:
			var err error
			// The reference ends before the closing quote: names and } are
			// never a quote.
			if v, p.i, err = p.expand(v, p.s, p.i, p.line, key); err != nil {
				return nil, err
			}
			continue
		case c == '\\' && p.i+1 < len(p.s):
			if e := p.s[p.i+1]; e == 'x' {
				hi, ok1 := unhex(p.s, p.i+2)
				lo, ok2 := unhex(p.s, p.i+3)
				if !ok1 || !ok2 {
					return nil, errorAt(p.line, `invalid \x escape in value of %s: want exactly two hex digits`, key)
				}
				c = hi<<4 | lo
				p.i += 3
			} else if r, ok := escapes[e]; ok {
				c = r
				p.i++
			}
			// Any other escape keeps its backslash; the next byte follows as usual.
		}
		v = append(v, c)
	}
	return nil, errorAt(open, "unterminated double-quoted value of %s", key)
}

// isNameByte reports whether c may be part of a variable name that is
// expanded: [A-Za-z_][A-Za-z0-9_]*, the shell's rule.
func isNameByte(c byte, first bool) bool {
	return c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || !first && '0' <= c && c <= '9'
}

func unhex(s []byte, i int) (byte, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const hexDigits = "0123456789abcdef"

func appendDotenv(b []byte, entries []Entry) []byte {
	for _, e := range entries {
		b = append(b, e.Key...)
		b = append(b, '=', '"')
		v := e.Value
		for len(v) > 0 {
			c := v[0]
			r, size := utf8.DecodeRune(v)
			switch {
			case c == '\\' || c == '"' || c == '$' || c == '`':
				// The four bytes a POSIX shell treats specially
				// inside double quotes: escaped, a file sourced by a
				// shell (`set -a; . .env`) expands nothing and runs
				// nothing (outside attack attack25 #10: a backtick
				// ran a command).
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, `\n`...)
			case c == '\r':
				b = append(b, `\r`...)
			case c == '\t':
				b = append(b, `\t`...)
			case c < 0x20 || c == 0x7f || r == utf8.RuneError && size == 1:
				b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&15])
			default:
				b = append(b, v[:size]...)
			}
			v = v[size:]
		}
		b = append(b, '"', '\n')
	}
	return b
}
