package generate

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/sethvargo/go-diceware/diceware"
)

// withReader replaces the package random source for the rest of the test.
// Tests that call it must not run in parallel.
func withReader(t testing.TB, r io.Reader) {
	t.Helper()
	old := randReader
	randReader = r
	t.Cleanup(func() { randReader = old })
}

func mustNew(t testing.TB, o Options) Result {
	t.Helper()
	r, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return r
}

func approxEqual(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// effWords returns the EFF large list as a set.
func effWords(t testing.TB) map[string]bool {
	t.Helper()
	list := diceware.WordListEffLarge()
	set := make(map[string]bool, 7776)
	var walk func(prefix, depth int)
	walk = func(prefix, depth int) {
		if depth == list.Digits() {
			if w := list.WordAt(prefix); w != "" {
				set[w] = true
			}
			return
		}
		for d := 1; d <= 6; d++ {
			walk(prefix*10+d, depth+1)
		}
	}
	walk(0, 0)
	if len(set) != 7776 {
		t.Fatalf("EFF large list has %d words, want 7776", len(set))
	}
	return set
}

const forbidden = "\"'\\$` &;|<>*(){}[],/\t\n\r"

func TestAlphabet(t *testing.T) {
	if len(fullAlphabet) != 75 || len(alphanumeric) != 62 || len(symbols) != 13 {
		t.Fatalf("alphabet sizes %d/%d/%d, want 75/62/13", len(fullAlphabet), len(alphanumeric), len(symbols))
	}
	seen := map[rune]bool{}
	for _, c := range fullAlphabet {
		if seen[c] {
			t.Errorf("alphabet repeats %q", c)
		}
		seen[c] = true
		if strings.ContainsRune(forbidden, c) {
			t.Errorf("alphabet contains %q, which needs quoting", c)
		}
	}
	if symbols != "!#%+-.:=?@^_~" {
		t.Errorf("symbols = %q", symbols)
	}
}

func TestDefaults(t *testing.T) {
	pw := mustNew(t, Options{})
	if pw.Kind != Password {
		t.Errorf("default kind = %q, want %q", pw.Kind, Password)
	}
	if len(pw.Value) != 24 {
		t.Errorf("default password length = %d, want 24", len(pw.Value))
	}

	pp := mustNew(t, Options{Kind: Passphrase})
	if pp.Kind != Passphrase {
		t.Errorf("kind = %q, want %q", pp.Kind, Passphrase)
	}
	if n := countPhraseWords(t, effWords(t), string(pp.Value), "-"); n != 6 {
		t.Errorf("default passphrase %q has %d words, want 6", pp.Value, n)
	}

	tok := mustNew(t, Options{Kind: Token})
	if tok.Kind != Token {
		t.Errorf("kind = %q, want %q", tok.Kind, Token)
	}
	if len(tok.Value) != 64 {
		t.Errorf("default token %q has %d chars, want 64", tok.Value, len(tok.Value))
	}
	raw, err := hex.DecodeString(string(tok.Value))
	if err != nil || len(raw) != 32 {
		t.Errorf("default token is not 32 hex-encoded bytes: %v", err)
	}
	if strings.ToLower(string(tok.Value)) != string(tok.Value) {
		t.Errorf("hex token %q is not lower case", tok.Value)
	}
}

func TestBounds(t *testing.T) {
	tests := []struct {
		name    string
		o       Options
		wantErr string // "" means success
	}{
		{"length min", Options{Length: 8}, ""},
		{"length max", Options{Length: 1024}, ""},
		{"length below", Options{Length: 7}, "length must be between 8 and 1024"},
		{"length above", Options{Length: 1025}, "length must be between 8 and 1024"},
		{"length negative", Options{Length: -1}, "length must be between 8 and 1024"},
		{"length no symbols below", Options{Length: 7, NoSymbols: true}, "length must be between 8 and 1024"},
		{"words min", Options{Kind: Passphrase, Words: 3}, ""},
		{"words max", Options{Kind: Passphrase, Words: 64}, ""},
		{"words below", Options{Kind: Passphrase, Words: 2}, "words must be between 3 and 64"},
		{"words above", Options{Kind: Passphrase, Words: 65}, "words must be between 3 and 64"},
		{"words negative", Options{Kind: Passphrase, Words: -6}, "words must be between 3 and 64"},
		{"bytes min", Options{Kind: Token, Bytes: 16}, ""},
		{"bytes max", Options{Kind: Token, Bytes: 4096}, ""},
		{"bytes below", Options{Kind: Token, Bytes: 15}, "bytes must be between 16 and 4096"},
		{"bytes above", Options{Kind: Token, Bytes: 4097}, "bytes must be between 16 and 4096"},
		{"bytes negative", Options{Kind: Token, Bytes: -32}, "bytes must be between 16 and 4096"},
		{"unknown kind", Options{Kind: "pin"}, `unknown kind "pin"`},
		{"kind is case sensitive", Options{Kind: "Password"}, `unknown kind "Password"`},
		{"unknown encoding", Options{Kind: Token, Encoding: "base32"}, `unknown encoding "base32"`},
		{"encoding is case sensitive", Options{Kind: Token, Encoding: "HEX"}, `unknown encoding "HEX"`},
		// Options for other kinds are ignored.
		{"password ignores words", Options{Words: 1}, ""},
		{"token ignores length", Options{Kind: Token, Length: 1}, ""},
		{"passphrase ignores encoding", Options{Kind: Passphrase, Encoding: "nope"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := New(tt.o)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New(%+v): %v", tt.o, err)
				}
				if len(r.Value) == 0 {
					t.Fatalf("New(%+v) returned an empty value", tt.o)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%+v) = %q, want error containing %q", tt.o, r.Value, tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New(%+v) error %q, want it to contain %q", tt.o, err, tt.wantErr)
			}
			if r.Value != nil {
				t.Errorf("New(%+v) returned a value with an error", tt.o)
			}
		})
	}
}

