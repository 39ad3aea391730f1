package server

import (
	"context"
	"log/slog"
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
}

func newAuditor(st store.Store, log *slog.Logger) *auditor {
	a := &auditor{st: st, logger: log, ch: make(chan store.Event, 4096), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *auditor) log(e store.Event) {
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
		if err := a.st.Log(ctx, batch...); err != nil {
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
	close(a.ch)
	<-a.done
}
