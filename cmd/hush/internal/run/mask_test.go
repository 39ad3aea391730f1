package run

import (
	"bytes"
	"errors"
	"fmt"
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

// maskChunks writes chunks to a fresh masker and closes it. ok is false
// when the writes took so long that the idle flush may have written a
// held-back prefix early, which makes an exact comparison meaningless.
func maskChunks(t testing.TB, secrets [][]byte, chunks [][]byte) (out string, ok bool) {
	t.Helper()
	var buf syncBuffer
	start := time.Now()
	m := NewMasker(&buf, secrets)
	for _, c := range chunks {
		n, err := m.Write(c)
		if err != nil || n != len(c) {
			t.Fatalf("Write(%q) = %d, %v; want %d, nil", c, n, err, len(c))
		}
	}
	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return buf.String(), time.Since(start) < idleFlush
}

// mustMaskChunks is maskChunks retried a few times when the machine was too
// slow; the masker itself is deterministic without the idle flush.
func mustMaskChunks(t testing.TB, secrets [][]byte, chunks ...[]byte) string {
	t.Helper()
	for range 5 {
		if out, ok := maskChunks(t, secrets, chunks); ok {
			return out
		}
	}
	t.Skip("machine too slow: every attempt outlasted the idle flush")
	return ""
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
	start := time.Now()
	m := NewMasker(&buf, byteSecrets("s3cr3t-v4lue"))
	m.Write([]byte("token: s3cr3"))
	got := buf.String()
	m.Write([]byte("t-v4lue\n"))
	if time.Since(start) >= idleFlush {
		t.Skip("machine too slow: the idle flush may have run")
	}
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
	start := time.Now()
	m := NewMasker(&buf, byteSecrets("wxyz", "abcdefgh"))
	defer m.Close()
	m.Write([]byte("token=wxyz"))
	got := buf.String()
	if time.Since(start) >= idleFlush {
		t.Skip("machine too slow: the idle flush may have run")
	}
	if want := "token=" + Concealed; got != want {
		t.Fatalf("right after the write, the writer has %q, want %q", got, want)
	}
}

// The idle flush waits for the output to pause: a secret that trickles out
// in parts, each sooner than the idle time after the last, stays masked
// even when the whole takes longer than the idle time.
func TestMaskerIdleFlushWaitsForQuiet(t *testing.T) {
	const secret = "password1"
	var buf syncBuffer
	m := NewMasker(&buf, byteSecrets(secret))
	parts := []string{"pw: pa", "ss", "wo", "rd", "1\n"}
	pause := idleFlush / 3
	prev := time.Now()
	for i, p := range parts {
		if i > 0 {
			time.Sleep(pause)
		}
		m.Write([]byte(p))
		if now := time.Now(); now.Sub(prev) >= idleFlush-5*time.Millisecond {
			t.Skip("machine too slow: a pause outlasted the idle flush")
		} else {
			prev = now
		}
	}
	m.Close()
	if got, want := buf.String(), "pw: "+Concealed+"\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
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
// idle flush even when the child writes nothing more and nothing is closed.
func TestMaskerIdleFlushWritesHeldBackText(t *testing.T) {
	var buf syncBuffer
	m := NewMasker(&buf, byteSecrets("password1"))
	defer m.Close()
	if _, err := m.Write([]byte("Enter pass")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for buf.String() != "Enter pass" {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s the writer has %q, want %q", buf.String(), "Enter pass")
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

func TestMaskerIdleFlushStillMasksCompleteSecrets(t *testing.T) {
	var buf syncBuffer
	m := NewMasker(&buf, byteSecrets("abcd", "abcdefgh"))
	defer m.Close()
	// "abcd" is complete but could still grow into "abcdefgh": held back,
	// and when nothing follows, the idle flush writes it masked.
	m.Write([]byte("k=abcd"))
	want := "k=" + Concealed
	deadline := time.Now().Add(30 * time.Second)
	for buf.String() != want {
		if time.Now().After(deadline) {
			t.Fatalf("after 5s the writer has %q, want %q", buf.String(), want)
		}
		time.Sleep(5 * time.Millisecond)
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
		got, ok := maskChunks(t, secrets, chunks)
		if !ok {
			t.Skip("too slow: the idle flush may have run")
		}
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
