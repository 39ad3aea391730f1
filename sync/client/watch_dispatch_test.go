package client

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A flood of heads (a lying or broken server) calls back a bounded number
// of times, and the newest head is the last one passed on; an unreachable
// between heads is kept, in order.
func TestDispatchBoundsAFlood(t *testing.T) {
	var calls atomic.Int64
	got := make(chan WatchEvent, 1024)
	d := newDispatch(func(e WatchEvent) {
		calls.Add(1)
		got <- e
	}, rate.NewLimiter(20, 20))
	defer d.close()
	const flood = 100000
	for i := int64(1); i <= flood; i++ {
		d.send(WatchEvent{Kind: WatchHead, Head: i})
	}
	d.send(WatchEvent{Kind: WatchUnreachable})
	d.send(WatchEvent{Kind: WatchHead, Head: flood + 1})
	deadline := time.After(60 * time.Second)
	var seq []WatchEvent
	for {
		select {
		case e := <-got:
			seq = append(seq, e)
		case <-deadline:
			t.Fatalf("the last head never came; got %d events", len(seq))
		}
		if e := seq[len(seq)-1]; e.Kind == WatchHead && e.Head == flood+1 {
			break
		}
	}
	// At most: a burst of 20, 20 a second while the flood was being sent,
	// the unreachable and the last head. However slow the machine, far
	// fewer than the flood.
	if n := calls.Load(); n > flood/100 {
		t.Fatalf("%d callbacks for a flood of %d heads", n, flood)
	}
	if e := seq[len(seq)-2]; e.Kind != WatchUnreachable {
		t.Errorf("the unreachable before the last head was lost: %+v", seq)
	}
	for i := 1; i < len(seq); i++ {
		if seq[i].Kind == WatchHead && seq[i-1].Kind == WatchHead && seq[i].Head <= seq[i-1].Head {
			t.Errorf("heads out of order: %+v", seq)
		}
	}
}
