package storetest

import (
	"bytes"
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

// raceHeads has workers pull the chains of several teams at once (a
// backend may read many pulls' heads with one statement) while each
// team's chain grows: each page is of the team asked for, at a head that
// team's chain had (an entry it holds, with that entry's hash), never
// behind what the worker saw of that team before; a page of an unknown
// team is not found.
func raceHeads(t *testing.T, ss ...store.Store) {
	type chained struct {
		id    string
		mu    sync.Mutex
		heads map[int64][]byte // position → hash of each head taken
		head  wire.ChainCursor
	}
	var teams []*chained
	for range 4 {
		tm := newChainedTeam(t, ss[0])
		teams = append(teams, &chained{id: tm.id, heads: map[int64][]byte{0: nil}})
	}
	within(t, workers*2, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		seen := map[string]int64{}
		for i := range tries * 2 {
			c := teams[(w+i)%len(teams)]
			if w%4 == 0 {
				// A pusher: the team's next entry.
				c.mu.Lock()
				a, next := chainOf(c.id, c.head, []wire.Record{newRecord(wire.NewID(), 1, "d")})
				res, err := s.ChainPush(ctx, c.id, a)
				if err == nil && res.Status == wire.PushOK {
					c.head, c.heads[next.Pos] = next, next.Hash
				}
				c.mu.Unlock()
				if err != nil {
					return fmt.Errorf("worker %d: ChainPush: %w", w, err)
				}
				continue
			}
			rp, err := s.ChainRaw(ctx, c.id, 0, 1, "", 0)
			if err != nil {
				return fmt.Errorf("worker %d: ChainRaw: %w", w, err)
			}
			h := rp.Page.Head
			c.mu.Lock()
			want, ok := c.heads[h.Pos]
			c.mu.Unlock()
			if !ok || !bytes.Equal(want, h.Hash) || h.Pos < seen[c.id] {
				return fmt.Errorf("worker %d: team %s: a page at head %d %x, which the team never had (or behind %d)", w, c.id[:6], h.Pos, h.Hash, seen[c.id])
			}
			seen[c.id] = h.Pos
			if _, err := s.ChainRaw(ctx, wire.NewID(), 0, 1, "", 0); !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("worker %d: an unknown team: got %v, want ErrNotFound", w, err)
			}
		}
		return nil
	})
}
