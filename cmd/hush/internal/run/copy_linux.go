package run

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// splicer moves what passes unchanged from the child's pipe to hush's
// output without copying it: tee(2) duplicates the pipe's contents (page
// references, not bytes) into a scratch pipe, hush reads and masks that
// copy, and then splice(2) moves the bytes it lets through from the
// child's pipe to the output pipe, or drops the ones it replaced or holds
// back. Each byte is copied once (into the masker) instead of twice (in,
// and out again), and the output pipe needs no pages of its own.
type splicer struct {
	src     syscall.RawConn // the child's pipe
	dst     syscall.RawConn // hush's stdout or stderr, a pipe
	scratch [2]int          // read end, write end
	null    int             // /dev/null, for dropped bytes
	junk    []byte          // for dropped bytes, when splicing to /dev/null fails
}

// newSplicer returns a splicer from src to w when both are pipes and the
// scratch pipe can be made, or nil: then the masker reads and writes.
func newSplicer(src *drain, w io.Writer) *splicer {
	out, ok := w.(*os.File)
	if !ok || !isPipe(src.f) || !isPipe(out) {
		return nil
	}
	sp := &splicer{null: -1}
	var err error
	if sp.src, err = src.f.SyscallConn(); err != nil {
		return nil
	}
	if sp.dst, err = out.SyscallConn(); err != nil {
		return nil
	}
	if err := unix.Pipe2(sp.scratch[:], unix.O_CLOEXEC); err != nil {
		return nil
	}
	unix.FcntlInt(uintptr(sp.scratch[1]), unix.F_SETPIPE_SZ, pipeSize)
	if fd, err := unix.Open("/dev/null", unix.O_WRONLY|unix.O_CLOEXEC, 0); err == nil {
		sp.null = fd
	}
	return sp
}

func (sp *splicer) close() {
	unix.Close(sp.scratch[0])
	unix.Close(sp.scratch[1])
	if sp.null >= 0 {
		unix.Close(sp.null)
	}
}

// isPipe reports whether f is a pipe (or FIFO).
func isPipe(f *os.File) bool {
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	pipe := false
	rc.Control(func(fd uintptr) {
		_, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0)
		pipe = err == nil
	})
	return pipe
}

// spliceFrom is copyOut through the splicer.
func (m *Masker) spliceFrom(src *drain, sp *splicer) error {
	var rb []byte
	for {
		h := m.held(&rb)
		n, err := src.tee(sp, copyBuffer)
		if n > 0 {
			if rerr := sp.readScratch(rb[h : h+n]); rerr != nil {
				return rerr
			}
			if werr := m.maskedSplice(rb[:h+n], h, sp); werr != nil {
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

// maskedSplice is masked for data: the h held-back bytes, then the bytes
// at the head of the child's pipe, which tee copied and which are still
// there. When the piece holds no secret, what passes is spliced; otherwise
// the masked piece is written. Either way, the piece then leaves the
// child's pipe.
func (m *Masker) maskedSplice(data []byte, h int, sp *splicer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	n := len(data) - h // the piece, at the head of the child's pipe
	if len(m.buf) != h {
		// Written to meanwhile (Write): the piece follows what it held.
		m.buf = append(m.buf, data[h:]...)
		m.process(m.buf, false)
	} else {
		i := m.scan(data, false)
		if len(m.segs) == 1 && m.segs[0].a >= 0 && m.segs[0].b > h {
			a, b := m.segs[0].a, m.segs[0].b
			if a < h {
				_, m.err = m.w.Write(data[a:h]) // the held-back part
				a = h
			}
			if m.err == nil && a > h {
				m.err = sp.drop(a - h)
			}
			if m.err == nil {
				if m.err = sp.splice(b - a); errors.Is(m.err, unix.EPIPE) {
					// Nobody reads hush's output any more. Fail as a write
					// does: on hush's own stdout or stderr, that ends hush
					// with SIGPIPE unless it holds the signal (os.File).
					_, m.err = m.w.Write(data[a:b])
				}
			}
			n -= b - h
		} else {
			m.writeSegs(data)
		}
		m.keep(data, i)
	}
	if m.err == nil {
		m.err = sp.drop(n)
	}
	m.armIdle()
	return m.err
}

// tee waits for the child's pipe to hold something and copies up to max
// bytes of it into the scratch pipe, leaving them where they are. Like
// Read, it ends with io.EOF when the pipe is empty and closed, and with
// the deadline's error when drainAfterExit stops it.
func (d *drain) tee(sp *splicer, max int) (int, error) {
	d.reading.Store(true)
	var n int64
	var err error
	rerr := sp.src.Read(func(fd uintptr) bool {
		n, err = unix.Tee(int(fd), sp.scratch[1], max, unix.SPLICE_F_NONBLOCK)
		return err != unix.EAGAIN
	})
	d.reading.Store(false)
	d.reads.Add(1)
	switch {
	case rerr != nil:
		err = rerr
	case err == nil && n == 0:
		err = io.EOF
	}
	if err != nil {
		d.ended.Store(true)
		return 0, err
	}
	return int(n), nil
}

// readScratch reads the bytes tee put into the scratch pipe.
func (sp *splicer) readScratch(p []byte) error {
	for len(p) > 0 {
		k, err := unix.Read(sp.scratch[0], p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if k == 0 {
			return io.ErrUnexpectedEOF
		}
		p = p[k:]
	}
	return nil
}

// splice moves the next n bytes of the child's pipe to hush's output,
// waiting while the output pipe is full.
func (sp *splicer) splice(n int) error {
	var err error
	cerr := sp.src.Control(func(src uintptr) {
		cerr := sp.dst.Control(func(dst uintptr) {
			for n > 0 && err == nil {
				var k int64
				k, err = unix.Splice(int(src), nil, int(dst), nil, n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
				switch err {
				case nil:
					n -= int(k)
				case unix.EAGAIN:
					// The output pipe is full (the bytes are in ours).
					// poll(2) is never restarted after a signal (the
					// child's SIGCHLD, the Go runtime's SIGURG): EINTR
					// there is a wake-up, not a failed write.
					if _, err = unix.Poll([]unix.PollFd{{Fd: int32(dst), Events: unix.POLLOUT}}, -1); err == unix.EINTR {
						err = nil
					}
				case unix.EINTR:
					err = nil
				}
			}
		})
		if err == nil {
			err = cerr
		}
	})
	if err == nil {
		err = cerr
	}
	return err
}

// drop removes the next n bytes of the child's pipe: replaced, held back
// (the masker has them) or written masked.
func (sp *splicer) drop(n int) error {
	var err error
	cerr := sp.src.Control(func(src uintptr) {
		for n > 0 && err == nil {
			var k int
			if sp.null >= 0 {
				var k64 int64
				k64, err = unix.Splice(int(src), nil, sp.null, nil, n, unix.SPLICE_F_NONBLOCK)
				k = int(k64)
				if err == unix.EINVAL {
					sp.null, err = -1, nil // not on this kernel: read them
					continue
				}
			} else {
				if sp.junk == nil {
					sp.junk = make([]byte, 64<<10)
				}
				k, err = unix.Read(int(src), sp.junk[:min(n, len(sp.junk))])
			}
			switch {
			case err == unix.EINTR:
				err = nil
			case err == nil && k == 0:
				err = io.ErrUnexpectedEOF
			}
			n -= k
		}
	})
	if err == nil {
		err = cerr
	}
	return err
}
