//go:build unix && !linux

package harden

// macOS and the BSDs.
//
// Does: a 0077 umask (new files are the user's alone), a core-dump limit
// of 0, and on macOS ptrace(PT_DENY_ATTACH), which refuses a debugger
// attach for the rest of the process's life.
//
// Cannot: there is no PR_SET_DUMPABLE, so another process of the same user
// with the task_for_pid right (a debugger the user approved, or root) can
// still read hush's memory; [Dumpable] reports true.

func process() error {
	mu.Lock()
	defer mu.Unlock()
	err := privateFilesNoCore()
	if e := denyAttach(); e != nil && err == nil {
		err = e
	}
	return err
}

// Dumpable reports true: these systems have no flag that closes a
// process's memory to its own user.
func Dumpable() (bool, error) { return true, nil }
