package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/store/pgtest"
	"github.com/hush-secrets/hush/sync/store/storetest"
	"github.com/hush-secrets/hush/sync/wire"
)

// One PostgreSQL server for the package; each test gets its own database.
var (
	pg     *pgtest.Server
	pgSkip string
	pgErr  error
)

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path) // never returns: the test kills it
	}
	pg, pgSkip, pgErr = pgtest.ForTest()
	code := m.Run()
	pg.Stop()
	os.Exit(code)
}

func sqlitePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "hush.db")
}

func openSQLite(t *testing.T) store.Store {
	s, err := store.Open(t.Context(), sqlitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLite(t *testing.T) {
	storetest.Run(t, openSQLite)
	storetest.RunReopen(t, sqlitePath)
	storetest.RunGroup(t, openSQLite, store.PushGroup)
}

// needPostgres skips when PostgreSQL is not installed, and fails instead
// with HUSH_TEST_REAL=1 (pgtest.ForTest decides).
func needPostgres(t *testing.T) {
	t.Helper()
	if pgErr != nil {
		t.Fatalf("PostgreSQL: %v", pgErr)
	}
	if pg == nil {
		t.Skip(pgSkip)
	}
}

// postgres returns the URL of a fresh database.
func postgres(t *testing.T) string {
	t.Helper()
	needPostgres(t)
	u, err := pg.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPostgres(t *testing.T) {
	needPostgres(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	storetest.RunReopen(t, postgres)
	storetest.RunShared(t, postgres)
	storetest.RunGroup(t, func(t *testing.T) store.Store {
		s, err := store.Open(t.Context(), postgres(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, store.PushGroup)
}

// The SQLite file and its companions are the server's alone from the
// moment they exist.
func TestSQLiteFileMode(t *testing.T) {
	path := sqlitePath(t)
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	d := wire.Device{ID: wire.NewID(), Name: "a", Member: "a", SignKey: make([]byte, 32), Box: "age1xxxxxxxxxx"}
	if err := s.CreateTeam(t.Context(), wire.NewID(), "t", d, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock"} {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) && p != path {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m != 0o600 {
			t.Errorf("%s: mode %v, want -rw-------", filepath.Base(p), m)
		}
	}
}

// A SQLite store belongs to one server process at a time.
func TestSQLiteOneServer(t *testing.T) {
	path := sqlitePath(t)
	s, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if s2, err := store.Open(t.Context(), path); err == nil {
		s2.Close()
		s.Close()
		t.Fatal("a second Open of a SQLite store in use succeeded")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = store.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open after the first server closed: %v", err)
	}
	s.Close()
}

func ExampleDescribe() {
	fmt.Println(store.Describe("postgres://hush:secret@db.example:5432/hush?sslmode=require"))
	fmt.Println(store.Describe("/var/lib/hush/team.db"))
	// Output:
	// postgres://hush:xxxxx@db.example:5432/hush?sslmode=require
	// sqlite:/var/lib/hush/team.db
}
