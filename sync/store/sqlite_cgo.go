//go:build cgo

package store

import (
	"errors"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// sqliteUnique reports a duplicate key only: a foreign key or NOT NULL
// violation is no ErrExists (PostgreSQL's 23505 is as narrow).
func sqliteUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// sqliteFull reports SQLITE_FULL: the disk (or the database's size
// limit) refused a write.
func sqliteFull(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrFull
}

// haveSQLite: go-sqlite3 is C, so only a cgo build has SQLite.
const haveSQLite = true
