package oneproc

import (
	"runtime"
	"testing"
)

// TestSet: a get (under either name), run, exec and sync run on one P;
// any other command line keeps what it had.
func TestSet(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"get", "app/TOKEN"}, 1},
		{[]string{"show", "app/TOKEN"}, 1},
		{[]string{"run", "--from", "app", "--", "true"}, 1},
		{[]string{"exec", "--", "true"}, 1},
		{[]string{"sync"}, 1},
		{[]string{"ls"}, 3},
		{[]string{"server", "--listen", "127.0.0.1:0"}, 3},
		{[]string{"--vault", "work", "get", "app/TOKEN"}, 3}, // a flag first: left as it is
		{[]string{"import", "--", "get"}, 3},
		{nil, 3},
	} {
		runtime.GOMAXPROCS(3)
		Set(tc.args)
		if got := runtime.GOMAXPROCS(0); got != tc.want {
			t.Errorf("%q: GOMAXPROCS %d, want %d", tc.args, got, tc.want)
		}
	}
}
