//go:build linux

package harden

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

func TestProcess(t *testing.T) {
	before := unix.Umask(0o022)
	unix.Umask(before)
	var coreBefore unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_CORE, &coreBefore)
	if err := Process(); err != nil {
		t.Fatal(err)
	}
	if d, err := Dumpable(); err != nil || d {
		t.Fatalf("process still dumpable (%v)", err)
	}
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil || lim.Cur != 0 {
		t.Fatalf("core limit %d (%v), want 0", lim.Cur, err)
	}
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
		t.Fatalf("new file mode %o, want 0600 under the umask", st.Mode().Perm())
	}

	// A child gets back what hush started with.
	ForChild()
	if u := unix.Umask(0o077); u != before {
		t.Errorf("umask after ForChild = %o, want %o", u, before)
	}
	var core unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	if core.Cur != coreBefore.Cur {
		t.Errorf("core limit after ForChild = %d, want %d", core.Cur, coreBefore.Cur)
	}
}
