package store

import (
	"context"
	"sync"
	"time"
)

// On PostgreSQL every statement is a round trip and a wake-up of a
// backend process, and with fifty devices at once those, not the rows,
// were most of the database's CPU and a third of the server's (its
// system calls): each request looked its device up, wrote its nonce and
// its audit line as statements of their own. A coalescer runs the calls
// that arrive while its statements are busy as one statement for all of
// them (a device lookup of ten ids, a nonce insert of ten rows): alone, a
// call runs at once, as before; under load the calls wait at most for the
// statement ahead of them, and the database does one statement's work
// instead of ten.

// call is one caller's part of a coalesced statement.
type call[In, Out any] struct {
	in   In
	out  Out
	err  error
	done chan struct{}
}

// coalescer runs calls in batches of at most max, with at most workers
// batches in flight; run answers every call of its batch (sets out or
// err) and must not keep the slice.
type coalescer[In, Out any] struct {
	workers, max int
	run          func(ctx context.Context, calls []*call[In, Out])

	mu    sync.Mutex
	queue []*call[In, Out]
	busy  int // workers running
}

// do queues in and waits for its answer, or for ctx. A call given up on
// may still run (a nonce then counts as used: its request failed anyway).
func (c *coalescer[In, Out]) do(ctx context.Context, in In) (Out, error) {
	cl := &call[In, Out]{in: in, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, cl)
	if c.busy < c.workers {
		c.busy++
		go c.work()
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.out, cl.err
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
}

// work runs batches while calls are queued.
func (c *coalescer[In, Out]) work() {
	for {
		c.mu.Lock()
		n := min(len(c.queue), c.max)
		if n == 0 {
			c.busy--
			c.mu.Unlock()
			return
		}
		batch := make([]*call[In, Out], n)
		copy(batch, c.queue)
		rest := copy(c.queue, c.queue[n:])
		clear(c.queue[rest:])
		c.queue = c.queue[:rest]
		c.mu.Unlock()
		// The batch serves many requests: none's context may end it.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c.run(ctx, batch)
		cancel()
		for _, cl := range batch {
			close(cl.done)
		}
	}
}

// fail answers every call of batch with err.
func fail[In, Out any](batch []*call[In, Out], err error) {
	for _, cl := range batch {
		cl.err = err
	}
}
