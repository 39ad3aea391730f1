package storetest

// The membership log, key epochs and what log entries change: Team, Log,
// AppendLog, Approve with an entry, and Push refusing records written at
// another epoch or log position. The store keeps entries as opaque bytes
// (the server verifies them before), so entries here are any JSON.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// entry is a stand-in for a signed log entry's JSON.
func entry(seq int64, what string) []byte {
	return fmt.Appendf(nil, `{"seq":%d,"what":%q,"nonce":"%x"}`, seq, what, random(8))
}

// logTeam is a team created with its log's first entry.
type logTeam struct {
	team
	log [][]byte // the entries stored, in order
}

func newLogTeam(t *testing.T, s store.Store) *logTeam {
	t.Helper()
	tm := &logTeam{team: team{id: wire.NewID(), admin: newDevice("admin")}}
	g := entry(1, "create")
	if err := s.CreateTeam(t.Context(), tm.id, "team "+tm.id[:6], tm.admin, g, t0); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	tm.log = [][]byte{g}
	return tm
}

// appendOK appends the next entry with c and remembers it.
func (tm *logTeam) appendOK(t *testing.T, s store.Store, what string, c store.Change) {
	t.Helper()
	seq := int64(len(tm.log)) + 1
	e := entry(seq, what)
	if err := s.AppendLog(t.Context(), tm.id, seq, e, c); err != nil {
		t.Fatalf("AppendLog %d (%s): %v", seq, what, err)
	}
	tm.log = append(tm.log, e)
}

// checkLog compares the stored log and the team's epoch with what tm
// holds: Team's length, Log from every position, the entries byte for
// byte.
func (tm *logTeam) checkLog(t *testing.T, s store.Store, epoch int64) {
	t.Helper()
	ctx := t.Context()
	n := int64(len(tm.log))
	gotEpoch, logSeq, err := s.Team(ctx, tm.id)
	if err != nil || gotEpoch != epoch || logSeq != n {
		t.Fatalf("Team: epoch %d, log %d, %v; want epoch %d, log %d", gotEpoch, logSeq, err, epoch, n)
	}
	if _, logSeq, err := s.ChangesWithLog(ctx, tm.id, 0, 10); err != nil || logSeq != n {
		t.Fatalf("ChangesWithLog: log %d, %v; want log %d", logSeq, err, n)
	}
	for since := int64(0); since <= n+1; since++ {
		entries, head, err := s.Log(ctx, tm.id, since)
		if err != nil {
			t.Fatalf("Log since %d: %v", since, err)
		}
		want := tm.log[min(since, n):]
		if head != n || len(entries) != len(want) {
			t.Fatalf("Log since %d: %d entries, head %d; want %d, head %d", since, len(entries), head, len(want), n)
		}
		for i := range want {
			if !bytes.Equal(entries[i], want[i]) {
				t.Fatalf("Log since %d: entry %d is %q, want %q", since, since+int64(i)+1, entries[i], want[i])
			}
		}
	}
}

// state is a device's role and state.
func state(t *testing.T, s store.Store, id string) string {
	t.Helper()
	d, err := s.Device(t.Context(), id)
	if err != nil {
		t.Fatalf("Device %s: %v", id, err)
	}
	return d.Role + "/" + d.State
}

