package run

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// Concealed replaces every secret value in a masked child's output.
const Concealed = "<concealed by hush>"

// minMaskLen: values this short (or shorter) are not masked; masking "1" or
// "yes" would garble ordinary output and protect nothing.
const minMaskLen = 4

// maxShown is the most of a secret that masked output can ever show: when
// the output pauses (idleFlush) on bytes that could be the start of a
// secret, the first maxShown of them are written so that a prompt or an
// echoed key is not held back; the rest stays held for as long as it could
// still become a secret, however long that is. If it does, the part not
// yet written is replaced by [Concealed].
const maxShown = minMaskLen - 1

// idleFlush is the pause after which up to maxShown held-back bytes are
// written.
const idleFlush = 50 * time.Millisecond

// Masker is a writer that replaces secrets with [Concealed]: scanning from
// the left, the longest secret that starts at a position is replaced, also
// when it arrives split across several writes with any pauses between
// them. It is safe for concurrent use; Close writes what is held back.
type Masker struct {
	mu    sync.Mutex
	w     io.Writer
	a     *maskSet // nil: nothing to mask
	idle  time.Duration
	buf   []byte // held back: could still become (a longer) secret
	shown int    // how many of buf's first bytes were written (≤ maxShown)
	segs  []seg  // what scan found: the output of one piece, in order
	out   []byte
	timer *time.Timer
	err   error
}

// NewMasker wraps w. Values shorter than 4 bytes, and duplicates, are ignored.
func NewMasker(w io.Writer, secrets [][]byte) *Masker {
	return newMaskerWith(w, newMaskSet(secrets))
}

func newMaskerWith(w io.Writer, a *maskSet) *Masker {
	return &Masker{w: w, a: a, idle: idleFlush}
}

// newMaskSet builds the set for secrets, or nil when none is long enough
// to mask.
func newMaskSet(secrets [][]byte) *maskSet {
	var patterns [][]byte
	seen := map[string]bool{}
	add := func(s []byte) {
		if len(s) < minMaskLen || seen[string(s)] {
			return
		}
		seen[string(s)] = true
		patterns = append(patterns, s)
	}
	for _, s := range secrets {
		add(s)
		// A terminal turns "\n" into "\r\n" (ONLCR) before we see it: a
		// multi-line secret (a key, a certificate) must match that way too.
		if bytes.Contains(s, []byte("\n")) {
			add(bytes.ReplaceAll(bytes.ReplaceAll(s, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n")))
		}
	}
	if len(patterns) == 0 {
		return nil
	}
	return newMaskSetOf(patterns)
}

// Write masks p and writes what is safe to write; it always reports len(p)
// unless the underlying writer failed.
func (m *Masker) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return 0, m.err
	}
	if m.a == nil {
		_, m.err = m.w.Write(p)
		return len(p), m.err
	}
	if len(m.buf) == 0 {
		m.process(p, false) // the usual case: nothing held, no copy
	} else {
		m.buf = append(m.buf, p...)
		m.process(m.buf, false)
	}
	m.armIdle()
	return len(p), m.err
}

// armIdle starts (again) the wait after which onIdle shows the first
// held-back bytes, when some could still be shown.
func (m *Masker) armIdle() {
	if min(len(m.buf), maxShown) > m.shown {
		if m.timer == nil {
			m.timer = time.AfterFunc(m.idle, m.onIdle)
		} else {
			m.timer.Reset(m.idle)
		}
	}
}

// onIdle writes the first maxShown held-back bytes: the output paused on
// them, and a secret that they begin can show no more than that.
func (m *Masker) onIdle() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return
	}
	if n := min(len(m.buf), maxShown); n > m.shown {
		_, m.err = m.w.Write(m.buf[m.shown:n])
		m.shown = n
	}
}

// Close writes everything held back. It does not close the underlying writer.
func (m *Masker) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer != nil {
		m.timer.Stop()
	}
	if m.err == nil && len(m.buf) > 0 {
		m.process(m.buf, true)
	}
	return m.err
}

// seg is a piece of masked output: data[a:b] as it is, or, with a < 0,
// [Concealed].
type seg struct{ a, b int }

// process writes data (the held-back bytes and what follows them) with
// secrets replaced, and keeps in m.buf the tail from the first position
// that could still become a secret, or a longer secret than the one that
// matches there now. With final, nothing is kept.
func (m *Masker) process(data []byte, final bool) {
	i := m.scan(data, final)
	m.writeSegs(data)
	m.keep(data, i)
}

// scan puts in m.segs what to write for data (the held-back bytes and what
// follows them), in order, and returns where what is kept begins: the
// first position that could still become a secret, or a longer secret
// than the one that matches there now (with final: len(data)). Bytes
// onIdle already wrote (data[:m.shown]) are not written again.
//
// Scanning from the left, the skipper names the next position where a
// secret might start; walking the trie from there says whether one does
// (the longest), cannot yet tell (the data ends inside a secret: keep from
// there), or does not (go on after it). The last m-1 positions, where no
// whole secret fits, are walked one by one.
func (m *Masker) scan(data []byte, final bool) (keep int) {
	a, sk := m.a, m.a.skip
	n := len(data)
	segs := m.segs[:0]
	w := m.shown // data[w:] not yet written (data[:shown] was, by onIdle)
	i := n       // where what is kept begins
	for x := 0; x < n; x++ {
		if x <= n-sk.m {
			if x = sk.next(data, x); x > n-sk.m {
				x-- // no secret starts before x; walk the tail from there
				continue
			}
		}
		l, open := a.longestAt(data[x:])
		if open && !final {
			i = x
			break
		}
		if l > 0 {
			// A secret ends only after what was shown of it (maxShown <
			// minMaskLen): the rest of it is concealed.
			if x > w {
				segs = append(segs, seg{w, x})
			}
			segs = append(segs, seg{-1, -1})
			w = x + l
			x = w - 1
		}
	}
	if i > w {
		segs = append(segs, seg{w, i})
	}
	m.segs = segs
	return i
}

// writeSegs writes what scan found in data, in one write.
func (m *Masker) writeSegs(data []byte) {
	switch {
	case len(m.segs) == 0:
	case len(m.segs) == 1 && m.segs[0].a >= 0:
		_, m.err = m.w.Write(data[m.segs[0].a:m.segs[0].b]) // nothing replaced: no copy
	default:
		out := m.out[:0]
		if out == nil {
			out = make([]byte, 0, len(data)+len(data)/4+len(Concealed))
		}
		for _, s := range m.segs {
			if s.a < 0 {
				out = append(out, Concealed...)
			} else {
				out = append(out, data[s.a:s.b]...)
			}
		}
		_, m.err = m.w.Write(out)
		m.out = out[:0]
		if cap(m.out) > 2*copyBuffer {
			m.out = nil // a huge write leaves no huge buffer behind
		}
	}
}

// keep holds back data[i:], of which what onIdle showed stays counted.
func (m *Masker) keep(data []byte, i int) {
	m.shown = max(0, m.shown-i)
	m.buf = append(m.buf[:0], data[i:]...)
}
