package store

import (
	"errors"
	"strconv"
	"testing"
	"time"
)

// TestNonceSetWindow: a SQLite server's nonces, over ten minutes of
// requests with a three-minute replay window: every nonce still in the
// window is refused again, and what is held stays within the window and a
// quarter (old generations go whole, not by a sweep of every nonce), over
// devices in several shards.
func TestNonceSetWindow(t *testing.T) {
	const window = 3 * time.Minute
	n := &nonceSet{}
	t0 := time.Unix(1_800_000_000, 0)
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * 100 * time.Millisecond) } // 10 a second
	key := func(i int) nonceKey { return nonceKey{"d" + strconv.Itoa(i%7), "n" + strconv.Itoa(i)} }
	for i := range 6000 {
		now := at(i)
		if err := n.use(key(i), now, now.Add(-window)); err != nil {
			t.Fatalf("nonce %d, new: %v", i, err)
		}
		held := 0
		for i := range n.shards {
			for _, g := range n.shards[i].gens {
				held += len(g.seen)
			}
		}
		// (A shard starts a generation at its first nonce after the
		// quarter: a device's nonces come every 0.7 s here.)
		if max := int((window + window/nonceGens + time.Second) / (100 * time.Millisecond)); held > max {
			t.Fatalf("after %s: %d nonces held, more than the window and a quarter (%d)", now.Sub(t0), held, max)
		}
		if i%97 == 0 {
			// Every nonce still in the window is a replay.
			for j := i; j >= 0 && !at(j).Before(now.Add(-window)); j -= 13 {
				if err := n.use(key(j), now, now.Add(-window)); !errors.Is(err, ErrReplay) {
					t.Fatalf("at %s, nonce of %s ago again: got %v, want ErrReplay", now.Sub(t0), now.Sub(at(j)), err)
				}
			}
		}
	}
}