// activeDevice joins d to tm with role and approves it without an entry.
func activeDevice(t *testing.T, s store.Store, tm team, d wire.Device, role string) {
	t.Helper()
	if err := s.Join(t.Context(), tm.id, invite(t, s, tm, role, t0.Add(time.Hour)).ID, d, nil, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Approve(t.Context(), tm.id, d.ID, newKey(d.ID, 1, tm.admin.ID), nil); err != nil {
		t.Fatal(err)
	}
}

func testLog(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newLogTeam(t, s)
	tm.checkLog(t, s, 1)
	// A team created without a first entry (the tests' teams): an empty
	// log, epoch 1.
	bare := newTeam(t, s)
	if epoch, logSeq, err := s.Team(ctx, bare.id); err != nil || epoch != 1 || logSeq != 0 {
		t.Fatalf("Team of a team without a log: %d, %d, %v", epoch, logSeq, err)
	}
	if entries, head, err := s.Log(ctx, bare.id, 0); err != nil || len(entries) != 0 || head != 0 {
		t.Fatalf("Log of a team without a log: %q, %d, %v", entries, head, err)
	}
	_, _, err := s.Team(ctx, wire.NewID())
	wantErr(t, "Team of an unknown team", err, store.ErrNotFound)
	_, _, err = s.Log(ctx, wire.NewID(), 0)
	wantErr(t, "Log of an unknown team", err, store.ErrNotFound)

	// Only the next position: anything else is ErrConflict, and stores
	// nothing.
	for _, seq := range []int64{-1, 0, 1, 3, 100} {
		wantErr(t, fmt.Sprintf("AppendLog at %d of a log of 1", seq), s.AppendLog(ctx, tm.id, seq, entry(seq, "misplaced"), store.Change{}), store.ErrConflict)
	}
	wantErr(t, "AppendLog at 2 of an empty log", s.AppendLog(ctx, bare.id, 2, entry(2, "misplaced"), store.Change{}), store.ErrConflict)
	if err := s.AppendLog(ctx, wire.NewID(), 1, entry(1, "nowhere"), store.Change{}); err == nil || errors.Is(err, store.ErrConflict) {
		t.Fatalf("AppendLog to an unknown team: %v, want an error other than ErrConflict", err)
	}
	tm.checkLog(t, s, 1)

	for i := range 5 {
		tm.appendOK(t, s, fmt.Sprintf("change %d", i), store.Change{})
	}
	tm.checkLog(t, s, 1)
	// A taken position stays taken, with its first entry.
	wantErr(t, "AppendLog at a taken position", s.AppendLog(ctx, tm.id, 4, entry(4, "again"), store.Change{}), store.ErrConflict)
	tm.checkLog(t, s, 1)
	// Teams' logs are their own: the bare team's starts at 1.
	if err := s.AppendLog(ctx, bare.id, 1, entry(1, "bare"), store.Change{}); err != nil {
		t.Fatalf("AppendLog 1 to a team without a log: %v", err)
	}
	if entries, head, err := s.Log(ctx, bare.id, 0); err != nil || len(entries) != 1 || head != 1 {
		t.Fatalf("Log of the bare team: %q, %d, %v", entries, head, err)
	}
	tm.checkLog(t, s, 1)
	// Records keep their own sequence, apart from the log's.
	r := newRecord(wire.NewID(), 1, tm.admin.ID)
	r.LogSeq = int64(len(tm.log))
	if res := push(t, s, tm.id, r); res[0].Seq != 1 {
		t.Fatalf("first record of a team with a log of %d: seq %d", len(tm.log), res[0].Seq)
	}
}

func testAppendLogChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newLogTeam(t, s)
	other := newLogTeam(t, s)
	w1, w2, r, p := newDevice("w1"), newDevice("w2"), newDevice("r"), newDevice("p")
	w2.Member = w1.Member // one member, two devices
	p.Member = w1.Member  // and a third, pending
	activeDevice(t, s, tm.team, w1, wire.RoleWriter)
	activeDevice(t, s, tm.team, w2, wire.RoleWriter)
	activeDevice(t, s, tm.team, r, wire.RoleReader)
	if err := s.Join(ctx, tm.id, invite(t, s, tm.team, wire.RoleWriter, t0.Add(time.Hour)).ID, p, nil, t0); err != nil {
		t.Fatal(err)
	}
	// The other team has a member of the same name.
	o := newDevice("o")
	o.Member = w1.Member
	activeDevice(t, s, other.team, o, wire.RoleWriter)

	// A role change: every active device of the member, no one else.
	tm.appendOK(t, s, "role", store.Change{Member: w1.Member, Role: wire.RoleReader})
	for id, want := range map[string]string{w1.ID: "reader/active", w2.ID: "reader/active", p.ID: "writer/pending", r.ID: "reader/active", tm.admin.ID: "admin/active", o.ID: "writer/active"} {
		if got := state(t, s, id); got != want {
			t.Fatalf("after a role change: %s, want %s", got, want)
		}
	}
	tm.checkLog(t, s, 1)

	// A removal: those devices only; removed devices keep no role change.
	tm.appendOK(t, s, "remove", store.Change{Remove: []string{w2.ID}})
	if got := state(t, s, w2.ID); got != "reader/removed" {
		t.Fatalf("removed device: %s", got)
	}
	if got := state(t, s, w1.ID); got != "reader/active" {
		t.Fatalf("the member's other device after a removal: %s", got)
	}
	tm.appendOK(t, s, "role", store.Change{Member: w1.Member, Role: wire.RoleWriter})
	if got := state(t, s, w2.ID); got != "reader/removed" {
		t.Fatalf("a removed device after its member's role change: %s", got)
	}
	tm.appendOK(t, s, "remove all", store.Change{Remove: []string{w1.ID, r.ID}})
	for _, id := range []string{w1.ID, r.ID} {
		if d, err := s.Device(ctx, id); err != nil || d.State != store.Removed {
			t.Fatalf("device %s after a removal of two: %+v, %v", id, d, err)
		}
	}
	tm.checkLog(t, s, 1)

	// A new epoch with its keys: the team's epoch, each device's newest key.
	admin := tm.admin.ID
	k2 := newKey(admin, 2, admin)
	tm.appendOK(t, s, "epoch 2", store.Change{Epoch: 2, Keys: []wire.WrappedKey{k2}})
	tm.checkLog(t, s, 2)
	if k, err := s.WrappedKey(ctx, admin); err != nil || sameKey(k, k2) != nil {
		t.Fatalf("the admin's key after epoch 2: %+v, %v", k, err)
	}
	if epoch, _, _ := s.Team(ctx, other.id); epoch != 1 {
		t.Fatalf("another team's epoch moved to %d", epoch)
	}

	// One transaction: a key that cannot be stored (for a device that
	// does not exist, or a second key for an epoch) undoes the entry, the
	// epoch, the role change and the removals that came with it.
	c1 := newDevice("c1")
	activeDevice(t, s, tm.team, c1, wire.RoleWriter)
	tm.appendOK(t, s, "c1 joined", store.Change{})
	seq := int64(len(tm.log)) + 1
	for name, keys := range map[string][]wire.WrappedKey{
		"a key for an unknown device": {newKey(admin, 3, admin), newKey(wire.NewID(), 3, admin)},
		"two keys for one device":     {newKey(c1.ID, 3, admin), newKey(c1.ID, 3, admin)},
		"a key of an epoch stored":    {newKey(admin, 2, admin)},
	} {
		c := store.Change{Member: c1.Member, Role: wire.RoleAdmin, Remove: []string{c1.ID}, Epoch: 3, Keys: keys}
		if err := s.AppendLog(ctx, tm.id, seq, entry(seq, "bad keys"), c); err == nil {
			t.Fatalf("AppendLog with %s succeeded", name)
		}
		tm.checkLog(t, s, 2)
		if got := state(t, s, c1.ID); got != "writer/active" {
			t.Fatalf("after a failed AppendLog with %s: c1 is %s", name, got)
		}
		if k, err := s.WrappedKey(ctx, admin); err != nil || sameKey(k, k2) != nil {
			t.Fatalf("after a failed AppendLog with %s: the admin's key %+v, %v", name, k, err)
		}
		if k, err := s.WrappedKey(ctx, c1.ID); err != nil || k.Epoch != 1 {
			t.Fatalf("after a failed AppendLog with %s: c1's key %+v, %v", name, k, err)
		}
	}
	// A conflict applies nothing either.
	c := store.Change{Member: c1.Member, Role: wire.RoleAdmin, Remove: []string{c1.ID}, Epoch: 3, Keys: []wire.WrappedKey{newKey(c1.ID, 3, admin)}}
	wantErr(t, "AppendLog with changes at a taken position", s.AppendLog(ctx, tm.id, seq-1, entry(seq-1, "late"), c), store.ErrConflict)
	tm.checkLog(t, s, 2)
	if got := state(t, s, c1.ID); got != "writer/active" {
		t.Fatalf("after a conflicting AppendLog: c1 is %s", got)
	}
	if k, _ := s.WrappedKey(ctx, c1.ID); k == nil || k.Epoch != 1 {
		t.Fatalf("after a conflicting AppendLog: c1's key %+v", k)
	}
	// The position is still free: the good change applies.
	k3 := newKey(c1.ID, 3, admin)
	tm.appendOK(t, s, "epoch 3", store.Change{Epoch: 3, Keys: []wire.WrappedKey{newKey(admin, 3, admin), k3}})
	tm.checkLog(t, s, 3)
	if k, err := s.WrappedKey(ctx, c1.ID); err != nil || sameKey(k, k3) != nil {
		t.Fatalf("c1's key after epoch 3: %+v, %v", k, err)
	}
}

