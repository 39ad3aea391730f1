package envfile

import (
	"bytes"
	"encoding/base64"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func parseYAML(data []byte) ([]Entry, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err == io.EOF {
		return nil, nil
	} else if err != nil {
		return nil, yamlError(err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errorAt(extra.Line, "only one YAML document is allowed")
	} else if err != io.EOF {
		return nil, yamlError(err)
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	switch {
	case root.Anchor != "" || root.Kind == yaml.AliasNode:
		return nil, errorAt(root.Line, "anchors and aliases are not allowed")
	case isNull(root): // a bare "---"
		return nil, nil
	case root.Kind != yaml.MappingNode:
		return nil, errorAt(root.Line, "top level must be a mapping of KEY: value")
	}
	var entries []Entry
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Anchor != "" || k.Kind == yaml.AliasNode {
			return nil, errorAt(k.Line, "anchors and aliases are not allowed")
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == binaryTag {
			return nil, errorAt(k.Line, "keys must be text scalars")
		}
		key := k.Value
		if err := ValidKey(key); err != nil {
			return nil, errorAt(k.Line, "%v", err)
		}
		if first, ok := seen[key]; ok {
			return nil, errorAt(k.Line, "duplicate key %s (first defined on line %d)", key, first)
		}
		seen[key] = k.Line
		switch {
		case v.Anchor != "" || v.Kind == yaml.AliasNode:
			return nil, errorAt(v.Line, "value of %s uses an anchor or alias, which are not allowed", key)
		case v.Kind != yaml.ScalarNode:
			return nil, errorAt(v.Line, "value of %s is nested (a mapping or sequence); only scalars are allowed", key)
		}
		value := []byte{}
		switch {
		case v.ShortTag() == binaryTag:
			// The text is base64 of the bytes meant; keeping the text would
			// store something else than the file says.
			b, err := base64.StdEncoding.DecodeString(stripSpace.Replace(v.Value))
			if err != nil {
				return nil, errorAt(v.Line, "value of %s is tagged !!binary but is not valid base64", key)
			}
			value = b
		case !isNull(v):
			value = []byte(v.Value)
		}
		entries = append(entries, Entry{Key: key, Value: value})
	}
	return entries, nil
}

const binaryTag = "!!binary"

// stripSpace removes the white space a !!binary scalar may be wrapped with.
var stripSpace = strings.NewReplacer(" ", "", "\t", "", "\n", "", "\r", "")

// isNull reports an untagged, unquoted empty, ~ or null scalar. Style 0
// means exactly that, and then ShortTag resolves from the text.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style == 0 && n.ShortTag() == "!!null"
}

// Compiled on first use (only a YAML error needs them), not at init, which
// every hush command would pay for.
var (
	yamlErrorRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)^yaml: line (\d+): (.*)$`) })
	quotedPunct = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`'[^'\w\s]'`) }) // as in "did not find expected ',' or '}'"
)

// yamlError rewords a parser error. yaml.v3's messages are fixed phrases
// except a few that quote document text (an alias name, which could be a
// pasted secret), so anything quoting is replaced by a generic message.
func yamlError(err error) error {
	msg, line := err.Error(), 0
	if m := yamlErrorRE().FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	switch {
	case strings.Contains(msg, "anchor"):
		msg = "anchors and aliases are not allowed"
	case strings.ContainsAny(quotedPunct().ReplaceAllString(msg, ""), "'\"`") || !strings.HasPrefix(err.Error(), "yaml: "):
		msg = "invalid YAML syntax"
	default:
		msg = "invalid YAML: " + strings.TrimPrefix(msg, "yaml: ")
	}
	return errorAt(line, "%s", msg)
}

func appendYAML(b []byte, entries []Entry) []byte {
	if len(entries) == 0 {
		return append(b, "{}\n"...)
	}
	for _, e := range entries {
		// A leading - or . could read as a sequence item or document marker.
		if c := e.Key[0]; c == '-' || c == '.' {
			b = append(b, '"')
			b = append(b, e.Key...)
			b = append(b, '"')
		} else {
			b = append(b, e.Key...)
		}
		if !utf8.Valid(e.Value) {
			// Not text: YAML's own way to hold bytes.
			b = append(b, ": !!binary "...)
			b = base64.StdEncoding.AppendEncode(b, e.Value)
			b = append(b, '\n')
			continue
		}
		b = append(b, ':', ' ', '"')
		for _, r := range string(e.Value) {
			switch {
			case r == '"' || r == '\\':
				b = append(b, '\\', byte(r))
			case r == '\n':
				b = append(b, `\n`...)
			case r == '\r':
				b = append(b, `\r`...)
			case r == '\t':
				b = append(b, `\t`...)
			case r < 0x20 || 0x7f <= r && r < 0xa0:
				// C0 and C1 controls; YAML rejects most raw and folds U+0085.
				b = append(b, '\\', 'x', hexDigits[r>>4], hexDigits[r&15])
			case r == 0x2028 || r == 0x2029 || r == 0xfeff || r == 0xfffe || r == 0xffff:
				// Line separators would be folded, the rest are not allowed raw.
				b = append(b, `\u`...)
				b = append(b, hexDigits[r>>12], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
			default:
				b = utf8.AppendRune(b, r)
			}
		}
		b = append(b, '"', '\n')
	}
	return b
}
