//go:build unix

package run

import (
	"errors"
	"io"
)

// copyOut copies what the child writes on src to m, masked, until src
// ends (end of file, or the deadline drainAfterExit sets), and returns why
// it stopped: nil at end of file, the read's error, or the write's.
//
// It is io.CopyBuffer without its copies: each piece is read right behind
// the bytes m holds back, instead of being appended to them; and on Linux,
// when both ends are pipes, what passes unchanged is moved from the
// child's pipe to hush's output by the kernel (splice), never copied out
// of it and back (copy_linux.go).
func (m *Masker) copyOut(src *drain) error {
	if m.a != nil {
		if sp := newSplicer(src, m.w); sp != nil {
			defer sp.close()
			return m.spliceFrom(src, sp)
		}
	}
	return m.readFrom(src)
}

// readFrom is copyOut through a buffer: held-back bytes, then the piece.
func (m *Masker) readFrom(src io.Reader) error {
	var rb []byte
	for {
		h := m.held(&rb)
		n, err := src.Read(rb[h : h+copyBuffer])
		if n > 0 {
			if werr := m.masked(rb[:h+n], h); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// held copies the held-back bytes to the front of *rb (made large enough
// for them and a piece behind) and returns how many there are. Room for
// 64 KiB of them (or twice what is held) is made at once: a new buffer
// for every few more bytes held would cost more than the copies saved.
func (m *Masker) held(rb *[]byte) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	h := len(m.buf)
	if len(*rb) < h+copyBuffer {
		*rb = make([]byte, copyBuffer+max(2*h, 64<<10))
	}
	copy(*rb, m.buf)
	return h
}

// masked is Write for data: the h held-back bytes (as held returned them)
// and the piece read behind them.
func (m *Masker) masked(data []byte, h int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	switch {
	case m.a == nil:
		_, m.err = m.w.Write(data[h:])
		return m.err
	case len(m.buf) != h:
		// Written to meanwhile (Write): the piece follows what it held.
		m.buf = append(m.buf, data[h:]...)
		data = m.buf
	}
	m.process(data, false)
	m.armIdle()
	return m.err
}
