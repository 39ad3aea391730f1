package vault

import (
	"database/sql"
	"errors"
	"strings"
	"testing"
)

// TestPlantedSchemaObjects: triggers planted in the vault file made
// revoke, set and rm --purge report success and change nothing, and
// triggers in the audit log swallowed its entries (attack 15, F6 and F7).
// Every object hush did not create is refused when the file is opened.
func TestPlantedSchemaObjects(t *testing.T) {
	cases := []struct {
		name, file, sql, says string
	}{
		{"insert trigger on versions", "vault", `CREATE TRIGGER t1 BEFORE INSERT ON versions BEGIN SELECT RAISE(IGNORE); END`, "the vault file has been tampered with: unexpected trigger t1"},
		{"update trigger on secrets", "vault", `CREATE TRIGGER t2 BEFORE UPDATE ON secrets BEGIN SELECT RAISE(IGNORE); END`, "unexpected trigger t2"},
		{"delete trigger on versions", "vault", `CREATE TRIGGER t3 BEFORE DELETE ON versions BEGIN SELECT RAISE(IGNORE); END`, "unexpected trigger t3"},
		{"update trigger on header", "vault", `CREATE TRIGGER th BEFORE UPDATE ON header BEGIN SELECT RAISE(IGNORE); END`, "unexpected trigger th"},
		{"view", "vault", `CREATE VIEW v1 AS SELECT * FROM secrets`, "unexpected view v1"},
		{"index", "vault", `CREATE UNIQUE INDEX i1 ON versions(secret_id)`, "unexpected index i1"},
		{"table", "vault", `CREATE TABLE extra (x)`, "unexpected table extra"},
		{"table text changed", "vault", `PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'value       BLOB    NOT NULL,', 'value       BLOB    NOT NULL ON CONFLICT IGNORE,') WHERE name = 'versions'`, "table versions was changed"},
		{"insert trigger on audit", "audit", `CREATE TRIGGER ta BEFORE INSERT ON audit BEGIN SELECT RAISE(IGNORE); END`, "the audit log has been tampered with: unexpected trigger ta"},
		{"update trigger on audit_head", "audit", `CREATE TRIGGER tb BEFORE UPDATE ON audit_head BEGIN SELECT RAISE(IGNORE); END`, "unexpected trigger tb"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := newVault(t)
			v.Intend("set", []string{"app/A"})
			mustSet(t, v, "app/A", "leaked-value")
			path := v.Path()
			v.Close()
			file := path
			if c.file == "audit" {
				file = AuditPath(path)
			}
			db, err := sql.Open("sqlite3", "file:"+file)
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			if _, err := db.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			db.Close()

			v, err = Open(path)
			if err == nil {
				t.Cleanup(func() { v.Close() })
				if err = v.Unlock(testPass); err == nil {
					v.Intend("revoke", []string{"app/A"})
					_, err = v.Revoke("app/A", "leaked in a log")
				}
			}
			if err == nil {
				t.Fatal("revoke succeeded on a vault with a planted schema object")
			}
			if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("err = %v, want %q", err, c.says)
			}
			var se *SchemaTamperError
			if !errors.As(err, &se) {
				t.Fatalf("err = %T, want *SchemaTamperError", err)
			}
		})
	}
}

