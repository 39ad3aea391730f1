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
