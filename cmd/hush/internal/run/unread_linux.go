package run

import (
	"os"

	"golang.org/x/sys/unix"
)

// unread is how many bytes wait to be read on a pipe or terminal. It goes
// through SyscallConn: Fd would put the file in blocking mode, and a read
// deadline could no longer end a read.
func unread(f *os.File) (n int, ok bool) {
	rc, err := f.SyscallConn()
	if err != nil {
		return 0, false
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { n, ierr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) }); err != nil {
		return 0, false
	}
	return n, ierr == nil
}

// growPipe asks for a 1 MiB pipe buffer (the default is 64 KiB); without
// it (an unprivileged limit), the pipe stays as it is.
func growPipe(f *os.File) {
	if rc, err := f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20) })
	}
}
