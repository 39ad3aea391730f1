// Package storetest is the conformance suite every [store.Store] backend
// passes: the same behaviour, down to the sentinel errors, from SQLite and
// PostgreSQL.
//
// A backend's test calls [Run] with a function that opens a fresh, empty
// store, and [RunReopen] with one that names a fresh database, for the
// tests that close a store and open it again. A backend that several
// server processes may share (PostgreSQL) also runs [RunShared], which
// races two stores on one database.
//
// Every test checks behaviour a caller depends on; none looks at tables,
// except where the behaviour is about the schema itself (schema_version)
// or shows only in PostgreSQL's statistics (deadlocks broken and retried).
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// t0 is the suite's clock: every test passes explicit times.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// raceTimeout bounds every concurrency test: a deadlock fails, not hangs.
const raceTimeout = 60 * time.Second

// Run runs the conformance tests that need only fresh stores. open returns
// a new, empty store for each call; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		return s
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"CreateTeam", testCreateTeam},
		{"Push", testPush},
		{"PushBatch", testPushBatch},
		{"Changes", testChanges},
		{"ChangesTeams", testChangesTeams},
		{"Nonces", testNonces},
		{"Join", testJoin},
		{"Approve", testApprove},
		{"RefuseJoin", testRefuseJoin},
		{"WrappedKey", testWrappedKey},
		{"Devices", testDevices},
		{"Seen", testSeen},
		{"DeviceAfterWrites", testDeviceAfterWrites},
		{"Events", testEvents},
		{"Log", testLog},
		{"AppendLogChange", testAppendLogChange},
		{"ApproveEntry", testApproveEntry},
		{"PushStale", testPushStale},
		{"ChainPush", testChainPush},
		{"ChainBase", testChainBase},
		{"ChainWholePushes", testChainWholePushes},
		{"ChainRaw", testChainRaw},
		{"ChainScopeLinks", testChainScopeLinks},
		{"ChainScopedPage", testChainScopedPage},
		{"ChainScopedMoves", testChainScopedMoves},
		{"RaceChain", func(t *testing.T, s store.Store) { raceChain(t, s) }},
		{"RaceCAS", func(t *testing.T, s store.Store) { raceCAS(t, s) }},
		{"RaceLog", func(t *testing.T, s store.Store) { raceLog(t, s) }},
		{"RaceRecords", func(t *testing.T, s store.Store) { raceRecords(t, s) }},
		{"RaceJoin", func(t *testing.T, s store.Store) { raceJoin(t, s) }},
		{"RaceTeams", func(t *testing.T, s store.Store) { raceTeams(t, s) }},
		{"RaceNonces", func(t *testing.T, s store.Store) { raceNonces(t, s) }},
		{"RaceDevices", func(t *testing.T, s store.Store) { raceDevices(t, s) }},
		{"RaceHeads", func(t *testing.T, s store.Store) { raceHeads(t, s) }},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

// RunReopen runs the tests that close a store and open its database again
// with [store.Open]: the data survives, migrations do not run twice, and a
// schema newer than the code is refused. newDSN names a fresh, empty
// database (a SQLite path or a PostgreSQL URL).
func RunReopen(t *testing.T, newDSN func(t *testing.T) string) {
	t.Run("Reopen", func(t *testing.T) { testReopen(t, newDSN(t)) })
	t.Run("NewerSchema", func(t *testing.T) { testNewerSchema(t, newDSN(t)) })
	t.Run("MigrateScopeLinks", func(t *testing.T) { testMigrateScopeLinks(t, newDSN(t)) })
}

