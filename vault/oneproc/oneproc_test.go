package oneproc

import (
	"runtime"
	"testing"
)

// Take makes GOMAXPROCS 1; Restore gives back what it was, once; without
// a Take, Restore changes nothing.
func TestTakeRestore(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	runtime.GOMAXPROCS(3)
	Take()
	if got := runtime.GOMAXPROCS(0); got != 1 {
		t.Fatalf("after Take: GOMAXPROCS %d, want 1", got)
	}
	Restore()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("after Restore: GOMAXPROCS %d, want 3", got)
	}
	runtime.GOMAXPROCS(2)
	Restore()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("a second Restore: GOMAXPROCS %d, want 2", got)
	}
}
