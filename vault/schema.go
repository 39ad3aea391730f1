package vault

import (
	"database/sql"
	"embed"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Migrations are numbered files NNNN_name.sql, applied in order inside one
// transaction each; PRAGMA user_version records the last one applied. A vault
// made by a newer hush (a higher user_version) is refused rather than
// half-understood.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	sql     string
}

// migrations returns the migrations in order, read from the embedded files
// once per process (every open reads them; callers do not change them).
func migrations() ([]migration, error) {
	migrationsOnce.Do(func() { migrationList, migrationErr = readMigrations() })
	return migrationList, migrationErr
}

var (
	migrationsOnce sync.Once
	migrationList  []migration
	migrationErr   error
)

func readMigrations() ([]migration, error) {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		n, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("bad migration file name %q", e.Name())
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{n, string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations are not numbered 1..n: found %d at position %d", m.version, i+1)
		}
	}
	return ms, nil
}

// SchemaVersion is the schema this build writes.
func SchemaVersion() int {
	ms, err := migrations()
	if err != nil {
		return 0
	}
	return len(ms)
}

func migrate(db *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	var current int
	if err := db.QueryRow("PRAGMA user_version").Scan(&current); err != nil {
		return dbErr("read schema version", err)
	}
	// The number comes from the file: a flipped bit must give an error,
	// not an index out of range.
	if current < 0 {
		return &DamagedError{fmt.Sprintf("schema version %d", current)}
	}
	if current > len(ms) {
		return fmt.Errorf("vault schema %d is newer than this hush understands (%d): upgrade hush", current, len(ms))
	}
	// Before any statement touches a table: a planted trigger or view
	// would run inside hush's own writes (schemacheck.go).
	if err := checkSchema(db, "main", current, "vault file"); err != nil {
		return err
	}
	for _, m := range ms[current:] {
		tx, err := db.Begin()
		if err != nil {
			return dbErr("migrate the vault", err)
		}
		// Re-read inside the write transaction: another process may have
		// migrated between our read and our lock.
		var v int
		if err := tx.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
			tx.Rollback()
			return dbErr("read schema version", err)
		}
		if v >= m.version {
			tx.Rollback()
			continue
		}
		if _, err := tx.Exec(m.sql); err != nil {
			tx.Rollback()
			return dbErr(fmt.Sprintf("apply schema migration %d", m.version), err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", m.version)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return dbErr(fmt.Sprintf("apply schema migration %d", m.version), err)
		}
	}
	return nil
}