func TestBoundsLengths(t *testing.T) {
	for _, n := range []int{8, 9, 100, 1024} {
		if got := len(mustNew(t, Options{Length: n}).Value); got != n {
			t.Errorf("Length %d: got %d characters", n, got)
		}
	}
	for _, n := range []int{3, 64} {
		got := countPhraseWords(t, effWords(t), string(mustNew(t, Options{Kind: Passphrase, Words: n}).Value), "-")
		if got != n {
			t.Errorf("Words %d: got %d words", n, got)
		}
	}
}

func checkPassword(t *testing.T, pw []byte, length int, noSymbols bool) {
	t.Helper()
	if len(pw) != length {
		t.Fatalf("password %q has length %d, want %d", pw, len(pw), length)
	}
	alphabet := fullAlphabet
	if noSymbols {
		alphabet = alphanumeric
	}
	var u, l, d, s bool
	for _, c := range string(pw) {
		if !strings.ContainsRune(alphabet, c) {
			t.Fatalf("password %q contains %q, outside the alphabet", pw, c)
		}
		u = u || strings.ContainsRune(upper, c)
		l = l || strings.ContainsRune(lower, c)
		d = d || strings.ContainsRune(digits, c)
		s = s || strings.ContainsRune(symbols, c)
	}
	if !u || !l || !d {
		t.Fatalf("password %q lacks a class: upper=%v lower=%v digit=%v", pw, u, l, d)
	}
	if noSymbols && s {
		t.Fatalf("NoSymbols password %q contains a symbol", pw)
	}
	if !noSymbols && !s {
		t.Fatalf("password %q has no symbol", pw)
	}
}

