//go:build cgo

package vault

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mattn/go-sqlite3"
)

// haveSQLite: go-sqlite3 is C, so only a cgo build can open a vault.
const haveSQLite = true

// persistWAL asks SQLite to keep the -wal file after the last connection
// closes (SQLITE_FCNTL_PERSIST_WAL). A failure only costs speed.
func persistWAL(db *sql.DB) {
	c, err := db.Conn(context.Background())
	if err != nil {
		return
	}
	defer c.Close()
	c.Raw(func(dc any) error {
		if sc, ok := dc.(*sqlite3.SQLiteConn); ok {
			return sc.SetFileControlInt("main", sqlite3.SQLITE_FCNTL_PERSIST_WAL, 1)
		}
		return nil
	})
}

// sqliteKind tells a damaged file and a held lock from other SQLite errors.
func sqliteKind(err error) int {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrCorrupt, sqlite3.ErrNotADB, sqlite3.ErrFormat, sqlite3.ErrRange:
			return sqliteDamaged
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return sqliteBusy
		}
	}
	return sqliteOther
}
