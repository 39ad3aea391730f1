package run

import "os"

// Exec runs the child and ends hush with its exit code: Windows has no
// execve, so this is the closest to hush becoming the child. It returns
// only when the child could not be started. Ending the process here, below
// main, is deliberate: as with execve nothing of hush runs afterwards, and
// the caller has already closed the vault (wiping its keys).
func Exec(p *Plan) error {
	code, err := Supervise(p, Stdio{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, SuperviseOptions{})
	if err != nil {
		return err
	}
	os.Exit(code)
	return nil
}
