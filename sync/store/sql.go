package store

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

//go:embed migrations
var migrationFiles embed.FS

// dialect is what differs between the backends: placeholders, the schema
// and how writes are serialised.
type dialect struct {
	name string
	// rebind turns $1 placeholders into the backend's own.
	rebind func(string) string
	// unique reports a unique-constraint violation.
	unique func(error) bool
}

// sqlStore implements Store on database/sql for both backends. Writes go
// through w (SQLite: one connection, so Go queues writers instead of
// SQLite's sleeping busy handler); reads through r.
type sqlStore struct {
	w, r *sql.DB
	d    dialect
	// nonces is set for SQLite, whose file belongs to one server process:
	// remembering nonces in memory spares a disk write per request.
	nonces *nonceSet
	// nonceDB (PostgreSQL) has synchronous_commit off.
	nonceDB *sql.DB
	unlock  func()

	// PostgreSQL: device lookups and nonce writes coalesced (batch.go),
	// and the sweep of old nonces, one at a time in the background.
	deviceCalls *coalescer[string, *Device]
	nonceCalls  *coalescer[nonceUse, struct{}]
	// headCalls: a pull's read of its team's head (chain.go, teamHead).
	headCalls *coalescer[string, teamHeadRow]
	sweeping  sync.Mutex
	lastSweep time.Time
	sweeps    sync.WaitGroup

	// tails: each team's recent chain entries and records, as committed
	// (tail.go).
	tails tails
	// devs (SQLite) keeps the devices read, until the next write to them
	// (devcache.go).
	devs *deviceCache

	commitOnce    sync.Once
	closeOnce     sync.Once
	pushes        chan *pushReq
	closed        chan struct{}
	committerDone chan struct{}
}

// nonceSet is the nonces used within the replay window, in generations:
// each holds the nonces of a stretch of time (a quarter of the window),
// and a generation whose newest nonce is older than the window's start
// is dropped whole. The set once swept every nonce it held under its lock
// every 10 s: at thousands of requests a second that was hundreds of
// thousands of entries, with every request waiting behind it.
//
// The set is split by device into shards, each with its own lock: every
// request takes one, and one lock for all had fifty devices' requests
// queue on it.
type nonceSet struct {
	shards [nonceShards]nonceShard
}

const nonceShards = 16

type nonceShard struct {
	mu   sync.Mutex
	gens []*nonceGen // oldest first; the last takes new nonces
}

func (n *nonceSet) shard(device string) *nonceShard {
	return &n.shards[maphash.String(nonceSeed, device)%nonceShards]
}

var nonceSeed = maphash.MakeSeed()

type nonceGen struct {
	start, last time.Time // its first and newest nonce's times
	seen        map[nonceKey]time.Time
}

type nonceKey struct{ device, nonce string }

// nonceGens is how many generations span the replay window: a nonce is
// kept for the window and at most a quarter more.
const nonceGens = 4

