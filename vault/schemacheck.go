package vault

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"sync"
)

// The schema check: a vault file, and its audit log, may hold only the
// tables and indexes hush's own migrations make, with their exact text.
// SQLite runs whatever the file's schema says: a trigger planted in the
// file (`BEFORE INSERT ON versions BEGIN SELECT RAISE(IGNORE); END`) would
// make a revoke, a set or a purge report success and change nothing, and
// a view, a changed column default or an ON CONFLICT IGNORE in a table's
// text could do as much. So every open compares sqlite_master with what
// the migrations create, and refuses anything else, before running a
// single statement against the tables. One query over a few rows: cheap
// enough for every `hush get`.
//
// What hush creates is computed once per process by applying the
// migrations to an in-memory database, so a new migration is checked
// without anyone writing its text down twice.

// schemaObject is one row of sqlite_master.
type schemaObject struct {
	typ, name, table, sql string
}

func (o schemaObject) String() string {
	return o.typ + " " + o.name
}

var (
	expectedOnce  sync.Once
	expectedByVer []map[schemaObject]bool // [user_version] -> objects allowed
	expectedAudit map[schemaObject]bool
	expectedErr   error
)

// expectedSchemas applies the migrations one by one to an in-memory
// database and records, for each schema version, every object it may
// hold; and the audit log's objects.
func expectedSchemas() ([]map[schemaObject]bool, map[schemaObject]bool, error) {
	expectedOnce.Do(func() {
		expectedByVer, expectedAudit, expectedErr = buildExpected()
	})
	return expectedByVer, expectedAudit, expectedErr
}

func buildExpected() (expectedByVer []map[schemaObject]bool, expectedAudit map[schemaObject]bool, err error) {
	err = func() error {
		ms, err := migrations()
		if err != nil {
			return err
		}
		db, err := sql.Open("sqlite3", "file:hush-expected-schema?mode=memory")
		if err != nil {
			return err
		}
		defer db.Close()
		db.SetMaxOpenConns(1)
		expectedByVer = append(expectedByVer, map[schemaObject]bool{})
		for _, m := range ms {
			if _, err := db.Exec(m.sql); err != nil {
				return fmt.Errorf("schema migration %d: %w", m.version, err)
			}
			objs, err := readSchema(db, "main")
			if err != nil {
				return err
			}
			// Exactly this version's objects. One may be missing (a vault
			// made by an earlier build of the same version, before an
			// index was added to its migration): the check refuses only
			// what is there and should not be.
			allowed := map[schemaObject]bool{}
			for _, o := range objs {
				allowed[o] = true
			}
			expectedByVer = append(expectedByVer, allowed)
		}
		if _, err := db.Exec(`ATTACH DATABASE 'file:hush-expected-audit?mode=memory' AS audit`); err != nil {
			return err
		}
		if _, err := db.Exec(auditSchema); err != nil {
			return err
		}
		objs, err := readSchema(db, "audit")
		if err != nil {
			return err
		}
		expectedAudit = map[schemaObject]bool{}
		for _, o := range objs {
			expectedAudit[o] = true
		}
		return nil
	}()
	return expectedByVer, expectedAudit, err
}

func readSchema(q querier, schema string) ([]schemaObject, error) {
	rows, err := q.Query(`SELECT type, name, tbl_name, coalesce(sql, '') FROM ` + schema + `.sqlite_master`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var objs []schemaObject
	for rows.Next() {
		var o schemaObject
		if err := rows.Scan(&o.typ, &o.name, &o.table, &o.sql); err != nil {
			return nil, err
		}
		objs = append(objs, o)
	}
	return objs, rows.Err()
}

// checkSchema refuses a vault file (schema "main", at schema version
// version) or an audit log (schema "audit") holding anything hush did not
// create: a trigger, a view, an index, a table, or one of hush's own with
// its text changed.
func checkSchema(q querier, schema string, version int, file string) error {
	objs, err := readSchema(q, schema)
	if err != nil {
		return dbErr("read the schema of "+file, err)
	}
	// The usual case, without building the expected schema (about a
	// millisecond): exactly the current schema, known by its digest.
	d := schemaDigest(objs)
	if (schema == "main" && version == len(currentVaultSchema) && d == currentVaultSchemaDigest) ||
		(schema == "audit" && d == currentAuditSchemaDigest) {
		return nil
	}
	byVer, audit, err := expectedSchemas()
	if err != nil {
		return fmt.Errorf("failed to build the expected vault schema: %w", err)
	}
	allowed := audit
	if schema == "main" {
		if version < 0 || version >= len(byVer) {
			return nil // migrate reports it
		}
		allowed = byVer[version]
	}
	for _, o := range objs {
		if allowed[o] {
			continue
		}
		what := "unexpected " + o.typ + " " + o.name
		for a := range allowed {
			if a.typ == o.typ && a.name == o.name {
				what = o.typ + " " + o.name + " was changed"
			}
		}
		return &SchemaTamperError{File: file, What: what}
	}
	return nil
}

// SchemaTamperError: the vault file or its audit log holds a schema object
// hush did not make (a planted trigger, say).
type SchemaTamperError struct {
	File string // "vault file" or "audit log"
	What string
}

func (e *SchemaTamperError) Error() string {
	return fmt.Sprintf("the %s has been tampered with: %s (something outside hush changed its schema; restore it from a backup)", e.File, e.What)
}

func (e *SchemaTamperError) Unwrap() error { return ErrTampered }

// The digests of the schema this build creates (a vault at the current
// schema version, and an audit log), so that the usual open compares one
// hash. TestSchemaDigests says what to write here when a migration is
// added; a stale digest only costs the slower comparison.
const (
	currentVaultSchemaDigest = "52b54e27f85e035dd675b8c145fa5a1b048e76c5d725888ae60b0ebc23c7297d"
	currentAuditSchemaDigest = "9f3f39d51ae5c361b0f66a7cf7e3def44fbaa201b2678fcc9531591cb5beed96"
)

// currentVaultSchema has one entry per migration, so that a build with
// a new migration and an old digest takes the slow path.
var currentVaultSchema = [10]struct{}{}

// schemaDigest is SHA-256 over the objects, sorted, each field
// length-prefixed.
// Every open of a vault runs it two or three times, so each line is
// built with appends (fmt took a fifth of the check).
func schemaDigest(objs []schemaObject) string {
	lines := make([][]byte, 0, len(objs))
	for _, o := range objs {
		b := make([]byte, 0, 32+len(o.typ)+len(o.name)+len(o.table)+len(o.sql))
		for _, f := range [...]string{o.typ, o.name, o.table, o.sql} {
			b = strconv.AppendInt(b, int64(len(f)), 10)
			b = append(b, ':')
			b = append(b, f...)
			b = append(b, ';')
		}
		lines = append(lines, b)
	}
	slices.SortFunc(lines, bytes.Compare)
	h := sha256.New()
	for _, l := range lines {
		h.Write(l)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// checkSchemaNow checks the vault file's schema, and the audit log's when
// it is attached, inside the caller's transaction.
func (v *Vault) checkSchemaNow(q querier, audit bool) error {
	var version int
	if err := q.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return dbErr("read schema version", err)
	}
	if err := checkSchema(q, "main", version, "vault file"); err != nil {
		return err
	}
	if audit {
		return checkSchema(q, "audit", 0, "audit log")
	}
	return nil
}
