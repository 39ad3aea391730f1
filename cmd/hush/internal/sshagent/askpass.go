package sshagent

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"time"

	"golang.org/x/crypto/ssh"
)

// AskpassTimeout is how long a confirmation may wait for an answer; no
// answer refuses the signature, so an ssh never hangs on a dialog nobody
// sees.
const AskpassTimeout = 60 * time.Second

// Askpass returns a confirmation that asks with the desktop's askpass
// program, as OpenSSH's own agent does for keys added with `ssh-add -c`:
// the program is run with the question as its argument and
// SSH_ASKPASS_PROMPT=confirm, and exit status 0 means yes.
func Askpass(program string, environ []string) func(name string, pub ssh.PublicKey) error {
	return func(name string, pub ssh.PublicKey) error {
		ctx, cancel := context.WithTimeout(context.Background(), AskpassTimeout)
		defer cancel()
		q := fmt.Sprintf("Allow use of SSH key %s (%s)?", name, ssh.FingerprintSHA256(pub))
		cmd := exec.CommandContext(ctx, program, q)
		cmd.Env = append(environ[:len(environ):len(environ)], "SSH_ASKPASS_PROMPT=confirm")
		err := cmd.Run()
		switch {
		case ctx.Err() != nil:
			return errors.New("no answer from askpass in time")
		case err != nil:
			return fmt.Errorf("not confirmed (%v)", err)
		}
		return nil
	}
}