// TestSchemaCheckAcceptsEveryVersion: a vault at each older schema
// version hush accepted opens, and upgrades, without being taken for a
// tampered one.
func TestSchemaCheckAcceptsEveryVersion(t *testing.T) {
	byVer, _, err := expectedSchemas()
	if err != nil {
		t.Fatal(err)
	}
	if len(byVer) != SchemaVersion()+1 {
		t.Fatalf("%d schema versions, want %d", len(byVer), SchemaVersion()+1)
	}
	ms, _ := migrations()
	for ver := 1; ver < len(ms); ver++ {
		path := t.TempDir() + "/old.db"
		db, err := openDB(path, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms[:ver] {
			if _, err := db.Exec(m.sql); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.Exec("PRAGMA user_version = " + string(rune('0'+ver))); err != nil {
			t.Fatal(err)
		}
		if err := checkSchema(db, "main", ver, "vault file"); err != nil {
			t.Errorf("schema %d: %v", ver, err)
		}
		if err := migrate(db); err != nil {
			t.Errorf("schema %d: migrate: %v", ver, err)
		}
		db.Close()
	}
}

// BenchmarkSchemaCheck: what the check adds to a process's first open
// (building the expected schema from the migrations) and to every open.
func BenchmarkSchemaCheck(b *testing.B) {
	b.Run("build", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := buildExpected(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check (fast path)", func(b *testing.B) {
		v := newVault(b)
		for b.Loop() {
			if err := checkSchema(v.db, "main", SchemaVersion(), "vault file"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestSchemaDigests: the fast path's digests are those of the schema the
// migrations create.
func TestSchemaDigests(t *testing.T) {
	byVer, audit, err := buildExpected()
	if err != nil {
		t.Fatal(err)
	}
	if len(currentVaultSchema) != SchemaVersion() {
		t.Errorf("currentVaultSchema has %d entries, want %d (schemacheck.go)", len(currentVaultSchema), SchemaVersion())
	}
	// The current version's exact objects: an in-memory vault migrated.
	db, err := openDB(t.TempDir()+"/x.db", true)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := migrate(db); err != nil {
		t.Fatal(err)
	}
	objs, err := readSchema(db, "main")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if !byVer[SchemaVersion()][o] {
			t.Errorf("%v not expected", o)
		}
	}
	if d := schemaDigest(objs); d != currentVaultSchemaDigest {
		t.Errorf("currentVaultSchemaDigest = %q, want %q (schemacheck.go)", currentVaultSchemaDigest, d)
	}
	var aobjs []schemaObject
	for o := range audit {
		aobjs = append(aobjs, o)
	}
	if d := schemaDigest(aobjs); d != currentAuditSchemaDigest {
		t.Errorf("currentAuditSchemaDigest = %q, want %q (schemacheck.go)", currentAuditSchemaDigest, d)
	}
}

// TestTriggerPlantedWhileOpen: a trigger planted after hush opened the
// vault (while a rotator ran, or a value was read from stdin) is found by
// the write itself, which changes nothing (attack 15b B2).
func TestTriggerPlantedWhileOpen(t *testing.T) {
	for _, file := range []string{"vault", "audit"} {
		t.Run(file, func(t *testing.T) {
			v := newVault(t)
			v.Intend("set", []string{"app/A"})
			mustSet(t, v, "app/A", "leaked-value")
			path := v.Path()
			if file == "audit" {
				path = AuditPath(path)
			}
			db, err := sql.Open("sqlite3", "file:"+path)
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			table := "versions"
			if file == "audit" {
				table = "audit"
			}
			if _, err := db.Exec(`CREATE TRIGGER t1 BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(IGNORE); END`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			v.Intend("set", []string{"app/A"})
			_, err = v.Set("app/A", []byte("rotated-at-source"), Update{})
			var se *SchemaTamperError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), "unexpected trigger t1") {
				t.Fatalf("set with a trigger planted while open: %v, want the schema refused", err)
			}
		})
	}
}

// TestRebuiltLiveIndex: the partial index of live rows rebuilt over the
// removed ones, its text put back as hush wrote it, makes SQLite hand a
// folder read the removed secret and hide the live one; the rows say what
// they are, so export and run --from refuse (attack 15b B1).
func TestRebuiltLiveIndex(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/K1", "removed-value")
	mustSet(t, v, "app/K2", "current-two")
	if err := v.Remove("app/K1"); err != nil {
		t.Fatal(err)
	}
	path := v.Path()
	v.Close()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_master SET sql = 'CREATE INDEX secrets_folder_live ON secrets(folder_mac) WHERE deleted IS NOT NULL' WHERE name = 'secrets_folder_live'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	// A new connection reads the changed text; REINDEX fills it so.
	db, err = sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	for _, q := range []string{
		`REINDEX secrets_folder_live`,
		`PRAGMA writable_schema = ON`,
		`UPDATE sqlite_master SET sql = 'CREATE INDEX secrets_folder_live ON secrets(folder_mac) WHERE deleted IS NULL' WHERE name = 'secrets_folder_live'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	v, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	got, err := v.Children("app")
	if err == nil {
		names := []string{}
		for _, s := range got {
			names = append(names, s.Name)
		}
		t.Fatalf("Children(app) = %v, want refused", names)
	}
	if !errors.Is(err, ErrTampered) {
		t.Fatalf("Children(app): %v, want tampering", err)
	}
}

// TestCheckFileFindsRebuiltIndex: audit --verify's file check names an
// index whose contents do not match its table, and passes an untouched
// vault.
func TestCheckFileFindsRebuiltIndex(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/K1", "removed-value")
	mustSet(t, v, "app/K2", "current-two")
	if err := v.Remove("app/K1"); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckFile(); err != nil {
		t.Fatalf("CheckFile on an untouched vault: %v", err)
	}
	path := v.Path()
	v.Close()
	for _, step := range [][]string{
		{`PRAGMA writable_schema = ON`, `UPDATE sqlite_master SET sql = 'CREATE INDEX secrets_folder_live ON secrets(folder_mac) WHERE deleted IS NOT NULL' WHERE name = 'secrets_folder_live'`},
		{`REINDEX secrets_folder_live`, `PRAGMA writable_schema = ON`, `UPDATE sqlite_master SET sql = 'CREATE INDEX secrets_folder_live ON secrets(folder_mac) WHERE deleted IS NULL' WHERE name = 'secrets_folder_live'`},
	} {
		db, err := sql.Open("sqlite3", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		for _, q := range step {
			if _, err := db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()
	}
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	if err := v.CheckFile(); err == nil || !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "integrity check") {
		t.Fatalf("CheckFile on a rebuilt index: %v, want SQLite's integrity check named", err)
	}
}
