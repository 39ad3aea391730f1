//go:build !windows

package prompt

import "os"

// openTerminal opens the controlling terminal, /dev/tty, for both reading
// and writing: a prompt works with stdin and stdout redirected. Without a
// controlling terminal (cron, CI, an ssh without -t) it fails, and hush
// says what to set instead of waiting.
func openTerminal() (in, out *os.File, err error) {
	f, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	return f, f, nil
}

func closeTerminal(in, out *os.File) error { return in.Close() }