// loadNonces reads the nonces the last server saved when it closed the
// store: a restart must not reopen the replay window.
func loadNonces(ctx context.Context, db *sql.DB) (*nonceSet, error) {
	n := &nonceSet{}
	rows, err := db.QueryContext(ctx, `SELECT device, nonce, at FROM nonces`)
	if err != nil {
		return nil, fmt.Errorf("store: nonces: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k nonceKey
		var at int64
		if err := rows.Scan(&k.device, &k.nonce, &at); err != nil {
			return nil, fmt.Errorf("store: nonces: %w", err)
		}
		n.shard(k.device).add(k, fromNanos(at))
	}
	return n, rows.Err()
}

// add puts key in the newest generation.
func (n *nonceShard) add(key nonceKey, at time.Time) {
	if len(n.gens) == 0 {
		n.gens = append(n.gens, &nonceGen{start: at, last: at, seen: map[nonceKey]time.Time{}})
	}
	g := n.gens[len(n.gens)-1]
	g.seen[key] = at
	if at.After(g.last) {
		g.last = at
	}
}

// save replaces the saved nonces with the remembered ones.
func (n *nonceSet) save(db *sql.DB) error {
	for i := range n.shards {
		n.shards[i].mu.Lock()
		defer n.shards[i].mu.Unlock()
	}
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM nonces`); err != nil {
		return err
	}
	for i := range n.shards {
		for _, g := range n.shards[i].gens {
			for k, at := range g.seen {
				if _, err := tx.ExecContext(ctx, `INSERT INTO nonces (device, nonce, at) VALUES (?, ?, ?)`, k.device, k.nonce, nanos(at)); err != nil {
					return err
				}
			}
		}
	}
	return tx.Commit()
}

// use records key at now, or returns ErrReplay if it is held; nonces
// older than before may be forgotten.
func (n *nonceSet) use(key nonceKey, now, before time.Time) error {
	return n.shard(key.device).use(key, now, before)
}

func (n *nonceShard) use(key nonceKey, now, before time.Time) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, g := range n.gens {
		if _, ok := g.seen[key]; ok {
			return ErrReplay
		}
	}
	// Drop the generations wholly before the window; start a new one
	// when the newest has taken nonces for a quarter of the window.
	drop := 0
	for drop < len(n.gens) && n.gens[drop].last.Before(before) {
		drop++
	}
	if drop > 0 {
		clear(n.gens[:drop])
		n.gens = n.gens[drop:]
	}
	if len(n.gens) == 0 || now.Sub(n.gens[len(n.gens)-1].start) > now.Sub(before)/nonceGens {
		n.gens = append(n.gens, &nonceGen{start: now, last: now, seen: map[nonceKey]time.Time{}})
	}
	n.add(key, now)
	return nil
}

func (s *sqlStore) query(q string) string {
	if s.d.rebind == nil {
		return q
	}
	return s.d.rebind(q)
}

// sqliteRebind is q with SQLite's numbered placeholders for $1, written
// +?1. Each query's form is made once and remembered: the queries are this
// package's own constants, a few dozen, and rebinding one on every request
// (a regular expression, at first) cost the server more than looking it
// up.
//
// Why the unary plus (a no-op on any value, and like a bare parameter of
// no affinity, so comparisons, index use and stored values are the same):
// SQLite 3.48 and later may look at a parameter's bound value while
// planning (a LIMIT, or an equality the plan might use) and then mark the
// statement to be prepared again when the parameter is bound anew; and
// go-sqlite3 clears every binding before it binds (sqlite3_clear_bindings),
// which expires such a statement every time. So most of the server's
// queries were parsed and planned again at each use, statement cache or
// not: half of a pull's work. SQLite does not look through a unary plus
// (sqlite3ExprIsInteger), so +?1 keeps one plan. go-sqlite3 offers no way
// to set SQLITE_DBCONFIG_ENABLE_QPSG, which would say the same for every
// query.
func sqliteRebind(q string) string {
	if r, ok := rebound.Load(q); ok {
		return r.(string)
	}
	r := rebindDollars(q)
	rebound.Store(q, r)
	return r
}

var rebound sync.Map // query -> its SQLite form

// rebindDollars replaces each $ followed by a digit with +?: $12 is +?12.
func rebindDollars(q string) string {
	b := make([]byte, 0, len(q)+8)
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			b = append(b, '+', '?')
			continue
		}
		b = append(b, q[i])
	}
	return string(b)
}

func (s *sqlStore) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	return q.ExecContext(ctx, s.query(query), args...)
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// migrate applies the numbered files in migrations/NAME in order, each in
// a transaction, recording the version reached in schema_version.
func migrate(ctx context.Context, db *sql.DB, d dialect, lock string) error {
	dir := path.Join("migrations", d.name)
	entries, err := migrationFiles.ReadDir(dir)
	if err != nil {
		return err
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if lock != "" {
		// Many server processes may start at once on one database.
		if _, err := tx.ExecContext(ctx, lock); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var have int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`).Scan(&have); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if have > len(entries) {
		return fmt.Errorf("store: the database has schema %d, newer than this hush (%d): upgrade hush", have, len(entries))
	}
	for i, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil || n != i+1 {
			return fmt.Errorf("store: migration %s is out of sequence", e.Name())
		}
		if n <= have {
			continue
		}
		b, err := migrationFiles.ReadFile(path.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(b)); err != nil {
			return fmt.Errorf("store: migration %s: %w", e.Name(), err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (`+strconv.Itoa(n)+`)`); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// nanos is t in unix nanoseconds (0 for the zero time). A time beyond
// what that holds (before 1678, after 2262) is clamped: UnixNano would
// wrap around, and a bound like Events' since would select the wrong
// side.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero():
		return 0
	case t.Before(minNanos):
		return math.MinInt64
	case t.After(maxNanos):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var minNanos, maxNanos = time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)

func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (s *sqlStore) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *sqlStore) CreateTeam(ctx context.Context, team, name string, d wire.Device, genesis []byte, now time.Time) error {
	return s.createTeam(ctx, team, name, d, genesis, now, 0)
}

func (s *sqlStore) CreateChainedTeam(ctx context.Context, team, name string, d wire.Device, genesis []byte, now time.Time) error {
	return s.createTeam(ctx, team, name, d, genesis, now, 1)
}

func (s *sqlStore) createTeam(ctx context.Context, team, name string, d wire.Device, genesis []byte, now time.Time, chained int) error {
	defer s.devicesChanged()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var logSeq int64
		if genesis != nil {
			logSeq = 1
		}
		if _, err := s.exec(ctx, tx, `INSERT INTO teams (id, name, seq, created, epoch, log_seq, chained) VALUES ($1, $2, 0, $3, 1, $4, $5)`, team, name, nanos(now), logSeq, chained); err != nil {
			if s.d.unique(err) {
				return ErrExists
			}
			return err
		}
		if genesis != nil {
			if _, err := s.exec(ctx, tx, `INSERT INTO log (team, seq, entry) VALUES ($1, 1, $2)`, team, genesis); err != nil {
				return err
			}
		}
		return s.insertDevice(ctx, tx, team, d, wire.RoleAdmin, Active, "", nil, now)
	})
}

func (s *sqlStore) Team(ctx context.Context, team string) (epoch, logSeq int64, err error) {
	err = s.r.QueryRowContext(ctx, s.query(`SELECT epoch, log_seq FROM teams WHERE id = $1`), team).Scan(&epoch, &logSeq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, ErrNotFound
	}
	return epoch, logSeq, err
}

func (s *sqlStore) Log(ctx context.Context, team string, since int64) ([][]byte, int64, error) {
	// One statement, as Changes: one snapshot of the head and the entries
	// up to it, in one round trip (every sync asks; it was a read
	// transaction of two queries, four round trips on PostgreSQL).
	rows, err := s.r.QueryContext(ctx, s.query(`WITH h AS (SELECT log_seq FROM teams WHERE id = $1)
		SELECT h.log_seq, l.entry FROM h LEFT JOIN log l ON l.team = $1 AND l.seq > $2 AND l.seq <= h.log_seq
		ORDER BY l.seq`), team, since)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out [][]byte
	var head int64
	found := false
	for rows.Next() {
		found = true
		var b []byte
		if err := rows.Scan(&head, &b); err != nil {
			return nil, 0, err
		}
		if b != nil {
			out = append(out, b)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if !found {
		return nil, 0, ErrNotFound
	}
	return out, head, nil
}

// appendEntry takes the team's row (serialising log appends and pushes),
// checks that seq is the log's next and appends the entry.
func (s *sqlStore) appendEntry(ctx context.Context, tx *sql.Tx, team string, e *Entry) error {
	var head int64
	if err := tx.QueryRowContext(ctx, s.query(`UPDATE teams SET log_seq = log_seq WHERE id = $1 RETURNING log_seq`), team).Scan(&head); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		return err
	}
	if e.Seq != head+1 {
		return ErrConflict
	}
	if _, err := s.exec(ctx, tx, `INSERT INTO log (team, seq, entry) VALUES ($1, $2, $3)`, team, e.Seq, e.JSON); err != nil {
		if s.d.unique(err) {
			return ErrConflict
		}
		return err
	}
	_, err := s.exec(ctx, tx, `UPDATE teams SET log_seq = $1 WHERE id = $2`, e.Seq, team)
	return err
}

func (s *sqlStore) AppendLog(ctx context.Context, team string, seq int64, entry []byte, c Change) error {
	defer s.devicesChanged()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.appendEntry(ctx, tx, team, &Entry{seq, entry}); err != nil {
			return err
		}
		if c.Member != "" {
			if _, err := s.exec(ctx, tx, `UPDATE devices SET role = $1 WHERE team = $2 AND member = $3 AND state = $4`, c.Role, team, c.Member, Active); err != nil {
				return err
			}
		}
		for _, d := range c.Remove {
			if _, err := s.exec(ctx, tx, `UPDATE devices SET state = $1 WHERE team = $2 AND id = $3`, Removed, team, d); err != nil {
				return err
			}
		}
		if c.Epoch > 0 {
			if _, err := s.exec(ctx, tx, `UPDATE teams SET epoch = $1 WHERE id = $2`, c.Epoch, team); err != nil {
				return err
			}
		}
		for _, k := range c.Keys {
			if err := s.putKey(ctx, tx, team, k); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlStore) insertDevice(ctx context.Context, tx *sql.Tx, team string, d wire.Device, role, state, invite string, binding []byte, now time.Time) error {
	_, err := s.exec(ctx, tx, `INSERT INTO devices (id, team, name, member, sign_key, box, role, state, invite, binding, joined, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0)`,
		d.ID, team, d.Name, d.Member, d.SignKey, d.Box, role, state, invite, binding, nanos(now))
	if err != nil && s.d.unique(err) {
		return ErrExists
	}
	return err
}

const deviceColumns = `id, team, name, member, sign_key, box, role, state, invite, binding, joined, last_seen`

func scanDevice(sc interface{ Scan(...any) error }) (*Device, error) {
	var d Device
	var joined, seen int64
	err := sc.Scan(&d.ID, &d.Team, &d.Name, &d.Member, &d.SignKey, &d.Box, &d.Role, &d.State, &d.Invite, &d.Binding, &joined, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	d.Joined, d.LastSeen = fromNanos(joined), fromNanos(seen)
	return &d, nil
}

func (s *sqlStore) Device(ctx context.Context, id string) (*Device, error) {
	if s.deviceCalls != nil {
		return s.deviceCalls.do(ctx, id)
	}
	var gen uint64
	if s.devs != nil {
		var d *Device
		if d, gen = s.devs.get(id); d != nil {
			return d, nil
		}
	}
	d, err := scanDevice(s.r.QueryRowContext(ctx, s.query(`SELECT `+deviceColumns+` FROM devices WHERE id = $1`), id))
	if err == nil && s.devs != nil {
		s.devs.put(d, gen)
	}
	return d, err
}

// devicesByID answers a batch of Device calls with one statement. Each
// call's lookup starts after the call was made, as a statement of its own
// would: a device removed before a request came is seen removed.
func (s *sqlStore) devicesByID(ctx context.Context, batch []*call[string, *Device]) {
	ids := make([]string, 0, len(batch))
	for _, cl := range batch {
		ids = append(ids, cl.in)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+deviceColumns+` FROM devices WHERE id = ANY($1)`, ids)
	if err != nil {
		fail(batch, err)
		return
	}
	defer rows.Close()
	found := make(map[string]*Device, len(batch))
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			fail(batch, err)
			return
		}
		found[d.ID] = d
	}
	if err := rows.Err(); err != nil {
		fail(batch, err)
		return
	}
	given := make(map[string]bool, len(batch))
	for _, cl := range batch {
		d := found[cl.in]
		switch {
		case d == nil:
			cl.err = ErrNotFound
		case given[cl.in]:
			// Two requests of one device: each its own copy.
			c := *d
			c.SignKey, c.Binding = bytes.Clone(d.SignKey), bytes.Clone(d.Binding)
			cl.out = &c
		default:
			given[cl.in] = true
			cl.out = d
		}
	}
}

func (s *sqlStore) Seen(ctx context.Context, device string, now time.Time) error {
	defer s.devicesChanged()
	_, err := s.exec(ctx, s.w, `UPDATE devices SET last_seen = $1 WHERE id = $2 AND last_seen < $1`, nanos(now), device)
	return err
}

func (s *sqlStore) UseNonce(ctx context.Context, device, nonce string, now, before time.Time) error {
	if s.nonces != nil {
		return s.nonces.use(nonceKey{device, nonce}, now, before)
	}
	_, err := s.nonceCalls.do(ctx, nonceUse{nonceKey{device, nonce}, now, before})
	return err
}

// nonceUse is one UseNonce call on PostgreSQL.
type nonceUse struct {
	key         nonceKey
	now, before time.Time
}

// nonceSweepEvery is how often a server process forgets old nonces.
const nonceSweepEvery = 10 * time.Second

// useNonces answers a batch of UseNonce calls with one statement, on
// connections with synchronous_commit off (a nonce lost in a database
// crash can be replayed only within the clock window after it, not worth
// a disk sync per request). The table's primary key decides, as for one
// row: a nonce is new only if this insert wrote its row, so two server
// processes (or two calls of one batch) taking one nonce cannot both
// have it.
func (s *sqlStore) useNonces(ctx context.Context, batch []*call[nonceUse, struct{}]) {
	devs, nonces, ats := make([]string, 0, len(batch)), make([]string, 0, len(batch)), make([]int64, 0, len(batch))
	first := make(map[nonceKey]bool, len(batch))
	before := batch[0].in.before
	for _, cl := range batch {
		if first[cl.in.key] {
			continue // the same nonce twice at once: the first call's, if any
		}
		first[cl.in.key] = true
		devs, nonces, ats = append(devs, cl.in.key.device), append(nonces, cl.in.key.nonce), append(ats, nanos(cl.in.now))
		if cl.in.before.Before(before) {
			before = cl.in.before
		}
	}
	rows, err := s.nonceDB.QueryContext(ctx, `INSERT INTO nonces (device, nonce, at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING RETURNING device, nonce`, devs, nonces, ats)
	if err != nil {
		fail(batch, err)
		return
	}
	defer rows.Close()
	fresh := make(map[nonceKey]bool, len(batch))
	for rows.Next() {
		var k nonceKey
		if err := rows.Scan(&k.device, &k.nonce); err != nil {
			fail(batch, err)
			return
		}
		fresh[k] = true
	}
	if err := rows.Err(); err != nil {
		fail(batch, err)
		return
	}
	for _, cl := range batch {
		if fresh[cl.in.key] {
			delete(fresh, cl.in.key) // a second call of the nonce is a replay
		} else {
			cl.err = ErrReplay
		}
	}
	s.sweepNonces(batch[0].in.now, before)
}

// sweepNonces forgets the nonces older than before, every
// nonceSweepEvery, in the background: the rows of the window are what
// replay refusal needs.
func (s *sqlStore) sweepNonces(now, before time.Time) {
	if !s.sweeping.TryLock() {
		return
	}
	if now.Sub(s.lastSweep) < nonceSweepEvery && !s.lastSweep.After(now) {
		s.sweeping.Unlock()
		return
	}
	s.lastSweep = now
	s.sweeps.Add(1)
	go func() {
		defer s.sweeps.Done()
		defer s.sweeping.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		s.nonceDB.ExecContext(ctx, `DELETE FROM nonces WHERE at < $1`, nanos(before))
	}()
}

// pushReq is one Push waiting for the committer.
type pushReq struct {
	team    string
	chain   *ChainAppend // a v2 push (records unused)
	chained *ChainResult
	records []wire.Record
	results []wire.PushResult
	head    int64
	err     error
	done    chan struct{}
}

// Push hands the push to the committer goroutine, which applies every push
// waiting at that moment in one transaction: one disk sync for many
// clients (group commit) instead of one each.
func (s *sqlStore) Push(ctx context.Context, team string, records []wire.Record) ([]wire.PushResult, int64, error) {
	req := &pushReq{team: team, records: records, done: make(chan struct{})}
	s.startCommitter()
	select {
	case s.pushes <- req:
	case <-ctx.Done():
		return nil, 0, ctx.Err()
	case <-s.closed:
		return nil, 0, errors.New("store: closed")
	}
	// Once queued, the push is applied whatever happens to ctx: a client
	// that gave up sees its own record on the next pull.
	<-req.done
	return req.results, req.head, req.err
}

const maxGroup = 64

func (s *sqlStore) startCommitter() {
	s.commitOnce.Do(func() {
		s.pushes = make(chan *pushReq)
		s.closed = make(chan struct{})
		s.committerDone = make(chan struct{})
		go s.commit()
	})
}

func (s *sqlStore) commit() {
	defer close(s.committerDone)
	for {
		var batch []*pushReq
		select {
		case r := <-s.pushes:
			batch = append(batch, r)
		case <-s.closed:
			return
		}
	more:
		for len(batch) < maxGroup {
			select {
			case r := <-s.pushes:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.applyGroup(batch)
	}
}

// applyGroup applies a group of pushes in one transaction and answers
// each (closes its done) once that transaction has committed.
func (s *sqlStore) applyGroup(batch []*pushReq) {
	// Teams' rows are locked in one order in every process, so two
	// servers' batches cannot deadlock on PostgreSQL.
	slices.SortStableFunc(batch, func(a, b *pushReq) int { return strings.Compare(a.team, b.team) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := s.tx(ctx, func(tx *sql.Tx) error { return s.pushGroup(ctx, tx, batch) })
	if err != nil && len(batch) > 1 {
		// One failing push must not fail the others: apply each alone.
		for _, r := range batch {
			r.err = s.tx(ctx, func(tx *sql.Tx) error { return s.pushGroup(ctx, tx, []*pushReq{r}) })
		}
	} else if err != nil {
		batch[0].err = err
	}
	cancel()
	for _, r := range batch {
		if r.err != nil {
			r.results, r.head, r.chained = nil, 0, nil
		} else if r.chain != nil && r.chained != nil && r.chained.Status == wire.PushOK && r.chained.Refused == nil {
			// Committed: pulls may be served it from memory (tail.go).
			s.tails.committed(r.team, r.chain.Prev, r.chain, r.chained.Head)
		}
		close(r.done)
	}
}

// pushGroup applies a batch of pushes in tx, in order. The v1 pushes of
// one team take the team's row once and write its sequence number once,
// at the end, not two statements each; a chain push reads and writes the
// row itself, so what the v1 pushes before it gave is written first.
func (s *sqlStore) pushGroup(ctx context.Context, tx *sql.Tx, batch []*pushReq) error {
	if s.d.name == "postgres" && groupable(batch) {
		return s.chainGroup(ctx, tx, batch)
	}
	locked := map[string]*lockedTeam{}
	for i := 0; i < len(batch); i++ {
		r := batch[i]
		if r.chain == nil && s.d.name == "postgres" {
			// The v1 pushes of this team that follow (the batch is in
			// team order): a few statements for all of them.
			j := i + 1
			for j < len(batch) && batch[j].chain == nil && batch[j].team == r.team {
				j++
			}
			if err := s.pushTeam(ctx, tx, r.team, batch[i:j], locked); err != nil {
				r.err = err
				return err
			}
			i = j - 1
			continue
		}
		if r.chain != nil {
			if err := s.writeSeq(ctx, tx, r.team, locked); err != nil {
				r.err = err
				return err
			}
			delete(locked, r.team)
			if r.chained, r.err = s.chainTx(ctx, tx, r.team, r.chain); r.err != nil {
				return r.err
			}
			continue
		}
		if r.results, r.head, r.err = s.pushTx(ctx, tx, r.team, r.records, locked); r.err != nil {
			return r.err
		}
	}
	for team := range locked {
		if err := s.writeSeq(ctx, tx, team, locked); err != nil {
			return err
		}
	}
	return nil
}

// lockedTeam is a team's row as a group commit has taken it: the
// sequence number its pushes have reached so far, and what they check.
type lockedTeam struct {
	seq, epoch, logSeq, chained int64
	// wrote: seq is past the row's (writeSeq writes it).
	wrote bool
}

// writeSeq writes the sequence number the group's pushes gave team.
func (s *sqlStore) writeSeq(ctx context.Context, tx *sql.Tx, team string, locked map[string]*lockedTeam) error {
	t := locked[team]
	if t == nil || !t.wrote {
		return nil
	}
	_, err := s.exec(ctx, tx, `UPDATE teams SET seq = $1 WHERE id = $2`, t.seq, team)
	t.wrote = false
	return err
}

// lockTeam takes team's row for the group's transaction, or returns it
// if the group has it already.
func (s *sqlStore) lockTeam(ctx context.Context, tx *sql.Tx, team string, locked map[string]*lockedTeam) (*lockedTeam, error) {
	if t := locked[team]; t != nil {
		return t, nil
	}
	t := &lockedTeam{}
	if err := tx.QueryRowContext(ctx, s.query(`UPDATE teams SET seq = seq WHERE id = $1 RETURNING seq, epoch, log_seq, chained`), team).Scan(&t.seq, &t.epoch, &t.logSeq, &t.chained); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, err
	}
	locked[team] = t
	return t, nil
}

// pushTeam applies v1 pushes of one team (PostgreSQL), in order, with the
// same outcome as pushTx applying them one after the other, in a few
// statements instead of one per record: with the team's row taken, no
// other push of the team (from any process: every push takes the row
// first) can change its records, so their stored versions are read once,
// each compare-and-set is decided here against what is stored and what
// the pushes before it in the group wrote, and the records taken are
// written in one UPDATE and one INSERT.
func (s *sqlStore) pushTeam(ctx context.Context, tx *sql.Tx, team string, reqs []*pushReq, locked map[string]*lockedTeam) error {
	t, err := s.lockTeam(ctx, tx, team, locked)
	if err != nil {
		return err
	}
	// A team whose changes are a chain takes no record outside it.
	if t.chained != 0 {
		return ErrChained
	}
	var ids []string
	seen := map[string]bool{}
	for _, r := range reqs {
		for i := range r.records {
			if id := r.records[i].ID; !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	stored := make(map[string]*wire.Record, len(ids))
	rows, err := tx.QueryContext(ctx, `SELECT `+recordColumns+` FROM records WHERE team = $1 AND id = ANY($2)`, team, ids)
	if err != nil {
		return err
	}
	for rows.Next() {
		rec, err := scanRecord(rows)
		if err != nil {
			rows.Close()
			return err
		}
		stored[rec.ID] = rec
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	inDB := make(map[string]bool, len(stored))
	for id := range stored {
		inDB[id] = true
	}
	// What the group writes: each record's last version taken, in the
	// order first taken.
	var order []string
	wrote := map[string]bool{}
	head := t.seq
	for _, r := range reqs {
		r.results = make([]wire.PushResult, len(r.records))
		for i := range r.records {
			rec := &r.records[i]
			res := &r.results[i]
			res.ID = rec.ID
			// A record sealed under an old key epoch, or written before
			// the latest membership change, is refused (as in pushTx).
			if rec.Scope == "" && rec.Epoch != t.epoch || rec.LogSeq != t.logSeq {
				res.Status = wire.PushStale
				continue
			}
			// Compare-and-set: a new record only if none is stored, a new
			// version only over the one before it.
			cur := stored[rec.ID]
			var have int64
			if cur != nil {
				have = cur.Version
			}
			if rec.Version < 1 || rec.Version-1 != have {
				res.Status = wire.PushConflict
				if cur != nil {
					c := *cur
					res.Current = &c
				}
				continue
			}
			head++
			taken := *rec
			taken.Seq = head
			stored[rec.ID] = &taken
			if !wrote[rec.ID] {
				wrote[rec.ID] = true
				order = append(order, rec.ID)
			}
			res.Status, res.Seq = wire.PushOK, head
		}
		r.head = head
	}
	if head != t.seq {
		t.seq, t.wrote = head, true
	}
	var ins, upd recordColumnsOf
	for _, id := range order {
		if inDB[id] {
			upd.add(stored[id])
		} else {
			ins.add(stored[id])
		}
	}
	if len(upd.id) > 0 {
		res, err := tx.ExecContext(ctx, `UPDATE records r SET version = u.version, epoch = u.epoch, sealed = u.sealed, author = u.author,
			sig = u.sig, seq = u.seq, log_seq = u.log_seq, scope = u.scope
			FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $9::bigint[], $10::text[])
				AS u(id, version, epoch, sealed, author, sig, seq, log_seq, scope)
			WHERE r.team = $1 AND r.id = u.id`, upd.args(team)...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != int64(len(upd.id)) {
			return fmt.Errorf("store: %d of %d records updated under the team's lock", n, len(upd.id))
		}
	}
	if len(ins.id) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (team, id, version, epoch, sealed, author, sig, seq, log_seq, scope)
			SELECT $1, * FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bytea[], $6::text[], $7::bytea[], $8::bigint[], $9::bigint[], $10::text[])`,
			ins.args(team)...); err != nil {
			return err
		}
	}
	return nil
}

