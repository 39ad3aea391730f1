package server

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hush-secrets/hush/sync/store"
)

// auditor writes audit events in batches from one goroutine: a pull is a
// read, and should not cost a disk sync of its own. Events still queued
// when the process dies are lost (at most about 100 ms of them); Close
// flushes the rest.
type auditor struct {
	st     store.Store
	logger *slog.Logger
	ch     chan store.Event
	done   chan struct{}

	// mu guards closed: a request still running after close (a shutdown
	// that gave up waiting for it) writes its event itself.
	mu     sync.RWMutex
	closed bool
}

func newAuditor(st store.Store, log *slog.Logger) *auditor {
	a := &auditor{st: st, logger: log, ch: make(chan store.Event, 4096), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *auditor) log(e store.Event) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.st.Audit(ctx, e); err != nil {
			a.logger.Error("audit event not written", "team", e.Team, "device", e.Device, "action", e.Action, "err", err)
		}
		return
	}
	select {
	case a.ch <- e:
	default:
		// Never block a request on the log; say so instead.
		a.logger.Warn("audit queue full: event dropped", "team", e.Team, "device", e.Device, "action", e.Action)
	}
}

func (a *auditor) run() {
	defer close(a.done)
	var batch []store.Event
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := a.st.Audit(ctx, batch...); err != nil {
			a.logger.Error("audit events not written", "count", len(batch), "err", err)
		}
		cancel()
		batch = batch[:0]
	}
	for {
		select {
		case e, ok := <-a.ch:
			if !ok {
				flush()
				return
			}
			batch = append(batch, e)
			if len(batch) >= 500 {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

func (a *auditor) close() {
	a.mu.Lock()
	if !a.closed {
		a.closed = true
		close(a.ch)
	}
	a.mu.Unlock()
	<-a.done
}