func testApproveEntry(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newLogTeam(t, s)
	now := t0.Add(time.Minute)
	join := func(name string) wire.Device {
		d := newDevice(name)
		if err := s.Join(ctx, tm.id, invite(t, s, tm.team, wire.RoleWriter, now.Add(time.Hour)).ID, d, nil, now); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, d2 := join("joiner"), join("second")

	// The entry and the activation go together.
	e := entry(2, "add joiner")
	key := newKey(d.ID, 1, tm.admin.ID)
	if err := s.Approve(ctx, tm.id, d.ID, key, &store.Entry{Seq: 2, JSON: e}); err != nil {
		t.Fatalf("Approve with an entry: %v", err)
	}
	tm.log = append(tm.log, e)
	tm.checkLog(t, s, 1)
	if got := state(t, s, d.ID); got != "writer/active" {
		t.Fatalf("approved device: %s", got)
	}
	if k, err := s.WrappedKey(ctx, d.ID); err != nil || sameKey(k, key) != nil {
		t.Fatalf("approved device's key: %+v, %v", k, err)
	}

	// An entry that is not the next: ErrConflict, and the device stays
	// pending without a key.
	for _, seq := range []int64{1, 2, 4, 0} {
		err := s.Approve(ctx, tm.id, d2.ID, newKey(d2.ID, 1, tm.admin.ID), &store.Entry{Seq: seq, JSON: entry(seq, "add second")})
		wantErr(t, fmt.Sprintf("Approve with entry %d of a log of 2", seq), err, store.ErrConflict)
		if got := state(t, s, d2.ID); got != "writer/pending" {
			t.Fatalf("after a conflicting Approve: %s", got)
		}
		if _, err := s.WrappedKey(ctx, d2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a conflicting Approve stored a key: %v", err)
		}
		tm.checkLog(t, s, 1)
	}
	// A device that is not pending: ErrState, and the entry is not stored.
	for name, id := range map[string]string{"an active device": d.ID, "the creator": tm.admin.ID, "an unknown device": wire.NewID()} {
		err := s.Approve(ctx, tm.id, id, newKey(id, 2, tm.admin.ID), &store.Entry{Seq: 3, JSON: entry(3, "add again")})
		wantErr(t, "Approve with an entry of "+name, err, store.ErrState)
		tm.checkLog(t, s, 1)
	}
	// The next entry approves.
	e3 := entry(3, "add second")
	if err := s.Approve(ctx, tm.id, d2.ID, newKey(d2.ID, 1, tm.admin.ID), &store.Entry{Seq: 3, JSON: e3}); err != nil {
		t.Fatalf("Approve of the second device: %v", err)
	}
	tm.log = append(tm.log, e3)
	tm.checkLog(t, s, 1)
	// A key that cannot be stored undoes the entry and the activation.
	d3 := join("third")
	err := s.Approve(ctx, tm.id, d3.ID, newKey(wire.NewID(), 1, tm.admin.ID), &store.Entry{Seq: 4, JSON: entry(4, "add third")})
	if err == nil {
		t.Fatal("Approve with a key for a device that does not exist succeeded")
	}
	if got := state(t, s, d3.ID); got != "writer/pending" {
		t.Fatalf("after an Approve whose key failed: %s", got)
	}
	tm.checkLog(t, s, 1)
	// Without an entry (the tests' teams), the log is left alone.
	if err := s.Approve(ctx, tm.id, d3.ID, newKey(d3.ID, 1, tm.admin.ID), nil); err != nil {
		t.Fatal(err)
	}
	tm.checkLog(t, s, 1)
}

func testPushStale(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newLogTeam(t, s)
	author := tm.admin.ID
	at := func(id string, v, epoch, logSeq int64) wire.Record {
		r := newRecord(id, v, author)
		r.Epoch, r.LogSeq = epoch, logSeq
		return r
	}
	a := at(wire.NewID(), 1, 1, 1)
	res := push(t, s, tm.id, a)
	a.Seq = res[0].Seq
	if got := all(t, s, tm.id).Records[0]; got.LogSeq != 1 {
		t.Fatalf("a stored record's log position: %d, want 1", got.LogSeq)
	}

	// staleOnly pushes rs, each of which must come back stale, with nothing
	// stored.
	staleOnly := func(what string, rs ...wire.Record) {
		t.Helper()
		before := all(t, s, tm.id)
		res, head, err := s.Push(ctx, tm.id, rs)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		for i, r := range res {
			if r.ID != rs[i].ID || r.Status != wire.PushStale || r.Seq != 0 || r.Current != nil {
				t.Fatalf("%s: result %d %+v, want stale", what, i, r)
			}
		}
		after := all(t, s, tm.id)
		if head != before.Head || after.Head != before.Head || len(after.Records) != len(before.Records) {
			t.Fatalf("%s stored something: head %d -> %d (answered %d), %d -> %d records", what, before.Head, after.Head, head, len(before.Records), len(after.Records))
		}
		for i := range after.Records {
			if err := sameRecord(after.Records[i], before.Records[i]); err != nil || after.Records[i].Seq != before.Records[i].Seq {
				t.Fatalf("%s changed a record: %v", what, err)
			}
		}
	}
	staleOnly("a record at log position 0", at(wire.NewID(), 1, 1, 0))
	staleOnly("a record at a log position to come", at(wire.NewID(), 1, 1, 2))
	staleOnly("a record at an epoch to come", at(wire.NewID(), 1, 2, 1))
	staleOnly("an update at a log position to come", at(a.ID, 2, 1, 2))

	// A new epoch (log position 2): what was current is stale now.
	tm.appendOK(t, s, "epoch 2", store.Change{Epoch: 2, Keys: []wire.WrappedKey{newKey(author, 2, author)}})
	staleOnly("an update at the old epoch and position", at(a.ID, 2, 1, 1))
	staleOnly("an update at the old epoch", at(a.ID, 2, 1, 2))
	staleOnly("an update at the new epoch, old position", at(a.ID, 2, 2, 1))
	staleOnly("two records", at(wire.NewID(), 1, 1, 2), at(a.ID, 2, 2, 3))
	// In one push, the stale records are refused and the others apply.
	good, old := at(a.ID, 2, 2, 2), at(wire.NewID(), 1, 1, 2)
	res, head, err := s.Push(ctx, tm.id, []wire.Record{old, good})
	if err != nil || res[0].Status != wire.PushStale || res[1].Status != wire.PushOK || head != res[1].Seq {
		t.Fatalf("a push of a stale and a current record: %+v, head %d, %v", res, head, err)
	}
	c := all(t, s, tm.id)
	if len(c.Records) != 1 || sameRecord(c.Records[0], good) != nil || c.Records[0].Epoch != 2 || c.Records[0].LogSeq != 2 {
		t.Fatalf("after the mixed push: %+v", c.Records)
	}
	// A role change moves the log position, not the epoch.
	tm.appendOK(t, s, "role", store.Change{Member: tm.admin.Member, Role: wire.RoleAdmin})
	staleOnly("a record at the position before a role change", at(wire.NewID(), 1, 2, 2))
	push(t, s, tm.id, at(wire.NewID(), 1, 2, 3))
}

// raceLog has workers append to one log, each at the position it last
// knew: every position is won by exactly one append, the others get
// ErrConflict, and the log holds the winners' entries.
func raceLog(t *testing.T, ss ...store.Store) {
	tm := newLogTeam(t, ss[0])
	var mu sync.Mutex
	wins := map[int64][]byte{}
	var conflicts atomic.Int64
	within(t, workers, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		known := int64(1)
		for range tries {
			seq := known + 1
			e := entry(seq, fmt.Sprintf("worker %d", w))
			// Each append also moves the epoch: a lost one must not.
			err := s.AppendLog(ctx, tm.id, seq, e, store.Change{Epoch: seq})
			switch {
			case err == nil:
				mu.Lock()
				if wins[seq] != nil {
					mu.Unlock()
					return fmt.Errorf("worker %d: position %d won twice", w, seq)
				}
				wins[seq] = e
				mu.Unlock()
				known = seq
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
				_, head, err := s.Log(ctx, tm.id, 0)
				if err != nil {
					return err
				}
				if head < seq {
					return fmt.Errorf("worker %d: conflict at %d, but the log has %d entries", w, seq, head)
				}
				known = head
			default:
				return fmt.Errorf("worker %d: AppendLog %d: %w", w, seq, err)
			}
		}
		return nil
	})
	n := int64(len(wins)) + 1
	for seq := int64(2); seq <= n; seq++ {
		tm.log = append(tm.log, wins[seq])
		if wins[seq] == nil {
			t.Fatalf("position %d won by nobody, %d positions won", seq, n-1)
		}
	}
	tm.checkLog(t, ss[len(ss)-1], n)
	if conflicts.Load() == 0 {
		t.Logf("no append lost a race (%d workers, %d tries)", workers, tries)
	}
}
