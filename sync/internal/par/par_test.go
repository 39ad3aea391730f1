package par

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

func TestDoCallsEachOnceAndReportsTheFirstError(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 1000} {
		var calls atomic.Int64
		seen := make([]atomic.Int32, n)
		if err := Do(n, func(i int) error { calls.Add(1); seen[i].Add(1); return nil }); err != nil {
			t.Fatal(err)
		}
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d: item %d called %d times", n, i, seen[i].Load())
			}
		}
	}
	err := Do(100, func(i int) error {
		if i == 30 || i == 70 {
			return fmt.Errorf("item %d", i)
		}
		return nil
	})
	if err == nil || err.Error() != "item 30" {
		t.Fatalf("got %v, want the lowest failing item", err)
	}
	if err := Do(1, func(int) error { return errors.New("x") }); err == nil {
		t.Fatal("a single failing item was not reported")
	}
}