// recordColumnsOf is records as one array per column, for unnest.
type recordColumnsOf struct {
	id, author, scope          []string
	version, epoch, seq, logSq []int64
	sealed, sig                [][]byte
}

func (c *recordColumnsOf) add(r *wire.Record) {
	c.id, c.version, c.epoch = append(c.id, r.ID), append(c.version, r.Version), append(c.epoch, r.Epoch)
	c.sealed, c.author, c.sig = append(c.sealed, r.Sealed), append(c.author, r.Author), append(c.sig, r.Sig)
	c.seq, c.logSq, c.scope = append(c.seq, r.Seq), append(c.logSq, r.LogSeq), append(c.scope, r.Scope)
}

// args are $1 team and $2-$10 the columns in the order the statements
// above name them.
func (c *recordColumnsOf) args(team string) []any {
	return []any{team, c.id, c.version, c.epoch, c.sealed, c.author, c.sig, c.seq, c.logSq, c.scope}
}

func (s *sqlStore) pushTx(ctx context.Context, tx *sql.Tx, team string, records []wire.Record, locked map[string]*lockedTeam) ([]wire.PushResult, int64, error) {
	results := make([]wire.PushResult, len(records))
	var head int64
	err := func() error {
		// Taking the team's row first serialises pushes to one team across
		// processes (PostgreSQL row lock), so sequence numbers become
		// visible in order and a pull never skips one. The row stays
		// locked to the transaction's end: later pushes of the team in
		// the group go on from what this one left.
		t, err := s.lockTeam(ctx, tx, team, locked)
		if err != nil {
			return err
		}
		head = t.seq
		epoch, logSeq := t.epoch, t.logSeq
		// A team whose changes are a chain takes no record outside it.
		if t.chained != 0 {
			return ErrChained
		}
		defer func() {
			if head != t.seq {
				t.seq, t.wrote = head, true
			}
		}()
		for i := range records {
			r := &records[i]
			results[i].ID = r.ID
			// A record sealed under an old key epoch, or written before the
			// latest membership change, is refused: the writer syncs again.
			// (A folder scope's epoch is the server's to check, from the
			// log: the store knows the root's.)
			if r.Scope == "" && r.Epoch != epoch || r.LogSeq != logSeq {
				results[i].Status = wire.PushStale
				continue
			}
			// Compare-and-set in one statement: a new record only if none
			// exists, a new version only over the one before it.
			head++
			var res sql.Result
			var err error
			if r.Version == 1 {
				res, err = s.exec(ctx, tx, `INSERT INTO records (team, id, version, epoch, sealed, author, sig, seq, log_seq, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (team, id) DO NOTHING`,
					team, r.ID, r.Version, r.Epoch, r.Sealed, r.Author, r.Sig, head, r.LogSeq, r.Scope)
			} else {
				res, err = s.exec(ctx, tx, `UPDATE records SET version = $1, epoch = $2, sealed = $3, author = $4, sig = $5, seq = $6, log_seq = $7, scope = $11 WHERE team = $8 AND id = $9 AND version = $10`,
					r.Version, r.Epoch, r.Sealed, r.Author, r.Sig, head, r.LogSeq, team, r.ID, r.Version-1, r.Scope)
			}
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n != 1 {
				head--
				cur, err := s.record(ctx, tx, team, r.ID)
				if err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				results[i].Status, results[i].Current = wire.PushConflict, cur
				continue
			}
			results[i].Status, results[i].Seq = wire.PushOK, head
		}
		return nil
	}()
	if err != nil {
		return nil, 0, err
	}
	return results, head, nil
}

