package prompt

import "os"

// openTerminal opens the console's input and output buffers, CONIN$ and
// CONOUT$, Windows' /dev/tty: a prompt works with stdin and stdout
// redirected (Windows Terminal, conhost, and ConPTY hosts such as VS
// Code's). A process without a console (a service, a GUI's git) gets an
// error, and hush says what to set instead of waiting.
//
// Cannot: prompt in mintty (Git Bash's default) without winpty: its pipes
// are no console; HUSH_PASSPHRASE or `hush unlock` in another window work.
func openTerminal() (in, out *os.File, err error) {
	in, err = os.OpenFile("CONIN$", os.O_RDWR, 0)
	if err != nil {
		return nil, nil, err
	}
	out, err = os.OpenFile("CONOUT$", os.O_RDWR, 0)
	if err != nil {
		in.Close()
		return nil, nil, err
	}
	return in, out, nil
}

func closeTerminal(in, out *os.File) error {
	out.Close()
	return in.Close()
}
