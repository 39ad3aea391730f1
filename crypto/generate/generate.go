// Package generate makes new secret values: random passwords, diceware
// passphrases and random tokens. Every value comes from crypto/rand; if the
// random source fails, New returns an error and never a weaker value.
//
// # Kinds and default strength
//
// Strength is reported in [Result.EntropyBits]: log2 of the number of equally
// likely outputs, that is the work an attacker who knows the options must do.
//
//   - Password (the default): 24 characters drawn uniformly from 75
//     characters, A-Z a-z 0-9 and the 13 symbols !#%+-.:=?@^_~, about 149.5
//     bits (24*log2(75)). With NoSymbols the alphabet is A-Z a-z 0-9 (62
//     characters): about 142.9 bits (24*log2(62)). A password always holds
//     at least one lower-case letter, one upper-case letter, one digit and,
//     unless NoSymbols is set, one symbol. Whole passwords are drawn again
//     until that holds, so no character sits at a predictable position. The
//     rule removes a few outputs, so the reported length*log2(alphabet)
//     slightly overstates the strength: by about 0.06 bits at 24 characters
//     and at most about 1.1 bits at the minimum of 8.
//   - Passphrase: 6 words from the EFF large word list (7776 words), chosen
//     by github.com/sethvargo/go-diceware and joined by "-": about 77.5 bits.
//     The generator never repeats a word within a passphrase, so the figure
//     is log2(7776*7775*...) rather than words*log2(7776); the difference is
//     0.003 bits at 6 words. The figure assumes the phrase can be split back
//     into its words, which holds for the default separator and for any
//     separator that contains no lower-case letter.
//   - Token: 32 bytes from crypto/rand, hex encoded (64 characters): 256
//     bits (8 bits per byte, whatever the encoding).
//
// The password symbols were chosen to need no quoting in shells, .env files,
// YAML or JSON (URL userinfo excepted): there are no quotes, backslash,
// dollar, backtick, space, &, ;, |, <, >, *, parentheses, braces, brackets,
// comma or slash. Caveat: a few still mean something as the first character
// of a word or value (# and ~ in shells, ! # % @ in YAML), so a password that
// starts with one of them needs quoting there.
package generate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/sethvargo/go-diceware/diceware"
)

// Kind selects what sort of secret New makes.
type Kind string

const (
	Password   Kind = "password"
	Passphrase Kind = "passphrase"
	Token      Kind = "token"
)

// Options configures New. Zero values select the defaults. Fields that do not
// apply to the chosen Kind are ignored.
type Options struct {
	Kind      Kind   // "" means Password
	Length    int    // password length in characters; 0 -> 24. Allowed 8..1024
	NoSymbols bool   // password: letters and digits only
	Words     int    // passphrase words; 0 -> 6. Allowed 3..64
	Separator string // passphrase separator; "" -> "-"
	Bytes     int    // token random bytes; 0 -> 32. Allowed 16..4096
	Encoding  string // token: "hex" (default), "base64" (std, padded), "base64url" (raw, unpadded)
}

// Result is a newly generated secret.
type Result struct {
	// Value is the secret. The caller owns it and may overwrite it when done.
	Value []byte
	// Kind is the kind that was generated (Password when Options.Kind was "").
	Kind Kind
	// EntropyBits is log2 of the number of equally likely outputs. For
	// passwords it is length*log2(alphabet size), a slight overstatement
	// because of the required character classes (see the package comment).
	EntropyBits float64
}

// Defaults and bounds.
const (
	defaultLength = 24
	minLength     = 8
	maxLength     = 1024

	defaultWords = 6
	minWords     = 3
	maxWords     = 64

	defaultSeparator = "-"

	defaultBytes = 32
	minBytes     = 16
	maxBytes     = 4096

	encHex       = "hex"
	encBase64    = "base64"
	encBase64URL = "base64url"
)

// Password alphabet, by class.
const (
	upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower   = "abcdefghijklmnopqrstuvwxyz"
	digits  = "0123456789"
	symbols = "!#%+-.:=?@^_~"

	alphanumeric = upper + lower + digits
	fullAlphabet = alphanumeric + symbols
)

// maxPasswordAttempts bounds the redraws of a password that lacks a required
// class. With a working random source the worst case (8 characters) succeeds
// about 47% of the time per draw, so reaching the bound means the source is
// broken (for example it returns the same byte forever).
const maxPasswordAttempts = 1000

// randReader is the source of all randomness. Tests replace it.
var randReader io.Reader = rand.Reader

// passphraseReadBudget caps the random bytes one passphrase may consume. The
// diceware generator redraws repeated words without limit, so a stuck source
// would otherwise make it loop forever. 64 words take about 450 bytes.
const passphraseReadBudget = 1 << 16

// errBrokenSource reports a random source that never yields a usable value.
var errBrokenSource = errors.New("random source looks broken")

// budgetReader reads from r until left bytes have been read, then fails.
type budgetReader struct {
	r    io.Reader
	left int
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errBrokenSource
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= n
	return n, err
}

// New generates a secret as described by o. Out-of-range options, an unknown
// Kind or an unknown Encoding are reported as errors naming the option and
// what is allowed. A failure of the random source is returned as an error.
func New(o Options) (Result, error) {
	switch o.Kind {
	case "", Password:
		return newPassword(o)
	case Passphrase:
		return newPassphrase(o)
	case Token:
		return newToken(o)
	default:
		return Result{}, fmt.Errorf("unknown kind %q (want %s, %s or %s)", o.Kind, Password, Passphrase, Token)
	}
}

func checkRange(name string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s must be between %d and %d, got %d", name, lo, hi, v)
	}
	return nil
}

func randomFailure(k Kind, err error) error {
	return fmt.Errorf("generate %s: reading random source: %w", k, err)
}

