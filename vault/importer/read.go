package importer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// Read reads the export at path (a file, or a directory for pass) and
// returns what importing it would do. It writes nothing.
func Read(f Format, path string, o Options) (*Plan, error) {
	if f == Pass {
		return readPass(path, o)
	}
	if f == SOPS {
		return readSOPS(path, o)
	}
	if f == KDBX {
		return readKDBX(path, o)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	defer clear(data)
	return Parse(f, data, o)
}

// Parse reads an export held in memory: every format but pass (a
// directory), sops and kdbx (read by their own programs).
func Parse(f Format, data []byte, o Options) (*Plan, error) {
	switch f {
	case OnePUX:
		return read1PUX(data)
	case OnePasswordCSV:
		return read1PasswordCSV(data)
	case Bitwarden:
		return readBitwarden(data, o)
	case KeePassXCCSV:
		return readKeePassXCCSV(data)
	case VaultKV:
		return readVaultKV(data)
	case Pass, SOPS, KDBX:
		return nil, fmt.Errorf("%s reads a path, not data", f)
	}
	return nil, fmt.Errorf("unknown source format %q", string(f))
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory: this format reads one export file", path)
	}
	b, err := io.ReadAll(io.LimitReader(fh, MaxInput+1))
	if err != nil {
		return nil, fmt.Errorf("failed to read %s: %w", path, err)
	}
	if len(b) > MaxInput {
		clear(b)
		return nil, fmt.Errorf("%s is larger than %d MiB", path, MaxInput>>20)
	}
	return b, nil
}

// decodeJSON decodes one JSON document into v, refusing what
// encoding/json would change silently: invalid UTF-8 and unpaired
// surrogate escapes (both become U+FFFD). Its errors quote no input.
func decodeJSON(data []byte, v any) error {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) > maxDataSize {
		return fmt.Errorf("the JSON document is larger than %d MiB", maxDataSize>>20)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("line %d: not valid UTF-8", lineOf(data, firstInvalid(data)))
	}
	if off := loneSurrogate(data); off >= 0 {
		return fmt.Errorf(`line %d: an unpaired UTF-16 surrogate escape (\uD800 to \uDFFF) stands for no text and cannot be stored exactly`, lineOf(data, off))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return fmt.Errorf("line %d: invalid JSON syntax", lineOf(data, int(se.Offset)))
		case errors.As(err, &te):
			return fmt.Errorf("line %d: %s holds a JSON %s where the format has another type", lineOf(data, int(te.Offset)), fieldName(te.Field), te.Value)
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("unexpected end of JSON input")
		}
		return errors.New("invalid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

func fieldName(f string) string {
	if f == "" {
		return "the document"
	}
	return "field " + f
}

func lineOf(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			return i
		}
		i += size
	}
	return len(b)
}

// loneSurrogate returns the offset of the first \u escape of a UTF-16
// surrogate that is not half of a high-low pair, or -1.
func loneSurrogate(b []byte) int {
	esc := func(i int) (rune, bool) {
		if i+6 > len(b) || b[i] != '\\' || b[i+1] != 'u' {
			return 0, false
		}
		var r rune
		for _, c := range b[i+2 : i+6] {
			switch {
			case '0' <= c && c <= '9':
				r = r<<4 | rune(c-'0')
			case 'a' <= c|0x20 && c|0x20 <= 'f':
				r = r<<4 | rune(c|0x20-'a'+10)
			default:
				return 0, false
			}
		}
		return r, true
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		r, ok := esc(i)
		switch {
		case !ok:
			i++ // another escape: skip the escaped byte, which may be a backslash
		case 0xd800 <= r && r < 0xdc00:
			if lo, ok := esc(i + 6); !ok || lo < 0xdc00 || lo > 0xdfff {
				return i
			}
			i += 11
		case 0xdc00 <= r && r <= 0xdfff:
			return i
		default:
			i += 5
		}
	}
	return -1
}

// readCSV reads a CSV export with a header row. names maps a column's
// role to the header texts it may have (compared case-insensitively);
// required roles must be present. col(row, role) gives a cell, "" when
// the column is absent.
func readCSV(data []byte, required []string, names map[string][]string) ([][]string, func([]string, string) string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) > maxDataSize {
		return nil, nil, fmt.Errorf("the CSV file is larger than %d MiB", maxDataSize>>20)
	}
	if !utf8.Valid(data) {
		return nil, nil, fmt.Errorf("line %d: not valid UTF-8 (export the file again as UTF-8)", lineOf(data, firstInvalid(data)))
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err == io.EOF {
		return nil, nil, errors.New("the CSV file is empty: it needs a header row")
	}
	if err != nil {
		return nil, nil, csvError(err)
	}
	idx := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for role, texts := range names {
			for _, t := range texts {
				if _, dup := idx[role]; h == t && !dup {
					idx[role] = i
				}
			}
		}
	}
	for _, role := range required {
		if _, ok := idx[role]; !ok {
			return nil, nil, fmt.Errorf("the CSV header has no %q column: is this the right --from format?", role)
		}
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, csvError(err)
		}
		rows = append(rows, rec)
	}
	col := func(row []string, role string) string {
		i, ok := idx[role]
		if !ok || i >= len(row) {
			return ""
		}
		return row[i]
	}
	return rows, col, nil
}

// csvError keeps a csv.ParseError's position and rule, never its text.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("line %d: invalid CSV: %v", pe.Line, pe.Err)
	}
	return errors.New("invalid CSV")
}