const recordColumns = `id, version, epoch, sealed, author, sig, seq, log_seq, scope`

func scanRecord(sc interface{ Scan(...any) error }) (*wire.Record, error) {
	var r wire.Record
	err := sc.Scan(&r.ID, &r.Version, &r.Epoch, &r.Sealed, &r.Author, &r.Sig, &r.Seq, &r.LogSeq, &r.Scope)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return &r, err
}

func (s *sqlStore) record(ctx context.Context, q querier, team, id string) (*wire.Record, error) {
	return scanRecord(q.QueryRowContext(ctx, s.query(`SELECT `+recordColumns+` FROM records WHERE team = $1 AND id = $2`), team, id))
}

func (s *sqlStore) Changes(ctx context.Context, team string, since int64, limit int) (*wire.Changes, error) {
	c, _, err := s.ChangesWithLog(ctx, team, since, limit)
	return c, err
}

func (s *sqlStore) ChangesWithLog(ctx context.Context, team string, since int64, limit int) (*wire.Changes, int64, error) {
	// One statement: one snapshot of the heads and the records below it,
	// and one round trip (pulls are half of a server's requests). The
	// records are read in the index's order, straight from it: a
	// subquery with its own LIMIT made SQLite copy every row sent (sealed
	// blobs and all) into a temporary table, and sort them again. A team
	// with no record after since is one row with no record (id '': ids
	// are 32 hex digits).
	rows, err := s.r.QueryContext(ctx, s.query(`SELECT t.seq, t.log_seq, COALESCE(r.id, ''), COALESCE(r.version, 0), COALESCE(r.epoch, 0),
		r.sealed, COALESCE(r.author, ''), r.sig, COALESCE(r.seq, 0), COALESCE(r.log_seq, 0), COALESCE(r.scope, '')
		FROM teams t LEFT JOIN records r ON r.team = t.id AND r.seq > $2 AND r.seq <= t.seq
		WHERE t.id = $1 ORDER BY r.seq LIMIT $3`), team, since, limit+1)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	c := &wire.Changes{Records: []wire.Record{}}
	var logSeq int64
	found := false
	for rows.Next() {
		found = true
		var r wire.Record
		if err := rows.Scan(&c.Head, &logSeq, &r.ID, &r.Version, &r.Epoch, &r.Sealed, &r.Author, &r.Sig, &r.Seq, &r.LogSeq, &r.Scope); err != nil {
			return nil, 0, err
		}
		if r.ID != "" {
			c.Records = append(c.Records, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if !found {
		return nil, 0, ErrNotFound
	}
	if len(c.Records) > limit {
		c.Records, c.More = c.Records[:limit], true
	}
	return c, logSeq, nil
}

func (s *sqlStore) CreateInvite(ctx context.Context, inv Invite) error {
	_, err := s.exec(ctx, s.w, `INSERT INTO invites (id, team, role, expires, by_device, used) VALUES ($1, $2, $3, $4, $5, 0)`,
		inv.ID, inv.Team, inv.Role, nanos(inv.Expires), inv.By)
	if err != nil && s.d.unique(err) {
		return ErrExists
	}
	return err
}

func (s *sqlStore) Join(ctx context.Context, team, invite string, d wire.Device, binding []byte, now time.Time) error {
	defer s.devicesChanged()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var role string
		err := tx.QueryRowContext(ctx, s.query(`UPDATE invites SET used = 1 WHERE id = $1 AND team = $2 AND used = 0 AND expires > $3 RETURNING role`),
			invite, team, nanos(now)).Scan(&role)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		return s.insertDevice(ctx, tx, team, d, role, Pending, invite, binding, now)
	})
}

func (s *sqlStore) devices(ctx context.Context, where string, args ...any) ([]Device, error) {
	rows, err := s.r.QueryContext(ctx, s.query(`SELECT `+deviceColumns+` FROM devices WHERE `+where+` ORDER BY joined, id`), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Device
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

func (s *sqlStore) PendingJoins(ctx context.Context, team string) ([]Device, error) {
	return s.devices(ctx, `team = $1 AND state = $2`, team, Pending)
}

func (s *sqlStore) Devices(ctx context.Context, team string) ([]Device, error) {
	return s.devices(ctx, `team = $1`, team)
}

func (s *sqlStore) Approve(ctx context.Context, team, device string, key wire.WrappedKey, entry *Entry) error {
	defer s.devicesChanged()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if entry != nil {
			if err := s.appendEntry(ctx, tx, team, entry); err != nil {
				return err
			}
		}
		res, err := s.exec(ctx, tx, `UPDATE devices SET state = $1 WHERE id = $2 AND team = $3 AND state = $4`, Active, device, team, Pending)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return ErrState
		}
		return s.putKey(ctx, tx, team, key)
	})
}

