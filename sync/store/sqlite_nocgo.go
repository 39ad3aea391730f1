//go:build !cgo

package store

// sqliteUnique without cgo: go-sqlite3 is C and only its stub driver is
// built, which never opens a store, so there is no SQLite error to read.
// Such a build exists to type-check other systems; PostgreSQL still works.
func sqliteUnique(error) bool { return false }

const haveSQLite = false

// sqliteFull without cgo: there is no SQLite to be full.
func sqliteFull(error) bool { return false }
