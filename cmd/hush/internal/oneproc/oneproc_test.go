package oneproc

import (
	"runtime"
	"testing"
)

// TestSet: a get (under either name) runs on one P; any other command line
// keeps what it had.
func TestSet(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"get", "app/TOKEN"}, 1},
		{[]string{"show", "app/TOKEN"}, 1},
		{[]string{"ls"}, 3},
		{[]string{"--vault", "work", "get", "app/TOKEN"}, 3}, // a flag first: left as it is
		{[]string{"run", "--", "get"}, 3},
		{nil, 3},
	} {
		runtime.GOMAXPROCS(3)
		Set(tc.args)
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("%q: GOMAXPROCS %d, want %d", tc.args, got, tc.want)
		}
	}
}

// TestRestore: after a get's Set, Restore gives back the Ps it took, once;
// after any other command line it changes nothing.
func TestRestore(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	runtime.GOMAXPROCS(3)
	Set([]string{"get", "app/TOKEN"})
	Restore()
	if got := runtime.GOMAXPROCS(0); got != 3 {
		t.Fatalf("after Restore: GOMAXPROCS %d, want 3", got)
	}
	runtime.GOMAXPROCS(2)
	Restore() // already given back: nothing to do
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("a second Restore: GOMAXPROCS %d, want 2", got)
	}
	Set([]string{"ls"})
	Restore()
	if got := runtime.GOMAXPROCS(0); got != 2 {
		t.Fatalf("Restore after ls: GOMAXPROCS %d, want 2", got)
	}
}