func (s *sqlStore) RefuseJoin(ctx context.Context, team, device string) error {
	defer s.devicesChanged()
	res, err := s.exec(ctx, s.w, `UPDATE devices SET state = $1 WHERE id = $2 AND team = $3 AND state = $4`, Removed, device, team, Pending)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrState
	}
	return nil
}

func (s *sqlStore) putKey(ctx context.Context, q querier, team string, k wire.WrappedKey) error {
	_, err := s.exec(ctx, q, `INSERT INTO wrapped_keys (team, device, scope, epoch, sealed, signer, sig) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		team, k.Device, k.Scope, k.Epoch, k.Sealed, k.Signer, k.Sig)
	if err != nil && s.d.unique(err) {
		return ErrExists
	}
	return err
}

func (s *sqlStore) PutWrappedKey(ctx context.Context, team string, k wire.WrappedKey) error {
	return s.putKey(ctx, s.w, team, k)
}

func (s *sqlStore) WrappedKey(ctx context.Context, device string) (*wire.WrappedKey, error) {
	var k wire.WrappedKey
	err := s.r.QueryRowContext(ctx, s.query(`SELECT device, epoch, sealed, signer, sig FROM wrapped_keys WHERE device = $1 AND scope = '' ORDER BY epoch DESC LIMIT 1`), device).
		Scan(&k.Device, &k.Epoch, &k.Sealed, &k.Signer, &k.Sig)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &k, nil
}

func (s *sqlStore) WrappedKeys(ctx context.Context, device string) ([]wire.WrappedKey, error) {
	rows, err := s.r.QueryContext(ctx, s.query(`SELECT device, scope, epoch, sealed, signer, sig FROM wrapped_keys w WHERE device = $1
		AND epoch = (SELECT MAX(epoch) FROM wrapped_keys x WHERE x.device = w.device AND x.scope = w.scope) ORDER BY scope`), device)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []wire.WrappedKey
	for rows.Next() {
		var k wire.WrappedKey
		if err := rows.Scan(&k.Device, &k.Scope, &k.Epoch, &k.Sealed, &k.Signer, &k.Sig); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *sqlStore) Audit(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	if s.d.name == "postgres" {
		// One statement for the batch (the server writes its events in
		// batches of up to hundreds): a statement per event was one in
		// every five the server sent.
		n := len(events)
		at, teams, devs, actions, recs, results := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		for i, e := range events {
			at[i], teams[i], devs[i], actions[i], recs[i], results[i] = nanos(e.Time), e.Team, e.Device, e.Action, strings.Join(e.Records, ","), e.Result
		}
		_, err := s.w.ExecContext(ctx, `INSERT INTO events (time, team, device, action, records, result)
			SELECT t, tm, d, a, r, res FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
			WITH ORDINALITY AS u(t, tm, d, a, r, res, n) ORDER BY n`, at, teams, devs, actions, recs, results)
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if _, err := s.exec(ctx, tx, `INSERT INTO events (time, team, device, action, records, result) VALUES ($1, $2, $3, $4, $5, $6)`,
				nanos(e.Time), e.Team, e.Device, e.Action, strings.Join(e.Records, ","), e.Result); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlStore) Events(ctx context.Context, team string, since time.Time) ([]Event, error) {
	rows, err := s.r.QueryContext(ctx, s.query(`SELECT time, team, device, action, records, result FROM events WHERE team = $1 AND time >= $2 ORDER BY id`), team, nanos(since))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var t int64
		var recs string
		if err := rows.Scan(&t, &e.Team, &e.Device, &e.Action, &recs, &e.Result); err != nil {
			return nil, err
		}
		e.Time = fromNanos(t)
		if recs != "" {
			e.Records = strings.Split(recs, ",")
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) Close() error {
	s.startCommitter() // so that closed exists
	first := false
	s.closeOnce.Do(func() { first = true; close(s.closed) })
	if !first {
		return nil
	}
	<-s.committerDone
	s.sweeps.Wait()
	if s.unlock != nil {
		defer s.unlock()
	}
	var err error
	if s.nonces != nil {
		if err = s.nonces.save(s.w); err != nil {
			err = fmt.Errorf("store: saving nonces: %w", err)
		}
	}
	// The reader closes first: the writer, last out, checkpoints the WAL
	// into the database file and removes it (a read-only connection
	// cannot), so that a stopped server's database is one file to copy.
	if s.r != s.w {
		if e := s.r.Close(); err == nil {
			err = e
		}
	}
	if e := s.w.Close(); err == nil {
		err = e
	}
	if s.nonceDB != nil {
		s.nonceDB.Close()
	}
	return err
}
