package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Open opens (creating and migrating as needed) the store named by dsn: a
// postgres:// or postgresql:// URL, or else a SQLite file path.
func Open(ctx context.Context, dsn string) (Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// Describe names a dsn for logs without its password.
func Describe(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" || u.Host == "" {
		if strings.Contains(dsn, "://") {
			return "(unreadable database URL)"
		}
		return "sqlite:" + dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.Redacted()
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if !haveSQLite {
		return nil, errors.New("store: this hush was built without cgo and has no SQLite: use a postgres:// database, or build with CGO_ENABLED=1")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// synchronous=FULL: a push the server acknowledged survives a power cut.
	unlock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			unlock()
		}
	}()
	// The file is 0600 before SQLite opens it: SQLite gives the -wal and
	// -shm files it creates the database file's mode.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	base := "file:" + path + "?_busy_timeout=10000&_foreign_keys=on&_synchronous=FULL&_journal_mode=WAL&_stmt_cache_size=32"
	w, err := sql.Open("sqlite3", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	w.SetMaxOpenConns(1)
	d := dialect{name: "sqlite", rebind: sqliteRebind, unique: sqliteUnique}
	if err := migrate(ctx, w, d, ""); err != nil {
		w.Close()
		return nil, err
	}
	// A checkpoint (copying the WAL's pages back into the database file)
	// every sqliteCheckpointPages pages of WAL instead of SQLite's 1,000:
	// under pushes the same pages (each team's row, the ends of its
	// indexes) are written again and again, and a checkpoint copies each
	// once however often it changed since the last, so rarer checkpoints
	// copy fewer pages per push (chain pushes 8-12 % less CPU,
	// docs/benchmarks.md). Durability is the commit's: every commit still
	// syncs the WAL (synchronous=FULL) before a push is answered, and
	// after a crash SQLite replays the WAL whatever its length. The cost:
	// a WAL of up to ~80 MB, and a restart after a crash reads it.
	// (Set on the one write connection; pragmas are per connection.)
	if _, err := w.ExecContext(ctx, `PRAGMA wal_autocheckpoint = `+strconv.Itoa(sqliteCheckpointPages)); err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	r, err := sql.Open("sqlite3", base+"&mode=ro&_query_only=true")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	// As many kept idle as may be open: a connection closed after a busy
	// moment is opened again at the next one, which reads the schema and
	// starts with an empty statement cache and page cache (database/sql
	// keeps 2 by default; under load most reads paid that).
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	nonces, err := loadNonces(ctx, w)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	ok = true
	return &sqlStore{w: w, r: r, d: d, unlock: unlock, nonces: nonces, devs: &deviceCache{}}, nil
}

// sqliteCheckpointPages is how many pages of WAL a SQLite store writes
// between checkpoints (see openSQLite).
const sqliteCheckpointPages = 20000

// ErrFull means the store refused a write for lack of space (a full disk,
// or a database at its size limit): reads still work, writes fail until
// space is freed. [IsFull] also recognises the backends' own errors.
var ErrFull = errors.New("storage is full")

// IsFull reports whether err is a write refused for lack of space:
// [ErrFull], SQLite's SQLITE_FULL, or PostgreSQL's disk_full (53100).
func IsFull(err error) bool {
	if errors.Is(err, ErrFull) {
		return true
	}
	if sqliteFull(err) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "53100"
}

// pgConns is how many connections a server process keeps to PostgreSQL
// for its reads and writes (the nonces have their own few): 4 a core, at
// least 8. More only have backends queue for the same cores (with 32 and
// fifty devices at once, PostgreSQL spent some 5-10% more CPU a request:
// docs/benchmarks.md, "PostgreSQL, durable"); with fewer, requests wait
// for a connection in the Go server instead, which costs nothing.
func pgConns() int { return max(8, 4*runtime.GOMAXPROCS(0)) }

// pgBatchWorkers is how many coalesced statements of a kind (device
// lookups, nonce writes) one server process has in flight at once, and
// pgBatchMax how many calls one of them answers at most.
const (
	pgBatchWorkers = 2
	pgBatchMax     = 128
)

func openPostgres(ctx context.Context, dsn string) (Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", Describe(dsn), err)
	}
	db.SetMaxOpenConns(pgConns())
	db.SetMaxIdleConns(pgConns())
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: cannot reach %s: %w", Describe(dsn), err)
	}
	d := dialect{name: "postgres", unique: func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == "23505"
	}}
	// An advisory lock: two servers starting on one database migrate once.
	if err := migrate(ctx, db, d, `SELECT pg_advisory_xact_lock(7473747368)`); err != nil {
		db.Close()
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", Describe(dsn), err)
	}
	cfg.RuntimeParams["synchronous_commit"] = "off"
	nonceDB := stdlib.OpenDB(*cfg)
	// The coalesced nonce writes, and a sweep of old nonces.
	nonceDB.SetMaxOpenConns(pgBatchWorkers + 1)
	nonceDB.SetMaxIdleConns(pgBatchWorkers + 1)
	st := &sqlStore{w: db, r: db, d: d, nonceDB: nonceDB}
	st.deviceCalls = &coalescer[string, *Device]{workers: pgBatchWorkers, max: pgBatchMax, run: st.devicesByID}
	st.nonceCalls = &coalescer[nonceUse, struct{}]{workers: pgBatchWorkers, max: pgBatchMax, run: st.useNonces}
	st.headCalls = &coalescer[string, teamHeadRow]{workers: pgBatchWorkers, max: pgBatchMax, run: st.teamHeads}
	return st, nil
}