func TestPasswordClasses(t *testing.T) {
	for _, length := range []int{8, 24} {
		for _, noSymbols := range []bool{false, true} {
			// Count how often each position holds a symbol/digit: the
			// required classes must not be pinned to fixed positions.
			firstIsLetter := 0
			for range 2000 {
				r := mustNew(t, Options{Length: length, NoSymbols: noSymbols})
				checkPassword(t, r.Value, length, noSymbols)
				if strings.ContainsRune(upper+lower, rune(r.Value[0])) {
					firstIsLetter++
				}
			}
			// 52/75 (or 52/62) of first characters should be letters; a
			// fixed "digit first" layout would give none.
			if firstIsLetter < 1000 || firstIsLetter == 2000 {
				t.Errorf("length %d noSymbols %v: first character was a letter %d/2000 times",
					length, noSymbols, firstIsLetter)
			}
		}
	}
}

// countPhraseWords splits phrase into EFF words joined by sep and returns how
// many there are. Some EFF words contain "-", so with that separator the split
// is done by search; the test fails unless exactly one split exists.
func countPhraseWords(t testing.TB, words map[string]bool, phrase, sep string) int {
	t.Helper()
	parts := strings.Split(phrase, sep)
	// ways[i] lists the word counts of every split of parts[i:].
	type split struct{ ways, words int }
	memo := map[int]split{}
	var solve func(i int) split
	solve = func(i int) split {
		if i == len(parts) {
			return split{1, 0}
		}
		if s, ok := memo[i]; ok {
			return s
		}
		var s split
		for j := i + 1; j <= len(parts); j++ {
			if words[strings.Join(parts[i:j], sep)] {
				r := solve(j)
				s.ways += r.ways
				s.words = r.words + 1
			}
		}
		memo[i] = s
		return s
	}
	s := solve(0)
	if s.ways != 1 {
		t.Fatalf("passphrase %q splits into EFF words joined by %q in %d ways, want 1", phrase, sep, s.ways)
	}
	return s.words
}

func TestPassphrase(t *testing.T) {
	words := effWords(t)
	for _, sep := range []string{"", "-", " ", ".", "_", "--", "+X+"} {
		want := sep
		if want == "" {
			want = "-"
		}
		for range 200 {
			r := mustNew(t, Options{Kind: Passphrase, Words: 5, Separator: sep})
			if n := countPhraseWords(t, words, string(r.Value), want); n != 5 {
				t.Fatalf("separator %q: %q has %d words, want 5", sep, r.Value, n)
			}
		}
	}

	// With a separator no word contains, the words can be checked directly.
	for range 500 {
		r := mustNew(t, Options{Kind: Passphrase, Separator: " "})
		parts := strings.Split(string(r.Value), " ")
		if len(parts) != 6 {
			t.Fatalf("%q: %d words, want 6", r.Value, len(parts))
		}
		seen := map[string]bool{}
		for _, w := range parts {
			if !words[w] {
				t.Fatalf("%q: %q is not in the EFF large list", r.Value, w)
			}
			if seen[w] {
				t.Fatalf("%q repeats %q", r.Value, w)
			}
			seen[w] = true
		}
	}
}