// RunShared runs the concurrency tests across two stores open on one
// database at once, as two server processes would be. Only for backends
// that allow that.
func RunShared(t *testing.T, newDSN func(t *testing.T) string) {
	two := func(t *testing.T) []store.Store {
		t.Helper()
		return openTwo(t, newDSN(t))
	}
	t.Run("SharedRaceCAS", func(t *testing.T) { raceCAS(t, two(t)...) })
	t.Run("SharedRaceRecords", func(t *testing.T) { raceRecords(t, two(t)...) })
	t.Run("SharedRaceJoin", func(t *testing.T) { raceJoin(t, two(t)...) })
	t.Run("SharedRaceLog", func(t *testing.T) { raceLog(t, two(t)...) })
	t.Run("SharedRaceTeams", func(t *testing.T) {
		dsn := newDSN(t)
		ss := openTwo(t, dsn)
		raceTeams(t, ss...)
		if isPostgres(dsn) {
			// Group commits that lock teams' rows in different orders
			// deadlock; PostgreSQL breaks that after deadlock_timeout and
			// the store retries, so only its statistics show it.
			for _, s := range ss {
				s.Close()
			}
			if n := deadlocks(t, dsn); n > 0 {
				t.Errorf("%d deadlocks in PostgreSQL between the two stores' pushes", n)
			}
		}
	})
	t.Run("SharedRaceNonces", func(t *testing.T) { raceNonces(t, two(t)...) })
	t.Run("SharedRaceDevices", func(t *testing.T) { raceDevices(t, two(t)...) })
	t.Run("SharedRaceHeads", func(t *testing.T) { raceHeads(t, two(t)...) })
	t.Run("SharedNonces", func(t *testing.T) {
		ss := two(t)
		team := newTeam(t, ss[0])
		d := team.admin.ID
		if err := ss[0].UseNonce(t.Context(), d, "n1", t0, t0.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := ss[1].UseNonce(t.Context(), d, "n1", t0, t0.Add(-time.Minute)); !errors.Is(err, store.ErrReplay) {
			t.Fatalf("a nonce used through one server, again through another: got %v, want ErrReplay", err)
		}
	})
}

// openTwo opens two stores on dsn at once, closed when t ends.
func openTwo(t *testing.T, dsn string) []store.Store {
	t.Helper()
	// Both start together: migrations must run once, not collide.
	var ss [2]store.Store
	var errs [2]error
	var wg sync.WaitGroup
	for i := range ss {
		wg.Go(func() { ss[i], errs[i] = store.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i := range ss {
		if errs[i] != nil {
			t.Fatalf("Open #%d of two at once: %v", i+1, errs[i])
		}
		t.Cleanup(func() {
			if err := ss[i].Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	return ss[:]
}

// deadlocks returns how many deadlocks PostgreSQL counted in the database
// of dsn. Backends report their counts when idle or gone, so it asks a few
// times.
func deadlocks(t *testing.T, dsn string) int64 {
	t.Helper()
	db := raw(t, dsn)
	var most int64
	for range 8 {
		var n int64
		if err := db.QueryRowContext(t.Context(), `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n); err != nil {
			t.Fatalf("pg_stat_database: %v", err)
		}
		most = max(most, n)
		if most > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	return most
}

// ---- fixtures ----

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func newDevice(name string) wire.Device {
	return wire.Device{
		ID:      wire.NewID(),
		Name:    name,
		Member:  "member-" + name,
		SignKey: random(32),
		Box:     "age1" + wire.NewID(),
	}
}

// newRecord returns version v of record id with a fresh payload.
func newRecord(id string, v int64, author string) wire.Record {
	return wire.Record{ID: id, Version: v, Epoch: 1, Sealed: random(48), Author: author, Sig: random(64)}
}

func newKey(device string, epoch int64, signer string) wire.WrappedKey {
	return wire.WrappedKey{Device: device, Epoch: epoch, Sealed: random(80), Signer: signer, Sig: random(64)}
}

type team struct {
	id    string
	admin wire.Device
}

func newTeam(t *testing.T, s store.Store) team {
	t.Helper()
	tm := team{id: wire.NewID(), admin: newDevice("admin")}
	if err := s.CreateTeam(t.Context(), tm.id, "team "+tm.id[:6], tm.admin, nil, t0); err != nil {
		t.Fatalf("CreateTeam: %v", err)
	}
	return tm
}

// push pushes records and fails the test unless every one applies.
func push(t *testing.T, s store.Store, team string, recs ...wire.Record) []wire.PushResult {
	t.Helper()
	res, _, err := s.Push(t.Context(), team, recs)
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	for i, r := range res {
		if r.Status != wire.PushOK {
			t.Fatalf("Push of %s v%d: status %q, want ok", recs[i].ID, recs[i].Version, r.Status)
		}
	}
	return res
}

// all returns every record of the team, in one call.
func all(t *testing.T, s store.Store, team string) *wire.Changes {
	t.Helper()
	c, err := s.Changes(t.Context(), team, 0, 1_000_000)
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if c.More {
		t.Fatalf("Changes with a huge limit says more follow")
	}
	return c
}

// sameRecord compares what a client pushed with what the store returns.
func sameRecord(got, want wire.Record) error {
	if got.ID != want.ID || got.Version != want.Version || got.Epoch != want.Epoch ||
		!bytes.Equal(got.Sealed, want.Sealed) || got.Author != want.Author || !bytes.Equal(got.Sig, want.Sig) {
		return fmt.Errorf("record %s v%d epoch %d author %s, want %s v%d epoch %d author %s (or payload/signature differ)",
			got.ID, got.Version, got.Epoch, got.Author, want.ID, want.Version, want.Epoch, want.Author)
	}
	return nil
}

func sameDevice(got *store.Device, want wire.Device) error {
	if got.ID != want.ID || got.Name != want.Name || got.Member != want.Member ||
		!bytes.Equal(got.SignKey, want.SignKey) || got.Box != want.Box {
		return fmt.Errorf("device %+v, want %+v", got.Device, want)
	}
	return nil
}

func sameKey(got *wire.WrappedKey, want wire.WrappedKey) error {
	if got.Device != want.Device || got.Scope != want.Scope || got.Epoch != want.Epoch || !bytes.Equal(got.Sealed, want.Sealed) ||
		got.Signer != want.Signer || !bytes.Equal(got.Sig, want.Sig) {
		return fmt.Errorf("wrapped key for %s epoch %d by %s, want for %s epoch %d by %s (or payload/signature differ)",
			got.Device, got.Epoch, got.Signer, want.Device, want.Epoch, want.Signer)
	}
	return nil
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got %v, want %v", what, err, want)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func ids(devs []store.Device) []string {
	out := make([]string, len(devs))
	for i, d := range devs {
		out[i] = d.ID
	}
	return out
}

// ---- teams and devices ----

func testCreateTeam(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	d, err := s.Device(ctx, tm.admin.ID)
	if err != nil {
		t.Fatalf("Device of the creator: %v", err)
	}
	if err := sameDevice(d, tm.admin); err != nil {
		t.Fatal(err)
	}
	if d.Team != tm.id || d.Role != wire.RoleAdmin || d.State != store.Active || d.Invite != "" || !d.Joined.Equal(t0) {
		t.Fatalf("creator: team %q role %q state %q invite %q joined %v, want %q admin active, no invite, joined %v",
			d.Team, d.Role, d.State, d.Invite, d.Joined, tm.id, t0)
	}

	// The same team id again, even with a new device: refused, and the
	// new device is not stored.
	other := newDevice("other")
	wantErr(t, "CreateTeam with a used team id", s.CreateTeam(ctx, tm.id, "again", other, nil, t0), store.ErrExists)
	_, err = s.Device(ctx, other.ID)
	wantErr(t, "Device of a refused team's creator", err, store.ErrNotFound)

	// A new team whose creator's id is taken: refused, and the team is
	// not half-created: its id stays free.
	team2 := wire.NewID()
	wantErr(t, "CreateTeam with a used device id", s.CreateTeam(ctx, team2, "two", tm.admin, nil, t0), store.ErrExists)
	_, _, err = s.Push(ctx, team2, []wire.Record{newRecord(wire.NewID(), 1, tm.admin.ID)})
	wantErr(t, "Push to a team refused for its creator's id", err, store.ErrNotFound)
	if err := s.CreateTeam(ctx, team2, "two", other, nil, t0); err != nil {
		t.Fatalf("CreateTeam with the id of a refused team: %v", err)
	}
	if d, err := s.Device(ctx, tm.admin.ID); err != nil || d.Team != tm.id {
		t.Fatalf("the first creator after a refused reuse of its id: %+v, %v", d, err)
	}

	_, err = s.Device(ctx, wire.NewID())
	wantErr(t, "Device of an unknown id", err, store.ErrNotFound)
}

func testDevices(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	want := []string{tm.admin.ID}
	// Ids that sort before and after the creator's: the order must be the
	// order of joining, not of ids.
	for i, first := range []byte{'0', 'f', '0'} {
		d := newDevice(fmt.Sprintf("joiner%d", i))
		d.ID = string(first) + d.ID[1:]
		inv := store.Invite{ID: wire.NewID(), Team: tm.id, Role: wire.RoleReader, Expires: t0.Add(time.Hour), By: tm.admin.ID}
		if err := s.CreateInvite(ctx, inv); err != nil {
			t.Fatal(err)
		}
		if err := s.Join(ctx, tm.id, inv.ID, d, nil, t0.Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatalf("Join: %v", err)
		}
		want = append(want, d.ID)
	}
	other := newTeam(t, s) // never listed with tm
	devs, err := s.Devices(ctx, tm.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(devs); !slices.Equal(got, want) {
		t.Fatalf("Devices: %v, want in join order %v", got, want)
	}
	devs, err = s.Devices(ctx, other.id)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(devs); !slices.Equal(got, []string{other.admin.ID}) {
		t.Fatalf("Devices of a second team: %v, want only its creator %s", got, other.admin.ID)
	}
}

func testSeen(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	lastSeen := func() time.Time {
		t.Helper()
		d, err := s.Device(ctx, tm.admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d.LastSeen
	}
	if ls := lastSeen(); !ls.IsZero() {
		t.Fatalf("LastSeen before any request: %v, want zero", ls)
	}
	t1, t2 := t0.Add(time.Minute), t0.Add(2*time.Minute+123456789)
	for _, step := range []struct {
		at, want time.Time
	}{
		{t1, t1},
		{t2, t2},
		{t1, t2}, // a slow request that finishes last never moves it back
		{t2, t2},
	} {
		if err := s.Seen(ctx, tm.admin.ID, step.at); err != nil {
			t.Fatalf("Seen: %v", err)
		}
		if ls := lastSeen(); !ls.Equal(step.want) {
			t.Fatalf("LastSeen after Seen(%v): %v, want %v", step.at, ls, step.want)
		}
	}
}

func testNonces(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	d1, d2 := tm.admin.ID, wire.NewID()
	n1, n2 := wire.NewID(), wire.NewID()
	before := t0.Add(-wire.ClockSkew)
	use := func(device, nonce string, at time.Time) error {
		return s.UseNonce(ctx, device, nonce, at, before)
	}
	if err := use(d1, n1, t0); err != nil {
		t.Fatalf("UseNonce: %v", err)
	}
	wantErr(t, "the same nonce of the same device again", use(d1, n1, t0.Add(time.Second)), store.ErrReplay)
	if err := use(d2, n1, t0); err != nil {
		t.Fatalf("the same nonce from another device: %v", err)
	}
	if err := use(d1, n2, t0); err != nil {
		t.Fatalf("another nonce of the same device: %v", err)
	}
	wantErr(t, "the other device's nonce again", use(d2, n1, t0), store.ErrReplay)
	// Many requests later (some of them prune old nonces), recent ones
	// are still refused.
	for i := range 200 {
		at := t0.Add(time.Duration(i) * time.Millisecond).Add(time.Duration(i))
		if err := s.UseNonce(ctx, d1, fmt.Sprint("bulk", i), at, before); err != nil {
			t.Fatalf("UseNonce #%d: %v", i, err)
		}
	}
	wantErr(t, "a nonce used 200 requests ago", use(d1, n1, t0.Add(time.Second)), store.ErrReplay)
}

// ---- records ----

func testPush(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	author := tm.admin.ID
	a, b, c := newRecord(wire.NewID(), 1, author), newRecord(wire.NewID(), 1, author), newRecord(wire.NewID(), 1, author)

	res, head, err := s.Push(ctx, tm.id, []wire.Record{a, b, c})
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if len(res) != 3 {
		t.Fatalf("Push of 3 records: %d results", len(res))
	}
	var last int64
	for i, r := range res {
		want := []string{a.ID, b.ID, c.ID}[i]
		if r.ID != want || r.Status != wire.PushOK || r.Current != nil {
			t.Fatalf("result %d: %+v, want ok for %s", i, r, want)
		}
		if r.Seq <= last {
			t.Fatalf("seqs %v: not increasing", res)
		}
		last = r.Seq
	}
	if head != last {
		t.Fatalf("head %d after a push whose last seq is %d", head, last)
	}

	// CAS: version 2 of a applies on stored version 1.
	a2 := newRecord(a.ID, 2, author)
	res = push(t, s, tm.id, a2)
	if res[0].Seq <= head {
		t.Fatalf("seq of an update %d, not after head %d", res[0].Seq, head)
	}
	a2.Seq, head = res[0].Seq, res[0].Seq

	// Stale pushes: each a conflict that shows the stored a2 and stores
	// nothing.
	before := all(t, s, tm.id)
	for _, stale := range []wire.Record{
		newRecord(a.ID, 2, author), // lost the race for version 2
		newRecord(a.ID, 1, author), // "create" a record that exists
		newRecord(a.ID, 4, author), // skips a version
		newRecord(b.ID, 3, author),
		{ID: a.ID, Version: 0, Epoch: 1, Sealed: random(8), Author: author, Sig: random(64)},
	} {
		res, h, err := s.Push(ctx, tm.id, []wire.Record{stale})
		if err != nil {
			t.Fatalf("stale push v%d: %v", stale.Version, err)
		}
		r := res[0]
		if r.Status != wire.PushConflict || r.Current == nil || r.ID != stale.ID {
			t.Fatalf("stale push of %s v%d: %+v, want conflict with the stored record", stale.ID, stale.Version, r)
		}
		if h != head {
			t.Fatalf("head %d after a conflict, want %d", h, head)
		}
		if stale.ID == a.ID {
			if err := sameRecord(*r.Current, a2); err != nil || r.Current.Seq != a2.Seq {
				t.Fatalf("conflict's current (seq %d): %v", r.Current.Seq, err)
			}
		}
	}
	after := all(t, s, tm.id)
	if after.Head != before.Head || len(after.Records) != len(before.Records) {
		t.Fatalf("conflicts changed the team: head %d→%d, %d→%d records", before.Head, after.Head, len(before.Records), len(after.Records))
	}
	for i := range after.Records {
		if err := sameRecord(after.Records[i], before.Records[i]); err != nil || after.Records[i].Seq != before.Records[i].Seq {
			t.Fatalf("a conflict changed record %d: %v", i, err)
		}
	}

	// A conflict on a record that does not exist: Current is nil.
	res, _, err = s.Push(ctx, tm.id, []wire.Record{newRecord(wire.NewID(), 2, author)})
	if err != nil || res[0].Status != wire.PushConflict || res[0].Current != nil {
		t.Fatalf("version 2 of an absent record: %+v, %v; want conflict without a current record", res, err)
	}

	_, _, err = s.Push(ctx, wire.NewID(), []wire.Record{newRecord(wire.NewID(), 1, author)})
	wantErr(t, "Push to an unknown team", err, store.ErrNotFound)
}

func testPushBatch(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	author := tm.admin.ID
	a, b := newRecord(wire.NewID(), 1, author), newRecord(wire.NewID(), 1, author)
	push(t, s, tm.id, a, b)

	// One stale record among good ones: the others apply.
	c := newRecord(wire.NewID(), 1, author)
	stale := newRecord(a.ID, 1, author)
	b2 := newRecord(b.ID, 2, author)
	res, head, err := s.Push(ctx, tm.id, []wire.Record{c, stale, b2})
	if err != nil {
		t.Fatalf("Push: %v", err)
	}
	if len(res) != 3 || res[0].Status != wire.PushOK || res[1].Status != wire.PushConflict || res[2].Status != wire.PushOK {
		t.Fatalf("batch [new, stale, update]: %+v, want [ok, conflict, ok]", res)
	}
	if res[1].Current == nil || res[1].Current.Version != 1 || !bytes.Equal(res[1].Current.Sealed, a.Sealed) {
		t.Fatalf("conflict in a batch: current %+v, want the stored version 1", res[1].Current)
	}
	if res[0].Seq >= res[2].Seq || res[2].Seq != head {
		t.Fatalf("batch seqs %d, %d with head %d", res[0].Seq, res[2].Seq, head)
	}
	got := map[string]wire.Record{}
	for _, r := range all(t, s, tm.id).Records {
		got[r.ID] = r
	}
	for _, want := range []wire.Record{a, b2, c} {
		if err := sameRecord(got[want.ID], want); err != nil {
			t.Fatalf("after the batch: %v", err)
		}
	}

	// Two versions of one record in one batch apply in order.
	b3, b4 := newRecord(b.ID, 3, author), newRecord(b.ID, 4, author)
	push(t, s, tm.id, b3, b4)
	for _, r := range all(t, s, tm.id).Records {
		if r.ID == b.ID {
			if err := sameRecord(r, b4); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func testChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	author := tm.admin.ID

	c, err := s.Changes(ctx, tm.id, 0, 10)
	if err != nil {
		t.Fatalf("Changes of an empty team: %v", err)
	}
	if len(c.Records) != 0 || c.Head != 0 || c.More {
		t.Fatalf("Changes of an empty team: %+v", c)
	}

	// 25 records, in batches of 1 to 5.
	var want []wire.Record
	for len(want) < 25 {
		n := min(len(want)%5+1, 25-len(want))
		var batch []wire.Record
		for range n {
			batch = append(batch, newRecord(wire.NewID(), 1, author))
		}
		for i, r := range push(t, s, tm.id, batch...) {
			batch[i].Seq = r.Seq
		}
		want = append(want, batch...)
	}
	head := want[24].Seq

	check := func(what string, got []wire.Record, want []wire.Record) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d records, want %d", what, len(got), len(want))
		}
		for i := range got {
			if err := sameRecord(got[i], want[i]); err != nil || got[i].Seq != want[i].Seq {
				t.Fatalf("%s: record %d (seq %d, want %d): %v", what, i, got[i].Seq, want[i].Seq, err)
			}
		}
	}

	c = all(t, s, tm.id)
	check("since 0", c.Records, want)
	if c.Head != head {
		t.Fatalf("head %d, want the newest seq %d", c.Head, head)
	}

	c, err = s.Changes(ctx, tm.id, want[9].Seq, 100)
	if err != nil {
		t.Fatal(err)
	}
	check("since the 10th", c.Records, want[10:])
	if c.Head != head || c.More {
		t.Fatalf("since the 10th: head %d more %v, want %d false", c.Head, c.More, head)
	}

	for _, limit := range []int{1, 7, 10, 24, 25, 26} {
		var got []wire.Record
		var since int64
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatalf("limit %d: more than 30 pages", limit)
			}
			c, err := s.Changes(ctx, tm.id, since, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Records) > limit || c.Head != head {
				t.Fatalf("limit %d: page of %d, head %d", limit, len(c.Records), c.Head)
			}
			got = append(got, c.Records...)
			if !c.More {
				break
			}
			if len(c.Records) == 0 {
				t.Fatalf("limit %d: an empty page says more follow", limit)
			}
			since = c.Records[len(c.Records)-1].Seq
		}
		check(fmt.Sprintf("pages of %d", limit), got, want)
	}

	c, err = s.Changes(ctx, tm.id, head, 10)
	if err != nil || len(c.Records) != 0 || c.More || c.Head != head {
		t.Fatalf("Changes since head: %+v, %v", c, err)
	}

	// An update moves a record after everything else.
	up := newRecord(want[3].ID, 2, author)
	up.Seq = push(t, s, tm.id, up)[0].Seq
	c, err = s.Changes(ctx, tm.id, head, 10)
	if err != nil {
		t.Fatal(err)
	}
	check("since head after an update", c.Records, []wire.Record{up})
	c = all(t, s, tm.id)
	check("since 0 after an update", c.Records, append(slices.Delete(slices.Clone(want), 3, 4), up))

	_, err = s.Changes(ctx, wire.NewID(), 0, 10)
	wantErr(t, "Changes of an unknown team", err, store.ErrNotFound)
}

func testChangesTeams(t *testing.T, s store.Store) {
	t1, t2 := newTeam(t, s), newTeam(t, s)
	// The same record id in both teams: two records.
	shared := wire.NewID()
	r1, r2 := newRecord(shared, 1, t1.admin.ID), newRecord(shared, 1, t2.admin.ID)
	push(t, s, t1.id, r1, newRecord(wire.NewID(), 1, t1.admin.ID))
	push(t, s, t2.id, r2)
	push(t, s, t2.id, newRecord(shared, 2, t2.admin.ID), newRecord(wire.NewID(), 1, t2.admin.ID))
	push(t, s, t1.id, newRecord(wire.NewID(), 1, t1.admin.ID))

	for _, tm := range []struct {
		team
		n int
	}{{t1, 3}, {t2, 2}} {
		c := all(t, s, tm.id)
		if len(c.Records) != tm.n {
			t.Fatalf("team %s: %d records, want its own %d", tm.id, len(c.Records), tm.n)
		}
		for _, r := range c.Records {
			if r.Author != tm.admin.ID {
				t.Fatalf("team %s lists a record of another team: %+v", tm.id, r)
			}
		}
	}
	c := all(t, s, t1.id)
	if err := sameRecord(c.Records[0], r1); err != nil {
		t.Fatalf("team 1's record after team 2 updated the same id: %v", err)
	}
}

// ---- invites, joins, keys ----

func invite(t *testing.T, s store.Store, tm team, role string, expires time.Time) store.Invite {
	t.Helper()
	inv := store.Invite{ID: wire.NewID(), Team: tm.id, Role: role, Expires: expires, By: tm.admin.ID}
	if err := s.CreateInvite(t.Context(), inv); err != nil {
		t.Fatalf("CreateInvite: %v", err)
	}
	return inv
}

func testJoin(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	other := newTeam(t, s)
	now := t0.Add(time.Minute)
	inv := invite(t, s, tm, wire.RoleWriter, now.Add(time.Hour))
	expired := invite(t, s, tm, wire.RoleWriter, now.Add(-time.Second))
	elsewhere := invite(t, s, other, wire.RoleWriter, now.Add(time.Hour))

	d := newDevice("joiner")
	for _, c := range []struct {
		what, team, invite string
	}{
		{"an unknown invite", tm.id, wire.NewID()},
		{"an expired invite", tm.id, expired.ID},
		{"another team's invite", tm.id, elsewhere.ID},
		{"an unknown team", wire.NewID(), inv.ID},
	} {
		wantErr(t, "Join with "+c.what, s.Join(ctx, c.team, c.invite, d, nil, now), store.ErrNotFound)
	}
	if _, err := s.Device(ctx, d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused join stored the device: %v", err)
	}

	// A join that fails on its device (the id is taken) leaves the
	// invite unused.
	if err := s.Join(ctx, tm.id, inv.ID, other.admin, nil, now); err == nil {
		t.Fatal("Join with a device id in use succeeded")
	}

	binding := random(32)
	if err := s.Join(ctx, tm.id, inv.ID, d, binding, now); err != nil {
		t.Fatalf("Join: %v", err)
	}
	got, err := s.Device(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameDevice(got, d); err != nil {
		t.Fatal(err)
	}
	if got.Team != tm.id || got.Role != wire.RoleWriter || got.State != store.Pending || got.Invite != inv.ID ||
		!bytes.Equal(got.Binding, binding) || !got.Joined.Equal(now) {
		t.Fatalf("joined device: team %q role %q state %q invite %q joined %v, want %q writer pending %q %v (binding kept: %v)",
			got.Team, got.Role, got.State, got.Invite, got.Joined, tm.id, inv.ID, now, bytes.Equal(got.Binding, binding))
	}
	wantErr(t, "Join with a used invite", s.Join(ctx, tm.id, inv.ID, newDevice("again"), nil, now), store.ErrNotFound)

	// The invite's role, whatever it is.
	reader := newDevice("reader")
	if err := s.Join(ctx, tm.id, invite(t, s, tm, wire.RoleReader, now.Add(time.Hour)).ID, reader, nil, now); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Device(ctx, reader.ID); err != nil || got.Role != wire.RoleReader {
		t.Fatalf("device joined with a reader invite: %+v, %v", got, err)
	}

	pending, err := s.PendingJoins(ctx, tm.id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(pending), []string{d.ID, reader.ID}; !sameSet(got, want) {
		t.Fatalf("PendingJoins: %v, want %v", got, want)
	}
	for _, p := range pending {
		if p.ID == d.ID && (!bytes.Equal(p.Binding, binding) || p.Role != wire.RoleWriter || p.State != store.Pending) {
			t.Fatalf("PendingJoins lost the binding, role or state: %+v", p)
		}
	}
	if pending, err := s.PendingJoins(ctx, other.id); err != nil || len(pending) != 0 {
		t.Fatalf("PendingJoins of another team: %v, %v", ids(pending), err)
	}
}

func testApprove(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	other := newTeam(t, s)
	now := t0.Add(time.Minute)
	d, theirs := newDevice("joiner"), newDevice("theirs")
	if err := s.Join(ctx, tm.id, invite(t, s, tm, wire.RoleWriter, now.Add(time.Hour)).ID, d, nil, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Join(ctx, other.id, invite(t, s, other, wire.RoleWriter, now.Add(time.Hour)).ID, theirs, nil, now); err != nil {
		t.Fatal(err)
	}

	// Not pending (or not of this team): ErrState, and no key stored.
	wantErr(t, "Approve of another team's pending device",
		s.Approve(ctx, tm.id, theirs.ID, newKey(theirs.ID, 1, tm.admin.ID), nil), store.ErrState)
	wantErr(t, "Approve of the active creator",
		s.Approve(ctx, tm.id, tm.admin.ID, newKey(tm.admin.ID, 1, tm.admin.ID), nil), store.ErrState)
	for _, id := range []string{theirs.ID, tm.admin.ID} {
		if _, err := s.WrappedKey(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a refused Approve stored a key for %s: %v", id, err)
		}
	}
	if got, err := s.Device(ctx, theirs.ID); err != nil || got.State != store.Pending {
		t.Fatalf("another team's device after a refused Approve: %+v, %v", got, err)
	}

	key := newKey(d.ID, 1, tm.admin.ID)
	if err := s.Approve(ctx, tm.id, d.ID, key, nil); err != nil {
		t.Fatalf("Approve: %v", err)
	}
	if got, err := s.Device(ctx, d.ID); err != nil || got.State != store.Active {
		t.Fatalf("approved device: %+v, %v; want active", got, err)
	}
	k, err := s.WrappedKey(ctx, d.ID)
	if err != nil {
		t.Fatalf("WrappedKey of an approved device: %v", err)
	}
	if err := sameKey(k, key); err != nil {
		t.Fatal(err)
	}
	if pending, err := s.PendingJoins(ctx, tm.id); err != nil || len(pending) != 0 {
		t.Fatalf("PendingJoins after Approve: %v, %v", ids(pending), err)
	}
	wantErr(t, "Approve of an approved device", s.Approve(ctx, tm.id, d.ID, newKey(d.ID, 2, tm.admin.ID), nil), store.ErrState)
	if k, err := s.WrappedKey(ctx, d.ID); err != nil || sameKey(k, key) != nil {
		t.Fatalf("a refused second Approve replaced the key: %+v, %v", k, err)
	}
	wantErr(t, "Approve of an unknown device", s.Approve(ctx, tm.id, wire.NewID(), newKey(d.ID, 3, tm.admin.ID), nil), store.ErrState)
}

func testWrappedKey(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	admin := tm.admin.ID
	_, err := s.WrappedKey(ctx, admin)
	wantErr(t, "WrappedKey before any", err, store.ErrNotFound)
	_, err = s.WrappedKey(ctx, wire.NewID())
	wantErr(t, "WrappedKey of an unknown device", err, store.ErrNotFound)

	k1, k2, k3 := newKey(admin, 1, admin), newKey(admin, 2, admin), newKey(admin, 3, admin)
	// Stored out of order: the newest epoch wins, not the newest row.
	for _, k := range []wire.WrappedKey{k1, k3, k2} {
		if err := s.PutWrappedKey(ctx, tm.id, k); err != nil {
			t.Fatalf("PutWrappedKey epoch %d: %v", k.Epoch, err)
		}
	}
	k, err := s.WrappedKey(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameKey(k, k3); err != nil {
		t.Fatalf("WrappedKey with epochs 1-3: %v", err)
	}
	// A key for a device that does not exist is refused, and not as a
	// duplicate.
	if err := s.PutWrappedKey(ctx, tm.id, newKey(wire.NewID(), 1, admin)); err == nil || errors.Is(err, store.ErrExists) {
		t.Fatalf("PutWrappedKey for an unknown device: %v, want an error other than ErrExists", err)
	}
	// A second key for an epoch never replaces the first.
	if err := s.PutWrappedKey(ctx, tm.id, newKey(admin, 3, admin)); err == nil {
		t.Fatal("a second key for one epoch was accepted")
	}
	if k, err := s.WrappedKey(ctx, admin); err != nil || sameKey(k, k3) != nil {
		t.Fatalf("after a second key for epoch 3: %+v, %v", k, err)
	}
	// Folder scopes: a scope's keys are its own; the root's newest is
	// still the team key; WrappedKeys gives the newest of each scope.
	sa, sb := wire.NewID(), wire.NewID()
	if sa > sb {
		sa, sb = sb, sa
	}
	a1, a4, b2 := newKey(admin, 1, admin), newKey(admin, 4, admin), newKey(admin, 2, admin)
	a1.Scope, a4.Scope, b2.Scope = sa, sa, sb
	for _, k := range []wire.WrappedKey{a4, a1, b2} {
		if err := s.PutWrappedKey(ctx, tm.id, k); err != nil {
			t.Fatalf("PutWrappedKey scope %s epoch %d: %v", k.Scope, k.Epoch, err)
		}
	}
	if err := s.PutWrappedKey(ctx, tm.id, a4); err == nil {
		t.Fatal("a second key for one scope's epoch was accepted")
	}
	if k, err := s.WrappedKey(ctx, admin); err != nil || sameKey(k, k3) != nil {
		t.Fatalf("the root's key once scopes have keys: %+v, %v", k, err)
	}
	ks, err := s.WrappedKeys(ctx, admin)
	if err != nil || len(ks) != 3 {
		t.Fatalf("WrappedKeys: %d keys, %v; want 3", len(ks), err)
	}
	for i, want := range []wire.WrappedKey{k3, a4, b2} {
		if ks[i].Scope != want.Scope {
			t.Fatalf("WrappedKeys[%d] is of scope %q, want %q", i, ks[i].Scope, want.Scope)
		}
		if err := sameKey(&ks[i], want); err != nil {
			t.Fatalf("WrappedKeys[%d]: %v", i, err)
		}
	}
	if ks, err := s.WrappedKeys(ctx, wire.NewID()); err != nil || len(ks) != 0 {
		t.Fatalf("WrappedKeys of an unknown device: %v, %v", ks, err)
	}
}

// ---- audit log ----

func testEvents(t *testing.T, s store.Store) {
	ctx := t.Context()
	t1, t2 := wire.NewID(), wire.NewID()
	r1, r2 := wire.NewID(), wire.NewID()
	at := func(s int) time.Time { return t0.Add(time.Duration(s)*time.Second + 1234) }
	e := []store.Event{
		{Time: at(0), Team: t1, Device: "d1", Action: "create", Result: "ok"},
		{Time: at(1), Team: t1, Device: "d1", Action: "push", Records: []string{r1, r2}, Result: "ok"},
		{Time: at(2), Team: t2, Device: "d2", Action: "push", Records: []string{r2}, Result: "ok"},
		{Time: at(3), Team: t1, Device: "d3", Action: "push", Records: []string{r1}, Result: "conflict"},
		{Time: at(4), Team: t1, Device: "d1", Action: "pull", Result: "ok"},
	}
	if err := s.Audit(ctx, e[0]); err != nil {
		t.Fatalf("Log: %v", err)
	}
	if err := s.Audit(ctx, e[1:]...); err != nil {
		t.Fatalf("Log of several: %v", err)
	}
	if err := s.Audit(ctx); err != nil {
		t.Fatalf("Log of none: %v", err)
	}
	check := func(team string, since time.Time, want ...store.Event) {
		t.Helper()
		got, err := s.Events(ctx, team, since)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(got) != len(want) {
			t.Fatalf("Events(%s, %v): %d events, want %d", team[:6], since, len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if !g.Time.Equal(w.Time) || g.Team != w.Team || g.Device != w.Device || g.Action != w.Action ||
				g.Result != w.Result || !slices.Equal(g.Records, w.Records) {
				t.Fatalf("event %d: %+v, want %+v", i, g, w)
			}
		}
	}
	check(t1, time.Time{}, e[0], e[1], e[3], e[4])
	check(t2, time.Time{}, e[2])
	check(t1, at(1).Add(time.Millisecond), e[3], e[4])
	check(t1, at(5))
	check(wire.NewID(), time.Time{})
	// Far ahead or far back, past what unix nanoseconds hold: none, all.
	for _, y := range []int{2263, 2300, 3000, 9999} {
		check(t1, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC))
	}
	check(t1, time.Unix(1<<40, 0))
	for _, y := range []int{1, 1000, 1677} {
		check(t1, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), e[0], e[1], e[3], e[4])
	}
}

// ---- concurrency ----

// within runs fn(i) for i in [0, n) at once and fails the test if they do
// not all return within raceTimeout (a deadlock), or if any returns an
// error. The context passed to fn ends at the timeout.
func within(t *testing.T, n int, fn func(ctx context.Context, i int) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), raceTimeout)
	defer cancel()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs <- fn(ctx, i) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(raceTimeout + 5*time.Second):
		t.Fatalf("%d goroutines did not finish within %v", n, raceTimeout)
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

const (
	workers = 8
	tries   = 25
)

// raceCAS has workers push new versions of one record, each from the
// version it last knew: every version is won by exactly one push and no
// update is lost. With several stores, workers spread over them.
func raceCAS(t *testing.T, ss ...store.Store) {
	tm := newTeam(t, ss[0])
	id := wire.NewID()
	var mu sync.Mutex
	wins := map[int64][]wire.Record{} // version → the pushes that won it
	within(t, workers, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		var known int64
		for range tries {
			r := newRecord(id, known+1, tm.admin.ID)
			res, _, err := s.Push(ctx, tm.id, []wire.Record{r})
			if err != nil {
				return fmt.Errorf("worker %d: Push v%d: %w", w, r.Version, err)
			}
			switch res[0].Status {
			case wire.PushOK:
				mu.Lock()
				wins[r.Version] = append(wins[r.Version], r)
				mu.Unlock()
				known = r.Version
			case wire.PushConflict:
				cur := res[0].Current
				if cur == nil || cur.Version <= known {
					return fmt.Errorf("worker %d: conflict on v%d with current %+v: the record was at v%d already", w, r.Version, cur, known)
				}
				known = cur.Version
			default:
				return fmt.Errorf("worker %d: status %q", w, res[0].Status)
			}
		}
		return nil
	})
	won := 0
	for _, rs := range wins {
		won += len(rs)
	}
	for v := int64(1); v <= int64(won); v++ {
		if n := len(wins[v]); n != 1 {
			t.Errorf("version %d won by %d pushes, want exactly 1", v, n)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	c := all(t, ss[len(ss)-1], tm.id)
	if len(c.Records) != 1 {
		t.Fatalf("%d records after racing on one", len(c.Records))
	}
	if err := sameRecord(c.Records[0], wins[int64(won)][0]); err != nil {
		t.Fatalf("%d successful pushes, stored: %v", won, err)
	}
	if c.Head != c.Records[0].Seq {
		t.Fatalf("head %d, record seq %d", c.Head, c.Records[0].Seq)
	}
}

// raceRecords has workers push their own records (new ones and updates)
// while readers page through Changes: every seq is given once, and a
// reader that follows the changes never misses one.
func raceRecords(t *testing.T, ss ...store.Store) {
	tm := newTeam(t, ss[0])
	var mu sync.Mutex
	seqs := map[int64]string{}
	final := map[string]wire.Record{}
	var writing atomic.Int32
	writing.Store(workers)

	type reader struct {
		seen map[string]int64 // id → newest version seen
		// cursor: after a last page, continue from Head (what a client
		// keeps) rather than from the last record's seq.
		useHead bool
		pages   int
	}
	readers := []*reader{{seen: map[string]int64{}}, {seen: map[string]int64{}, useHead: true}}

	within(t, workers+len(readers), func(ctx context.Context, w int) error {
		if w >= workers {
			rd := readers[w-workers]
			s := ss[w%len(ss)]
			var since int64
			for {
				done := writing.Load() == 0 // before the read: a last page then covers every push
				c, err := s.Changes(ctx, tm.id, since, 7)
				if err != nil {
					return fmt.Errorf("reader: Changes: %w", err)
				}
				rd.pages++
				for _, r := range c.Records {
					if r.Seq <= since || r.Seq > c.Head {
						return fmt.Errorf("reader: record seq %d after cursor %d, head %d", r.Seq, since, c.Head)
					}
					if r.Version < rd.seen[r.ID] {
						return fmt.Errorf("reader: %s went back from v%d to v%d", r.ID, rd.seen[r.ID], r.Version)
					}
					rd.seen[r.ID], since = r.Version, r.Seq
				}
				if !c.More {
					if rd.useHead {
						since = max(since, c.Head)
					}
					if done {
						return nil
					}
					if len(c.Records) == 0 {
						time.Sleep(time.Millisecond) // leave the cores to the writers
					}
				}
			}
		}
		defer writing.Add(-1)
		s := ss[w%len(ss)]
		var mine []wire.Record
		for i := range tries {
			var r wire.Record
			if i%3 == 2 {
				k := i % len(mine)
				r = newRecord(mine[k].ID, mine[k].Version+1, tm.admin.ID)
				mine[k] = r
			} else {
				r = newRecord(wire.NewID(), 1, tm.admin.ID)
				mine = append(mine, r)
			}
			res, head, err := s.Push(ctx, tm.id, []wire.Record{r})
			if err != nil {
				return fmt.Errorf("worker %d: Push: %w", w, err)
			}
			if res[0].Status != wire.PushOK {
				return fmt.Errorf("worker %d: push of its own record v%d: %+v", w, r.Version, res[0])
			}
			if head < res[0].Seq {
				return fmt.Errorf("worker %d: head %d before its own seq %d", w, head, res[0].Seq)
			}
			mu.Lock()
			if prev, ok := seqs[res[0].Seq]; ok {
				mu.Unlock()
				return fmt.Errorf("seq %d given to %s and %s", res[0].Seq, prev, r.ID)
			}
			seqs[res[0].Seq] = r.ID
			final[r.ID] = r
			mu.Unlock()
		}
		return nil
	})

	c := all(t, ss[0], tm.id)
	if len(c.Records) != len(final) {
		t.Fatalf("%d records stored, %d pushed", len(c.Records), len(final))
	}
	var newest int64
	for s := range seqs {
		newest = max(newest, s)
	}
	if c.Head != newest {
		t.Fatalf("head %d, newest seq given %d", c.Head, newest)
	}
	for _, r := range c.Records {
		if err := sameRecord(r, final[r.ID]); err != nil {
			t.Fatalf("stored after the race: %v", err)
		}
	}
	for i, rd := range readers {
		var missed []string
		for id, r := range final {
			if rd.seen[id] != r.Version {
				missed = append(missed, fmt.Sprintf("%s v%d (saw v%d)", id[:6], r.Version, rd.seen[id]))
			}
		}
		if len(missed) > 0 || len(rd.seen) != len(final) {
			t.Errorf("reader %d (%d pages) missed %d of %d records: %s", i, rd.pages, len(missed), len(final), strings.Join(missed, ", "))
		}
	}
}

// raceTeams has workers push to several teams at once, in random order:
// pushes to different teams never wait long for each other, never fail,
// and each team keeps its own records and sequence.
func raceTeams(t *testing.T, ss ...store.Store) {
	const nteams = 4
	teams := make([]team, nteams)
	for i := range teams {
		teams[i] = newTeam(t, ss[0])
	}
	var mu sync.Mutex
	pushed := make([]map[string]int64, nteams) // id → seq, per team
	for i := range pushed {
		pushed[i] = map[string]int64{}
	}
	start := time.Now()
	within(t, workers, func(ctx context.Context, w int) error {
		s := ss[w%len(ss)]
		for range tries {
			k := mrand.IntN(nteams)
			r := newRecord(wire.NewID(), 1, teams[k].admin.ID)
			res, _, err := s.Push(ctx, teams[k].id, []wire.Record{r})
			if err != nil {
				return fmt.Errorf("worker %d: Push to team %d: %w", w, k, err)
			}
			if res[0].Status != wire.PushOK {
				return fmt.Errorf("worker %d: push of a new record: %+v", w, res[0])
			}
			mu.Lock()
			for id, seq := range pushed[k] {
				if seq == res[0].Seq {
					mu.Unlock()
					return fmt.Errorf("team %d: seq %d given to %s and %s", k, seq, id, r.ID)
				}
			}
			pushed[k][r.ID] = res[0].Seq
			mu.Unlock()
		}
		return nil
	})
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("%d pushes to %d teams took %v", workers*tries, nteams, d)
	}
	for k, tm := range teams {
		c := all(t, ss[len(ss)-1], tm.id)
		if len(c.Records) != len(pushed[k]) {
			t.Fatalf("team %d: %d records stored, %d pushed", k, len(c.Records), len(pushed[k]))
		}
		for _, r := range c.Records {
			if seq, ok := pushed[k][r.ID]; !ok || seq != r.Seq {
				t.Fatalf("team %d: record %s at seq %d, pushed: %v (seq %d)", k, r.ID, r.Seq, ok, seq)
			}
		}
	}
}

// raceJoin has several devices join with one invite at once: exactly one
// gets in.
func raceJoin(t *testing.T, ss ...store.Store) {
	tm := newTeam(t, ss[0])
	const rounds, joiners = 5, 4
	for round := range rounds {
		inv := invite(t, ss[0], tm, wire.RoleWriter, t0.Add(time.Hour))
		devs := make([]wire.Device, joiners)
		errs := make([]error, joiners)
		for i := range devs {
			devs[i] = newDevice(fmt.Sprintf("r%dj%d", round, i))
		}
		within(t, joiners, func(ctx context.Context, i int) error {
			errs[i] = ss[i%len(ss)].Join(ctx, tm.id, inv.ID, devs[i], nil, t0)
			return nil
		})
		var in []string
		for i, err := range errs {
			switch {
			case err == nil:
				in = append(in, devs[i].ID)
			case !errors.Is(err, store.ErrNotFound):
				t.Fatalf("a join that lost the race: %v, want ErrNotFound", err)
			}
		}
		if len(in) != 1 {
			t.Fatalf("round %d: %d of %d joins with one invite succeeded", round, len(in), joiners)
		}
		pending, err := ss[len(ss)-1].PendingJoins(t.Context(), tm.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(pending); len(got) != round+1 || !slices.Contains(got, in[0]) {
			t.Fatalf("round %d: pending %v, want %d devices including %s", round, got, round+1, in[0])
		}
	}
}

// ---- reopening ----

func isPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// raw opens the database behind dsn directly, for the schema's own table.
func raw(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver := "sqlite3"
	if isPostgres(dsn) {
		driver = "pgx"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func schemaVersions(t *testing.T, db *sql.DB) []int {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version FROM schema_version ORDER BY version`)
	if err != nil {
		t.Fatalf("schema_version: %v", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func open(t *testing.T, dsn string) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func testReopen(t *testing.T, dsn string) {
	ctx := t.Context()
	s := open(t, dsn)
	tm := newTeam(t, s)
	now := t0.Add(time.Minute)
	d := newDevice("joiner")
	inv := invite(t, s, tm, wire.RoleReader, now.Add(time.Hour))
	if err := s.Join(ctx, tm.id, inv.ID, d, random(32), now); err != nil {
		t.Fatal(err)
	}
	key := newKey(d.ID, 1, tm.admin.ID)
	if err := s.Approve(ctx, tm.id, d.ID, key, nil); err != nil {
		t.Fatal(err)
	}
	r1, r2 := newRecord(wire.NewID(), 1, tm.admin.ID), newRecord(wire.NewID(), 1, tm.admin.ID)
	push(t, s, tm.id, r1, r2)
	ev := store.Event{Time: now, Team: tm.id, Device: d.ID, Action: "push", Records: []string{r1.ID, r2.ID}, Result: "ok"}
	if err := s.Audit(ctx, ev); err != nil {
		t.Fatal(err)
	}
	nonce := wire.NewID()
	if err := s.UseNonce(ctx, d.ID, nonce, now, now.Add(-wire.ClockSkew)); err != nil {
		t.Fatal(err)
	}
	before := all(t, s, tm.id)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	versions := schemaVersions(t, raw(t, dsn))
	if len(versions) == 0 {
		t.Fatal("no schema_version after Open")
	}

	s = open(t, dsn)
	defer s.Close()
	if got := schemaVersions(t, raw(t, dsn)); !slices.Equal(got, versions) {
		t.Fatalf("schema_version %v after reopening, was %v: migrations ran again", got, versions)
	}
	if got, err := s.Device(ctx, d.ID); err != nil || got.State != store.Active || got.Role != wire.RoleReader {
		t.Fatalf("device after reopening: %+v, %v", got, err)
	}
	if devs, err := s.Devices(ctx, tm.id); err != nil || !slices.Equal(ids(devs), []string{tm.admin.ID, d.ID}) {
		t.Fatalf("devices after reopening: %v, %v", ids(devs), err)
	}
	if k, err := s.WrappedKey(ctx, d.ID); err != nil || sameKey(k, key) != nil {
		t.Fatalf("wrapped key after reopening: %+v, %v", k, err)
	}
	after := all(t, s, tm.id)
	if after.Head != before.Head || len(after.Records) != 2 {
		t.Fatalf("after reopening: head %d with %d records, was %d with 2", after.Head, len(after.Records), before.Head)
	}
	for i, r := range after.Records {
		if err := sameRecord(r, before.Records[i]); err != nil || r.Seq != before.Records[i].Seq {
			t.Fatalf("record after reopening: %v", err)
		}
	}
	if evs, err := s.Events(ctx, tm.id, time.Time{}); err != nil || len(evs) != 1 || !slices.Equal(evs[0].Records, ev.Records) {
		t.Fatalf("events after reopening: %+v, %v", evs, err)
	}
	wantErr(t, "Join with an invite used before reopening", s.Join(ctx, tm.id, inv.ID, newDevice("late"), nil, now), store.ErrNotFound)
	wantErr(t, "a nonce used before reopening (a server restart)",
		s.UseNonce(ctx, d.ID, nonce, now.Add(time.Second), now.Add(time.Second-wire.ClockSkew)), store.ErrReplay)
	// Sequence numbers continue.
	r3 := newRecord(wire.NewID(), 1, tm.admin.ID)
	if seq := push(t, s, tm.id, r3)[0].Seq; seq <= before.Head {
		t.Fatalf("seq %d after reopening, head was %d", seq, before.Head)
	}
}

func testNewerSchema(t *testing.T, dsn string) {
	s := open(t, dsn)
	tm := newTeam(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db := raw(t, dsn)
	versions := schemaVersions(t, db)
	newer := versions[len(versions)-1] + 1
	if _, err := db.ExecContext(t.Context(), fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, newer)); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(t.Context(), dsn)
	if err == nil {
		s.Close()
		t.Fatalf("Open of a database with schema %d (newer than the code) succeeded", newer)
	}
	if msg := err.Error(); !strings.Contains(msg, "newer") || !strings.Contains(msg, fmt.Sprint(newer)) {
		t.Fatalf("Open of a newer schema: %q; want an error that says the schema (%d) is newer", msg, newer)
	}
	// Refusing changed nothing: with the version back, it opens as before.
	if _, err := db.ExecContext(t.Context(), fmt.Sprintf(`DELETE FROM schema_version WHERE version = %d`, newer)); err != nil {
		t.Fatal(err)
	}
	if got := schemaVersions(t, db); !slices.Equal(got, versions) {
		t.Fatalf("schema_version %v after a refused Open, want %v", got, versions)
	}
	s = open(t, dsn)
	defer s.Close()
	if _, err := s.Device(t.Context(), tm.admin.ID); err != nil {
		t.Fatalf("after a refused Open: %v", err)
	}
}

// RefuseJoin removes a pending device of the team, and nothing else.
func testRefuseJoin(t *testing.T, s store.Store) {
	ctx := t.Context()
	tm := newTeam(t, s)
	other := newTeam(t, s)
	now := t0.Add(time.Minute)
	d, theirs := newDevice("joiner"), newDevice("theirs")
	if err := s.Join(ctx, tm.id, invite(t, s, tm, wire.RoleWriter, now.Add(time.Hour)).ID, d, nil, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Join(ctx, other.id, invite(t, s, other, wire.RoleWriter, now.Add(time.Hour)).ID, theirs, nil, now); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RefuseJoin of another team's device", s.RefuseJoin(ctx, tm.id, theirs.ID), store.ErrState)
	wantErr(t, "RefuseJoin of the active creator", s.RefuseJoin(ctx, tm.id, tm.admin.ID), store.ErrState)
	if err := s.RefuseJoin(ctx, tm.id, d.ID); err != nil {
		t.Fatalf("RefuseJoin: %v", err)
	}
	if got, err := s.Device(ctx, d.ID); err != nil || got.State != store.Removed {
		t.Fatalf("a refused device: %+v, %v", got, err)
	}
	wantErr(t, "RefuseJoin twice", s.RefuseJoin(ctx, tm.id, d.ID), store.ErrState)
	wantErr(t, "Approve of a refused device", s.Approve(ctx, tm.id, d.ID, newKey(d.ID, 1, tm.admin.ID), nil), store.ErrState)
	for _, id := range []string{theirs.ID, tm.admin.ID} {
		if got, err := s.Device(ctx, id); err != nil || got.State == store.Removed {
			t.Fatalf("RefuseJoin touched %s: %+v, %v", id, got, err)
		}
	}
}
