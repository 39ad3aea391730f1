package run

import (
	"bytes"
	"io"
	"sort"
	"sync"
	"time"
)

// Concealed replaces every secret value in a masked child's output.
const Concealed = "<concealed by hush>"

// minMaskLen: values this short (or shorter) are not masked; masking "1" or
// "yes" would garble ordinary output and protect nothing.
const minMaskLen = 4

// idleFlush is how long the masker holds back bytes that might be the start
// of a secret before it writes them anyway, so that a prompt that happens to
// end like the start of a secret is not hidden until more output comes.
const idleFlush = 50 * time.Millisecond

// Masker is a writer that replaces secrets with [Concealed], longest first,
// also when a secret arrives split across several writes. It is safe for
// concurrent use; Close writes what is held back.
type Masker struct {
	mu      sync.Mutex
	w       io.Writer
	secrets [][]byte // longest first
	maxLen  int
	buf     []byte
	timer   *time.Timer
	err     error
}

// NewMasker wraps w. Values shorter than 4 bytes, and duplicates, are ignored.
func NewMasker(w io.Writer, secrets [][]byte) *Masker {
	m := &Masker{w: w}
	seen := map[string]bool{}
	add := func(s []byte) {
		if len(s) < minMaskLen || seen[string(s)] {
			return
		}
		seen[string(s)] = true
		m.secrets = append(m.secrets, s)
		m.maxLen = max(m.maxLen, len(s))
	}
	for _, s := range secrets {
		add(s)
		// A terminal turns "\n" into "\r\n" (ONLCR) before we see it: a
		// multi-line secret (a key, a certificate) must match that way too.
		if bytes.Contains(s, []byte("\n")) {
			add(bytes.ReplaceAll(bytes.ReplaceAll(s, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		}
	}
	sort.SliceStable(m.secrets, func(i, j int) bool { return len(m.secrets[i]) > len(m.secrets[j]) })
	return m
}

// Write masks p and writes what is safe to write; it always reports len(p)
// unless the underlying writer failed.
func (m *Masker) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	if len(m.secrets) == 0 {
		_, m.err = m.w.Write(p)
		return len(p), m.err
	}
	m.buf = append(m.buf, p...)
	m.process(false)
	if len(m.buf) > 0 {
		if m.timer == nil {
			m.timer = time.AfterFunc(idleFlush, m.idle)
		} else {
			m.timer.Reset(idleFlush)
		}
	}
	return len(p), m.err
}

func (m *Masker) idle() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.process(true)
	}
}

// Close writes everything held back. It does not close the underlying writer.
func (m *Masker) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer != nil {
		m.timer.Stop()
	}
	if m.err == nil {
		m.process(true)
	}
	return m.err
}

// process writes m.buf with secrets replaced. Unless final, it keeps back
// the tail from the first position that could still become a secret (or a
// longer secret than the one that matches there now).
func (m *Masker) process(final bool) {
	var out bytes.Buffer
	buf := m.buf
	i, start := 0, 0
scan:
	for i < len(buf) {
		rest := buf[i:]
		if !final && len(rest) < m.maxLen {
			for _, s := range m.secrets {
				if len(s) > len(rest) && bytes.HasPrefix(s, rest) {
					break scan // might still grow into s
				}
			}
		}
		for _, s := range m.secrets {
			if bytes.HasPrefix(rest, s) {
				out.Write(buf[start:i])
				out.WriteString(Concealed)
				i += len(s)
				start = i
				continue scan
			}
		}
		i++
	}
	out.Write(buf[start:i])
	m.buf = append(m.buf[:0], buf[i:]...)
	if out.Len() > 0 {
		_, m.err = m.w.Write(out.Bytes())
	}
}
