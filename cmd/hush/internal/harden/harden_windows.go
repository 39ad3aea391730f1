package harden

// Windows.
//
// Does: turns off the Windows Error Reporting crash dialog and the fault
// handler's dumps for this process (SetErrorMode), so a crash does not
// write hush's memory to a .dmp file under the user's profile.
//
// Cannot: there is no umask, so files are made private by their access
// list instead (the vault package gives its files an owner-only ACL); any
// process of the same user can open hush with PROCESS_VM_READ and read its
// memory, as a debugger can; [Dumpable] reports true. ForChild puts the
// error mode back, since a child started with CreateProcess inherits it.

import (
	"sync"

	"golang.org/x/sys/windows"
)

var (
	mu       sync.Mutex
	saved    bool
	origMode uint32
)

func process() error {
	mu.Lock()
	defer mu.Unlock()
	const mode = windows.SEM_FAILCRITICALERRORS | windows.SEM_NOGPFAULTERRORBOX | windows.SEM_NOOPENFILEERRORBOX
	old := windows.SetErrorMode(mode)
	if !saved {
		origMode, saved = old, true
	}
	return nil
}

func forChild() {
	mu.Lock()
	defer mu.Unlock()
	if saved {
		windows.SetErrorMode(origMode)
	}
}

// Dumpable reports true: Windows has no per-process flag that closes a
// process's memory to its own user.
func Dumpable() (bool, error) { return true, nil }