func TestTokenEncodings(t *testing.T) {
	for _, n := range []int{16, 17, 18, 32, 4096} {
		for _, tc := range []struct {
			enc    string
			decode func(string) ([]byte, error)
			chars  string
		}{
			{"", hex.DecodeString, "0123456789abcdef"},
			{"hex", hex.DecodeString, "0123456789abcdef"},
			{"base64", base64.StdEncoding.Strict().DecodeString,
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="},
			{"base64url", base64.RawURLEncoding.Strict().DecodeString,
				"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"},
		} {
			r := mustNew(t, Options{Kind: Token, Bytes: n, Encoding: tc.enc})
			s := string(r.Value)
			if strings.Trim(s, tc.chars) != "" {
				t.Errorf("bytes %d encoding %q: %q has characters outside %q", n, tc.enc, s, tc.chars)
			}
			raw, err := tc.decode(s)
			if err != nil {
				t.Errorf("bytes %d encoding %q: %q does not decode: %v", n, tc.enc, s, err)
				continue
			}
			if len(raw) != n {
				t.Errorf("bytes %d encoding %q: decodes to %d bytes", n, tc.enc, len(raw))
			}
			if r.EntropyBits != float64(8*n) {
				t.Errorf("bytes %d: entropy %v, want %d", n, r.EntropyBits, 8*n)
			}
		}
	}
	// Padding appears in std base64 when the length is not a multiple of 3.
	if r := mustNew(t, Options{Kind: Token, Bytes: 16, Encoding: "base64"}); !strings.HasSuffix(string(r.Value), "==") || len(r.Value) != 24 {
		t.Errorf("base64 of 16 bytes = %q, want 24 characters ending in ==", r.Value)
	}
	if r := mustNew(t, Options{Kind: Token, Bytes: 16, Encoding: "base64url"}); len(r.Value) != 22 {
		t.Errorf("base64url of 16 bytes = %q, want 22 characters", r.Value)
	}
}

func TestEntropy(t *testing.T) {
	tests := []struct {
		o    Options
		want float64
	}{
		{Options{}, 24 * math.Log2(75)},
		{Options{NoSymbols: true}, 24 * math.Log2(62)},
		{Options{Length: 8}, 8 * math.Log2(75)},
		{Options{Length: 1024, NoSymbols: true}, 1024 * math.Log2(62)},
		{Options{Kind: Token}, 256},
		{Options{Kind: Token, Bytes: 16, Encoding: "base64url"}, 128},
	}
	for _, tt := range tests {
		if got := mustNew(t, tt.o).EntropyBits; !approxEqual(got, tt.want) {
			t.Errorf("New(%+v).EntropyBits = %v, want %v", tt.o, got, tt.want)
		}
	}
	if got := mustNew(t, Options{}).EntropyBits; math.Abs(got-149.49) > 0.01 {
		t.Errorf("default password entropy %v, want about 149.5", got)
	}

	// Passphrases: words never repeat, so log2(7776*7775*...).
	for _, n := range []int{3, 6, 64} {
		want := 0.0
		for i := range n {
			want += math.Log2(float64(7776 - i))
		}
		got := mustNew(t, Options{Kind: Passphrase, Words: n}).EntropyBits
		if !approxEqual(got, want) {
			t.Errorf("%d words: entropy %v, want %v", n, got, want)
		}
		if upperBound := float64(n) * math.Log2(7776); got > upperBound || upperBound-got > 0.5 {
			t.Errorf("%d words: entropy %v, want just under %d*log2(7776) = %v", n, got, n, upperBound)
		}
	}
	if got := mustNew(t, Options{Kind: Passphrase}).EntropyBits; math.Abs(got-77.5) > 0.1 {
		t.Errorf("6 words: entropy %v, want about 77.5", got)
	}
}

func TestDrawsDiffer(t *testing.T) {
	for _, o := range []Options{
		{}, {Length: 8, NoSymbols: true}, {Kind: Passphrase, Words: 3}, {Kind: Token, Bytes: 16},
	} {
		a, b := mustNew(t, o), mustNew(t, o)
		if bytes.Equal(a.Value, b.Value) {
			t.Errorf("two draws with %+v are equal: %q", o, a.Value)
		}
	}
}

var errBoom = errors.New("boom: entropy pool on fire")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBoom }

// afterReader serves n random bytes, then fails.
type afterReader struct {
	n int
}

func (r *afterReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, errBoom
	}
	p = p[:min(len(p), r.n)]
	r.n -= len(p)
	return io.ReadFull(randReader0, p)
}

var randReader0 = randReader // the real source, captured before any test swaps it

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

var allKinds = []Options{
	{},
	{NoSymbols: true},
	{Length: 1024},
	{Kind: Passphrase},
	{Kind: Passphrase, Words: 64},
	{Kind: Token},
	{Kind: Token, Encoding: "base64"},
	{Kind: Token, Bytes: 4096, Encoding: "base64url"},
}

