package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store/pgtest"
)

// TestCoalescedNonces: one statement for several UseNonce calls on
// PostgreSQL answers each as its own statement would: of two calls of
// one new nonce in the batch the first has it and the second is a
// replay, and a nonce stored before is a replay.
func TestCoalescedNonces(t *testing.T) {
	pg, skip, err := pgtest.ForTest()
	if err != nil {
		t.Fatal(err)
	}
	if pg == nil {
		t.Skip(skip)
	}
	defer pg.Stop()
	ctx := context.Background()
	dsn, err := pg.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s := st.(*sqlStore)
	now := time.Now()
	batch := func(keys ...nonceKey) []*call[nonceUse, struct{}] {
		var b []*call[nonceUse, struct{}]
		for _, k := range keys {
			b = append(b, &call[nonceUse, struct{}]{in: nonceUse{k, now, now.Add(-time.Minute)}})
		}
		s.useNonces(ctx, b)
		return b
	}
	a, b, c := nonceKey{"d1", "a"}, nonceKey{"d1", "b"}, nonceKey{"d2", "a"}
	got := batch(a, a, b, c, b)
	want := []error{nil, ErrReplay, nil, nil, ErrReplay}
	for i := range got {
		if !errors.Is(got[i].err, want[i]) {
			t.Errorf("call %d of the first batch: got %v, want %v", i, got[i].err, want[i])
		}
	}
	got = batch(nonceKey{"d3", "x"}, c, a)
	want = []error{nil, ErrReplay, ErrReplay}
	for i := range got {
		if !errors.Is(got[i].err, want[i]) {
			t.Errorf("call %d of the second batch: got %v, want %v", i, got[i].err, want[i])
		}
	}
}
