package run

import (
	"os"

	"golang.org/x/sys/unix"
)

// unread is how many bytes wait to be read on a pipe or terminal.
func unread(f *os.File) (int, bool) {
	n, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCINQ)
	return n, err == nil
}
