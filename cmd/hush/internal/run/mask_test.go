package run

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	randv2 "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is the masker's underlying writer: the idle flush writes from
// a timer goroutine, so reads and writes are locked.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func byteSecrets(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// referenceMask is what the masker must produce for the whole input at
// once: leftmost match first, the longest secret when several start there.
// Values shorter than minMaskLen are not masked.
func referenceMask(input []byte, secrets [][]byte) string {
	var olds []string
	for _, s := range secrets {
		if len(s) >= minMaskLen && !slices.Contains(olds, string(s)) {
			olds = append(olds, string(s))
		}
	}
	if len(olds) == 0 {
		return string(input)
	}
	slices.SortStableFunc(olds, func(a, b string) int { return len(b) - len(a) })
	var args []string
	for _, o := range olds {
		args = append(args, o, Concealed)
	}
	return strings.NewReplacer(args...).Replace(string(input))
}

// newQuietMasker is a masker whose idle flush never fires by itself: tests
// call onIdle where the output pauses, so the result does not depend on
// how busy the machine is.
func newQuietMasker(w io.Writer, secrets [][]byte) *Masker {
	m := NewMasker(w, secrets)
	m.idle = time.Hour
	return m
}

// maskChunks writes chunks to a fresh masker and closes it.
func maskChunks(t testing.TB, secrets [][]byte, chunks [][]byte) string {
	t.Helper()
	var buf syncBuffer
	m := newQuietMasker(&buf, secrets)
	for _, c := range chunks {
		n, err := m.Write(c)
		if err != nil || n != len(c) {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", c, n, err, len(c))
		}
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.String()
}

func mustMaskChunks(t testing.TB, secrets [][]byte, chunks ...[]byte) string {
	t.Helper()
	return maskChunks(t, secrets, chunks)
}

func mask(t testing.TB, secrets [][]byte, chunks ...string) string {
	t.Helper()
	bs := make([][]byte, len(chunks))
	for i, c := range chunks {
		bs[i] = []byte(c)
	}
	return mustMaskChunks(t, secrets, bs...)
}

func TestMaskerReplacesSecretInOneWrite(t *testing.T) {
	got := mask(t, byteSecrets("hunter22"), "password: hunter22\n")
	if want := "password: " + Concealed + "\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMaskerReplacesSeveralSecrets(t *testing.T) {
	got := mask(t, byteSecrets("alpha-key", "beta-token"), "a=alpha-key b=beta-token a=alpha-key")
	want := "a=" + Concealed + " b=" + Concealed + " a=" + Concealed
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMaskerLongestSecretFirst(t *testing.T) {
	for _, order := range [][]string{{"abcd", "abcdefgh"}, {"abcdefgh", "abcd"}} {
		secrets := byteSecrets(order...)
		if got, want := mask(t, secrets, "xxabcdefghyy"), "xx"+Concealed+"yy"; got != want {
			t.Errorf("secrets %q: got %q, want one replacement %q", order, got, want)
		}
		if got, want := mask(t, secrets, "xxabcdzz"), "xx"+Concealed+"zz"; got != want {
			t.Errorf("secrets %q: got %q, want %q", order, got, want)
		}
		// The long one split right after the short one's end.
		if got, want := mask(t, secrets, "xxabcd", "efghyy"), "xx"+Concealed+"yy"; got != want {
			t.Errorf("secrets %q, split after abcd: got %q, want %q", order, got, want)
		}
	}
}

func TestMaskerSecretSplitAtEveryPoint(t *testing.T) {
	const secret = "s3cr3t-v4lue"
	input := "before " + secret + " after"
	want := "before " + Concealed + " after"
	for i := 0; i <= len(input); i++ {
		for j := i; j <= len(input); j++ {
			got := mask(t, byteSecrets(secret), input[:i], input[i:j], input[j:])
			if got != want {
				t.Fatalf("split at %d and %d: got %q, want %q", i, j, got, want)
			}
		}
	}
}

func TestMaskerSecretByteByByte(t *testing.T) {
	secrets := byteSecrets("abcd", "abcdefgh", "s3cr3t-v4lue")
	input := "x abcdefgh y abcd z s3cr3t-v4lue abcabcdabc s3cr3t-v4lu"
	var chunks []string
	for i := range len(input) {
		chunks = append(chunks, input[i:i+1])
	}
	got := mask(t, secrets, chunks...)
	want := "x " + Concealed + " y " + Concealed + " z " + Concealed + " abc" + Concealed + "abc s3cr3t-v4lu"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, s := range secrets {
		if strings.Contains(got, string(s)) {
			t.Errorf("output %q contains secret %q", got, s)
		}
	}
}

// The masker writes a split secret's first part only once it knows it is
// not a secret: nothing of a secret reaches the writer before Close.
func TestMaskerHoldsBackPossibleSecret(t *testing.T) {
	var buf syncBuffer
	m := newQuietMasker(&buf, byteSecrets("s3cr3t-v4lue"))
	m.Write([]byte("token: s3cr3"))
	got := buf.String()
	m.Write([]byte("t-v4lue\n"))
	if got != "token: " {
		t.Errorf("after the first part, the writer got %q, want %q", got, "token: ")
	}
	m.Close()
	if got, want := buf.String(), "token: "+Concealed+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A complete secret that cannot grow into a longer one is written at once,
// not held back until more output or the idle flush.
func TestMaskerWritesCompleteSecretAtOnce(t *testing.T) {
	var buf syncBuffer
	m := newQuietMasker(&buf, byteSecrets("wxyz", "abcdefgh"))
	defer m.Close()
	m.Write([]byte("token=wxyz"))
	got := buf.String()
	if want := "token=" + Concealed; got != want {
		t.Fatalf("right after the write, the writer has %q, want %q", got, want)
	}
}

// A secret written in pieces with pauses of any length between them shows
// at most its first maxShown bytes, wherever it is cut: the pauses are the
// idle flush firing (several times) between pieces.
func TestMaskerPausesShowAtMostMaxShown(t *testing.T) {
	const secret = "postgres://app:s3cr3t@db"
	secrets := byteSecrets(secret, "post-it-note", "s3cr3t")
	for i := 0; i <= len(secret); i++ {
		for j := i; j <= len(secret); j++ {
			var buf syncBuffer
			m := newQuietMasker(&buf, secrets)
			for _, piece := range []string{"url=" + secret[:i], secret[i:j], secret[j:] + "\n"} {
				m.Write([]byte(piece))
				m.onIdle()
				m.onIdle()
			}
			m.Close()
			// After each pause, up to maxShown of what has come of the
			// secret shows, unless it came whole.
			shown := 0
			for _, sofar := range []int{i, j} {
				if sofar < len(secret) {
					shown = max(shown, min(sofar, maxShown))
				}
			}
			want := "url=" + secret[:shown] + Concealed + "\n"
			if got := buf.String(); got != want {
				t.Fatalf("pieces cut at %d and %d: got %q, want %q", i, j, got, want)
			}
		}
	}
}

// The same with the real idle flush and real pauses, several times longer
// than it: whatever the timing, no more than maxShown bytes show.
func TestMaskerRealPausesShowAtMostMaxShown(t *testing.T) {
	const secret = "postgres://app:s3cr3t@db"
	for _, cut := range []int{1, 3, 4, 10, len(secret) - 1} {
		var buf syncBuffer
		m := NewMasker(&buf, byteSecrets(secret))
		m.Write([]byte("url=" + secret[:cut]))
		time.Sleep(4 * idleFlush)
		m.Write([]byte(secret[cut:] + "\n"))
		m.Close()
		got := buf.String()
		ok := false
		for n := 0; n <= maxShown; n++ {
			ok = ok || got == "url="+secret[:n]+Concealed+"\n"
		}
		if !ok {
			t.Fatalf("cut at %d with a pause: got %q, want at most %d bytes of the secret then %q", cut, got, maxShown, Concealed)
		}
	}
}

func TestMaskerIgnoresShortValues(t *testing.T) {
	got := mask(t, byteSecrets("yes", "1", "", "abc"), "yes 1 abc abcd")
	if want := "yes 1 abc abcd"; got != want {
		t.Fatalf("got %q, want %q (values under 4 bytes are not masked)", got, want)
	}
	got = mask(t, byteSecrets("abc", "abcd"), "abc abcd")
	if want := "abc " + Concealed; got != want {
		t.Fatalf("got %q, want %q (4 bytes are masked)", got, want)
	}
}

func TestMaskerDuplicateSecrets(t *testing.T) {
	got := mask(t, byteSecrets("hunter22", "hunter22", "hunter22"), "hunter22 hunter2")
	if want := Concealed + " hunter2"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMaskerWithoutSecretsIsIdentity(t *testing.T) {
	input := "any output\x00\xff with bytes hunter22\n"
	for _, secrets := range [][][]byte{nil, byteSecrets("ab", "x")} {
		if got := mask(t, secrets, input[:5], input[5:]); got != input {
			t.Errorf("secrets %q: got %q, want the input unchanged", secrets, got)
		}
	}
}

func TestMaskerCloseWritesHeldBackText(t *testing.T) {
	// "pass" and "passw" look like the start of the secret: they are held
	// back, then written as they are.
	for _, tail := range []string{"p", "pass", "passwor"} {
		got := mask(t, byteSecrets("password1"), "prompt: ", tail)
		if want := "prompt: " + tail; got != want {
			t.Errorf("tail %q: got %q, want %q", tail, got, want)
		}
	}
}

// A prompt that happens to end like a secret's start appears after the
// idle flush even when the child writes nothing more and nothing is closed,
// as far as maxShown bytes of it.
func TestMaskerIdleFlushWritesHeldBackText(t *testing.T) {
	var buf syncBuffer
	m := NewMasker(&buf, byteSecrets("password1"))
	defer m.Close()
	if _, err := m.Write([]byte("Enter pass")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for buf.String() != "Enter pas" {
		if time.Now().After(deadline) {
			t.Fatalf("after 20s the writer has %q, want %q", buf.String(), "Enter pas")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Masking goes on after an idle flush.
	if _, err := m.Write([]byte(" ok password1\n")); err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got, want := buf.String(), "Enter pass ok "+Concealed+"\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// "abcd" is complete but could still grow into "abcdefgh": a pause shows
// "abc", and "d" waits for what follows, however long.
func TestMaskerIdleFlushHoldsCompleteSecretThatCanGrow(t *testing.T) {
	for _, tail := range []string{"efgh!", "!"} {
		var buf syncBuffer
		m := newQuietMasker(&buf, byteSecrets("abcd", "abcdefgh"))
		m.Write([]byte("k=abcd"))
		m.onIdle()
		if got, want := buf.String(), "k=abc"; got != want {
			t.Fatalf("after a pause the writer has %q, want %q", got, want)
		}
		m.Write([]byte(tail))
		m.Close()
		if got, want := buf.String(), "k=abc"+Concealed+tail[len(tail)-1:]; got != want {
			t.Fatalf("then %q: got %q, want %q", tail, got, want)
		}
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestMaskerReportsWriterError(t *testing.T) {
	w := &failingWriter{}
	m := NewMasker(w, byteSecrets("hunter22"))
	if _, err := m.Write([]byte("hello\n")); err == nil {
		t.Fatal("Write: no error from a failing writer")
	}
	if _, err := m.Write([]byte("again\n")); err == nil {
		t.Fatal("second Write: no error after the writer failed")
	}
	if err := m.Close(); err == nil {
		t.Fatal("Close: no error after the writer failed")
	}
	if w.n != 1 {
		t.Errorf("the failed writer was written %d times, want 1", w.n)
	}
}

// randomInput builds text from secrets, parts of secrets and filler that
// shares their bytes, so near-misses and overlaps are common.
func randomInput(r *rand.Rand, secrets []string) string {
	fillers := []string{"a", "b", "c", "x", " ", "\n", "ab", "abc", "<concealed by hush>"}
	var b strings.Builder
	for range r.Intn(30) {
		switch r.Intn(3) {
		case 0:
			b.WriteString(secrets[r.Intn(len(secrets))])
		case 1:
			s := secrets[r.Intn(len(secrets))]
			b.WriteString(s[:r.Intn(len(s))])
		default:
			b.WriteString(fillers[r.Intn(len(fillers))])
		}
	}
	return b.String()
}

func randomChunks(r interface{ IntN(int) int }, input []byte) [][]byte {
	var chunks [][]byte
	for len(input) > 0 {
		n := 1 + r.IntN(min(len(input), 12))
		if r.IntN(8) == 0 {
			n = 0 // empty writes too
		}
		chunks = append(chunks, input[:n])
		input = input[n:]
	}
	return chunks
}

type intn struct{ r *rand.Rand }

func (r intn) IntN(n int) int { return r.r.Intn(n) }

func TestMaskerMatchesWholeInputReference(t *testing.T) {
	sets := [][]string{
		{"abcd", "abcdefgh"},
		{"aaaa", "aaaaaa"},
		{"abab", "baba", "ababab"},
		{"abcx", "bcxa", "cxab"},
		{"password1", "pass word", "abc"},
		{"xxxx"},
	}
	r := rand.New(rand.NewSource(1))
	for _, set := range sets {
		secrets := byteSecrets(set...)
		for range 300 {
			input := []byte(randomInput(r, set))
			chunks := randomChunks(intn{r}, input)
			got := mustMaskChunks(t, secrets, chunks...)
			if want := referenceMask(input, secrets); got != want {
				t.Fatalf("secrets %q, chunks %q:\n got %q\nwant %q", set, chunks, got, want)
			}
		}
	}
}

func TestMaskerConcurrentWrites(t *testing.T) {
	const secret = "TOPSECRET-42"
	var buf syncBuffer
	m := NewMasker(&buf, byteSecrets(secret, "other-secret"))
	const writers, lines = 8, 50
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(m, "goroutine %d line %d: %s\n", g, i, secret)
			}
		})
	}
	wg.Wait()
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, secret) {
		t.Fatalf("output contains the secret:\n%s", out)
	}
	if n := strings.Count(out, Concealed); n != writers*lines {
		t.Fatalf("%d replacements, want %d", n, writers*lines)
	}
	if n := strings.Count(out, "\n"); n != writers*lines {
		t.Fatalf("%d lines, want %d", n, writers*lines)
	}
}

// FuzzMasker: data holds NUL-separated secrets followed by the text, and
// the text is data itself, so the secrets occur in it; split seeds how the
// text is cut into writes. Chunked masking must equal the whole-input
// reference.
func FuzzMasker(f *testing.F) {
	f.Add([]byte("abcd\x00abcdefgh\x00xxabcdefghyy xxabcdzz"), uint16(3))
	f.Add([]byte("aaaa\x00aaaaaa\x00aaaaaaaaaaaaaaa"), uint16(1))
	f.Add([]byte("hunter22\x00pass: hunter2 hunter22"), uint16(0xffff))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		fields := bytes.Split(data, []byte{0})
		secrets := fields[:len(fields)-1]
		if len(secrets) > 6 {
			secrets = secrets[:6]
		}
		r := randv2.New(randv2.NewPCG(uint64(split), uint64(len(data))))
		chunks := randomChunks(r, data)
		got := maskChunks(t, secrets, chunks)
		if want := referenceMask(data, secrets); got != want {
			t.Fatalf("secrets %q, chunks %q:\n got %q\nwant %q", secrets, chunks, got, want)
		}
	})
}

// A terminal turns "\n" into "\r\n": a multi-line secret seen through a
// pseudo-terminal must still be concealed.
func TestMaskerMultiLineThroughTerminal(t *testing.T) {
	var out bytes.Buffer
	m := NewMasker(&out, [][]byte{[]byte("line-one-secret\nline-two-secret")})
	m.Write([]byte("key:\r\nline-one-secret\r\nline-two-secret\r\nend"))
	m.Close()
	if strings.Contains(out.String(), "secret") || !strings.Contains(out.String(), Concealed) {
		t.Fatalf("multi-line secret with CRLF not concealed: %q", out.String())
	}
}
