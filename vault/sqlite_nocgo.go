//go:build !cgo

package vault

import "database/sql"

// haveSQLite is false without cgo: go-sqlite3 then registers only a stub
// driver. Such a build exists to type-check other systems (`make cross`
// vets darwin with CGO_ENABLED=0); opening a vault says so with
// [ErrNoSQLite] instead of the driver's own message.
const haveSQLite = false

func persistWAL(*sql.DB) {}

func sqliteKind(error) int { return sqliteOther }
