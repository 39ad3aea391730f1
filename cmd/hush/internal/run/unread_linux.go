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

// pipeSize is what growPipe asks for.
const pipeSize = 1 << 20

// growPipe asks for a 1 MiB pipe buffer (the default is 64 KiB) when f is
// a smaller pipe; a file that is no pipe, or a pipe already that large,
// is left as it is, as is a pipe the limit for unprivileged users
// (/proc/sys/fs/pipe-max-size) keeps small.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if n, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && n < pipeSize {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, pipeSize)
		}
	})
}