func TestRandomFailure(t *testing.T) {
	for _, o := range allKinds {
		for _, tc := range []struct {
			name string
			r    func() io.Reader
		}{
			{"fails at once", func() io.Reader { return failingReader{} }},
			{"fails after 10 bytes", func() io.Reader { return &afterReader{n: 10} }},
		} {
			withReader(t, tc.r())
			r, err := New(o)
			if !errors.Is(err, errBoom) {
				t.Errorf("%s: New(%+v) error = %v, want it to wrap %v", tc.name, o, err, errBoom)
			}
			if r.Value != nil || r.EntropyBits != 0 {
				t.Errorf("%s: New(%+v) returned %+v with an error", tc.name, o, r)
			}
		}
	}
}

func TestStuckRandomSource(t *testing.T) {
	// A source that returns zeros forever cannot produce a password with
	// every class, nor six distinct words: New must fail, not hang.
	withReader(t, zeroReader{})
	for _, o := range []Options{{}, {NoSymbols: true}, {Kind: Passphrase}} {
		r, err := New(o)
		if !errors.Is(err, errBrokenSource) {
			t.Errorf("New(%+v) with a stuck source: error %v, want %v", o, err, errBrokenSource)
		}
		if r.Value != nil {
			t.Errorf("New(%+v) with a stuck source returned %q", o, r.Value)
		}
	}
}

// cycleReader repeats pattern forever.
type cycleReader struct {
	pattern []byte
	i       int
}

func (c *cycleReader) Read(p []byte) (int, error) {
	for k := range p {
		p[k] = c.pattern[c.i%len(c.pattern)]
		c.i++
	}
	return len(p), nil
}

func TestFillFromAlphabetRejectsBiasedBytes(t *testing.T) {
	// 75 characters: bytes 225..255 would bias the first 31 characters and
	// must be skipped. 224 = 2*75+74 maps to the last character.
	withReader(t, &cycleReader{pattern: []byte{225, 240, 255, 224, 0}})
	dst := make([]byte, 100)
	if err := fillFromAlphabet(dst, fullAlphabet); err != nil {
		t.Fatal(err)
	}
	for i, c := range dst {
		want := fullAlphabet[74]
		if i%2 == 1 {
			want = fullAlphabet[0]
		}
		if c != want {
			t.Fatalf("dst[%d] = %q, want %q (dst %q)", i, c, want, dst)
		}
	}

	// 62 characters: bytes 248..255 are skipped.
	withReader(t, &cycleReader{pattern: []byte{248, 255, 247}})
	if err := fillFromAlphabet(dst, alphanumeric); err != nil {
		t.Fatal(err)
	}
	if want := strings.Repeat(alphanumeric[247%62:247%62+1], len(dst)); string(dst) != want {
		t.Fatalf("got %q, want %q", dst, want)
	}
}

func TestUniformity(t *testing.T) {
	// Each character should appear perCharacter times; allow ±7%, about 7
	// standard deviations. Modulo bias (bytes%75 or bytes%62 without
	// rejection) skews some characters by 12-21% and a stuck index by far
	// more, so either fails.
	const perCharacter = 10000
	for _, alphabet := range []string{fullAlphabet, alphanumeric} {
		dst := make([]byte, perCharacter*len(alphabet))
		if err := fillFromAlphabet(dst, alphabet); err != nil {
			t.Fatal(err)
		}
		var counts [256]int
		for _, c := range dst {
			counts[c]++
		}
		for i := range 256 {
			c := byte(i)
			in := strings.IndexByte(alphabet, c) >= 0
			switch {
			case !in && counts[c] != 0:
				t.Errorf("%q appeared %d times but is not in the alphabet", c, counts[c])
			case in && math.Abs(float64(counts[c]-perCharacter)) > 0.07*perCharacter:
				t.Errorf("alphabet of %d: %q appeared %d times, want %d±7%%", len(alphabet), c, counts[c], perCharacter)
			}
		}
	}
}

func BenchmarkPassword(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPasswordMinLength(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{Length: 8}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPassphrase(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{Kind: Passphrase}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToken(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{Kind: Token}); err != nil {
			b.Fatal(err)
		}
	}
}