func newPassword(o Options) (Result, error) {
	length := o.Length
	if length == 0 {
		length = defaultLength
	}
	if err := checkRange("length", length, minLength, maxLength); err != nil {
		return Result{}, err
	}
	alphabet := fullAlphabet
	if o.NoSymbols {
		alphabet = alphanumeric
	}

	pw := make([]byte, length)
	for range maxPasswordAttempts {
		if err := fillFromAlphabet(pw, alphabet); err != nil {
			clear(pw)
			return Result{}, randomFailure(Password, err)
		}
		if hasRequiredClasses(pw, !o.NoSymbols) {
			return Result{
				Value:       pw,
				Kind:        Password,
				EntropyBits: float64(length) * math.Log2(float64(len(alphabet))),
			}, nil
		}
	}
	clear(pw)
	return Result{}, fmt.Errorf("generate %s: %w: no password with every required character class in %d draws", Password, errBrokenSource, maxPasswordAttempts)
}

// fillFromAlphabet fills dst with characters chosen uniformly and
// independently from alphabet (at most 256 characters). Random bytes at or
// above the largest multiple of len(alphabet) are rejected, so every
// character is equally likely (no modulo bias).
func fillFromAlphabet(dst []byte, alphabet string) error {
	n := len(alphabet)
	if n == 0 || n > 256 {
		panic("generate: alphabet size out of range")
	}
	limit := 256 - 256%n // accept bytes in [0, limit)
	buf := make([]byte, len(dst)+len(dst)/4+8)
	defer clear(buf)

	i := 0
	for i < len(dst) {
		need := len(dst) - i
		chunk := buf[:min(len(buf), need+need/4+8)]
		if _, err := io.ReadFull(randReader, chunk); err != nil {
			return err
		}
		for _, b := range chunk {
			if int(b) >= limit {
				continue
			}
			dst[i] = alphabet[int(b)%n]
			i++
			if i == len(dst) {
				break
			}
		}
	}
	return nil
}

func hasRequiredClasses(pw []byte, needSymbol bool) bool {
	var hasUpper, hasLower, hasDigit, hasSymbol bool
	for _, c := range pw {
		switch {
		case 'A' <= c && c <= 'Z':
			hasUpper = true
		case 'a' <= c && c <= 'z':
			hasLower = true
		case '0' <= c && c <= '9':
			hasDigit = true
		default:
			hasSymbol = true
		}
	}
	return hasUpper && hasLower && hasDigit && (hasSymbol || !needSymbol)
}

func newPassphrase(o Options) (Result, error) {
	words := o.Words
	if words == 0 {
		words = defaultWords
	}
	if err := checkRange("words", words, minWords, maxWords); err != nil {
		return Result{}, err
	}
	sep := o.Separator
	if sep == "" {
		sep = defaultSeparator
	}

	list := diceware.WordListEffLarge()
	gen, err := diceware.NewGenerator(&diceware.GeneratorInput{
		WordList:   list,
		RandReader: &budgetReader{r: randReader, left: passphraseReadBudget},
	})
	if err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", Passphrase, err)
	}
	ws, err := gen.Generate(words)
	if err != nil {
		return Result{}, randomFailure(Passphrase, err)
	}
	if len(ws) != words {
		return Result{}, fmt.Errorf("generate %s: got %d words, want %d", Passphrase, len(ws), words)
	}

	size := len(sep) * (words - 1)
	for _, w := range ws {
		size += len(w)
	}
	phrase := make([]byte, 0, size)
	for i, w := range ws {
		if i > 0 {
			phrase = append(phrase, sep...)
		}
		phrase = append(phrase, w...)
	}

	return Result{
		Value:       phrase,
		Kind:        Passphrase,
		EntropyBits: passphraseEntropy(effListSize(list), words),
	}, nil
}

// effListSize is the number of words in the list (7776 for EFF large).
func effListSize(list diceware.WordList) int {
	if c, ok := list.(diceware.WordListNumWordser); ok {
		return c.NumWords()
	}
	return int(math.Pow(6, float64(list.Digits())))
}

// passphraseEntropy is log2(n*(n-1)*...*(n-words+1)): the generator picks
// words uniformly without repeating one.
func passphraseEntropy(n, words int) float64 {
	var bits float64
	for i := range words {
		bits += math.Log2(float64(n - i))
	}
	return bits
}

func newToken(o Options) (Result, error) {
	nbytes := o.Bytes
	if nbytes == 0 {
		nbytes = defaultBytes
	}
	if err := checkRange("bytes", nbytes, minBytes, maxBytes); err != nil {
		return Result{}, err
	}

	var encode func(dst, src []byte)
	var encodedLen int
	switch o.Encoding {
	case "", encHex:
		encode, encodedLen = func(dst, src []byte) { hex.Encode(dst, src) }, hex.EncodedLen(nbytes)
	case encBase64:
		encode, encodedLen = base64.StdEncoding.Encode, base64.StdEncoding.EncodedLen(nbytes)
	case encBase64URL:
		encode, encodedLen = base64.RawURLEncoding.Encode, base64.RawURLEncoding.EncodedLen(nbytes)
	default:
		return Result{}, fmt.Errorf("unknown encoding %q (want %s, %s or %s)", o.Encoding, encHex, encBase64, encBase64URL)
	}

	raw := make([]byte, nbytes)
	defer clear(raw)
	if _, err := io.ReadFull(randReader, raw); err != nil {
		return Result{}, randomFailure(Token, err)
	}
	out := make([]byte, encodedLen)
	encode(out, raw)

	return Result{
		Value:       out,
		Kind:        Token,
		EntropyBits: float64(8 * nbytes),
	}, nil
}
