package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// raceNonces has workers use nonces at once, spread over the stores: each
// round, every worker tries one shared nonce of one device (exactly one
// gets it, the rest are told it is a replay) and one of its own (every
// one gets it). A backend that answers many calls with one statement
// (PostgreSQL) must keep replay refusal exact within a statement and
// between server processes.
func raceNonces(t *testing.T, ss ...store.Store) {
	tm := newTeam(t, ss[0])
	d := tm.admin.ID
	const rounds = 20
	var won [rounds]atomic.Int32
	var start sync.WaitGroup
	start.Add(workers * 2)
	within(t, workers*2, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		start.Done()
		start.Wait() // all at once
		before := t0.Add(-wire.ClockSkew)
		for r := range rounds {
			switch err := s.UseNonce(ctx, d, "shared-"+strconv.Itoa(r), t0, before); {
			case err == nil:
				won[r].Add(1)
			case !errors.Is(err, store.ErrReplay):
				return fmt.Errorf("worker %d, shared nonce %d: %w", w, r, err)
			}
			if err := s.UseNonce(ctx, d, fmt.Sprintf("own-%d-%d", w, r), t0, before); err != nil {
				return fmt.Errorf("worker %d, its own nonce %d: %w", w, r, err)
			}
		}
		return nil
	})
	for r := range rounds {
		if n := won[r].Load(); n != 1 {
			t.Errorf("shared nonce %d taken by %d of %d requests at once, want exactly 1", r, n, workers*2)
		}
	}
	// And every one of them is refused afterwards, through each store.
	for i, s := range ss {
		for r := range rounds {
			wantErr(t, fmt.Sprintf("store %d: shared nonce %d again", i, r), s.UseNonce(t.Context(), d, "shared-"+strconv.Itoa(r), t0, t0.Add(-wire.ClockSkew)), store.ErrReplay)
		}
	}
}

// raceDevices has workers look devices up at once (a backend may answer
// many lookups with one statement): each gets the device it asked for,
// a copy of its own, and an unknown id is not found.
func raceDevices(t *testing.T, ss ...store.Store) {
	var devs []wire.Device
	for range 6 {
		devs = append(devs, newTeam(t, ss[0]).admin)
	}
	within(t, workers*2, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		for i := range tries * 2 {
			want := devs[(w+i)%len(devs)]
			got, err := s.Device(ctx, want.ID)
			if err != nil {
				return fmt.Errorf("worker %d: Device: %w", w, err)
			}
			if err := sameDevice(got, want); err != nil {
				return fmt.Errorf("worker %d: %w", w, err)
			}
			// Callers may change what they got: no other caller sees it.
			got.SignKey[0] ^= 0xff
			got.Name = "changed"
			if _, err := s.Device(ctx, wire.NewID()); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("worker %d: an unknown device: got %v, want ErrNotFound", w, err)
			}
		}
		return nil
	})
}
