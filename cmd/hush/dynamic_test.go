//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hush-secrets/hush/sync/store/pgtest"
)

// withPostgres runs the package's tests, then stops the PostgreSQL server
// the scripts started, if any. testscript calls Run only in the test
// process itself, never in the hush and hushchild processes it starts, so
// those never start a server of their own.
type withPostgres struct{ m *testing.M }

func (w withPostgres) Run() int {
	code := w.m.Run()
	if pg.s != nil {
		pg.s.Stop()
	}
	return code
}

// pg is the one server of this package's scripts, started on first use.
var pg struct {
	once sync.Once
	s    *pgtest.Server
	err  error
}

func pgServer() (*pgtest.Server, error) {
	pg.once.Do(func() { pg.s, _, pg.err = pgtest.ForTest() })
	return pg.s, pg.err
}

func pgExec(ts *testscript.TestScript, dsn string, stmts ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	ts.Check(err)
	defer conn.Close(ctx)
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			ts.Fatalf("%s: %v", s, err)
		}
	}
}

// pgsetup makes a fresh database for the script: tables allowed (one row,
// 42) and forbidden, a group role $PGREADERS that may read allowed, and
// these files in $WORK:
//
//	admin.url     the database owner, with CREATEROLE: a dynamic source's admin
//	admin.pw      that owner's password, for noleak
//	nocreate.url  a login without CREATEROLE
//	badpw.url     the owner with a wrong password
//	down.url      the owner at a port where nothing listens
//
// Credentials go to files, not to the environment, so that they never
// reach hush or a child by inheritance.
func cmdPGSetup(ts *testscript.TestScript, neg bool, args []string) {
	s, err := pgServer()
	ts.Check(err)
	if s == nil {
		ts.Fatalf("no PostgreSQL: guard the script with [!postgres] skip")
	}
	f, err := newPGFixture(s)
	ts.Check(err)
	write := func(name, content string) {
		ts.Check(os.WriteFile(ts.MkAbs(name), []byte(content+"\n"), 0o600))
	}
	u, _ := url.Parse(f.adminURL)
	pw, _ := u.User.Password()
	write("admin.url", f.adminURL)
	write("admin.pw", pw)
	write("nocreate.url", f.nocreateURL)
	bad := *u
	bad.User = url.UserPassword(u.User.Username(), "wrong-password-42")
	write("badpw.url", bad.String())
	down := *u
	down.Host = "127.0.0.1:1"
	write("down.url", down.String())
	ts.Setenv("PGREADERS", f.readers)
	ts.Setenv("PGDB", f.db)
}

// pgFixture is a fresh database for one script or test: see pgsetup.
type pgFixture struct {
	adminURL, nocreateURL string
	readers, db           string
}

func newPGFixture(s *pgtest.Server) (*pgFixture, error) {
	ctx := context.Background()
	ownerURL, err := s.NewDatabase(ctx)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(ownerURL)
	if err != nil {
		return nil, err
	}
	db := strings.TrimPrefix(u.Path, "/")
	f := &pgFixture{adminURL: ownerURL, readers: db + "_readers", db: db}
	nocreate := db + "_nocreate"
	f.nocreateURL = s.URLFor(nocreate, "nocreate-pw-1", db)
	run := func(dsn string, stmts ...string) error {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		for _, st := range stmts {
			if _, err := conn.Exec(ctx, st); err != nil {
				return fmt.Errorf("%s: %w", st, err)
			}
		}
		return nil
	}
	if err := run(s.SuperURL(),
		fmt.Sprintf(`CREATE ROLE %s NOLOGIN`, f.readers),
		fmt.Sprintf(`ALTER ROLE %s CREATEROLE`, u.User.Username()),
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD 'nocreate-pw-1'`, nocreate)); err != nil {
		return nil, err
	}
	if err := run(ownerURL,
		`CREATE TABLE allowed (x int)`, `INSERT INTO allowed VALUES (42)`,
		`CREATE TABLE forbidden (y int)`, `INSERT INTO forbidden VALUES (7)`,
		fmt.Sprintf(`GRANT SELECT ON allowed TO %s`, f.readers)); err != nil {
		return nil, err
	}
	return f, nil
}

// roleExists asks the server whether a login exists.
func roleExists(t *testing.T, s *pgtest.Server, role string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// members returns the hush_ roles in the script's group role $PGREADERS:
// the logins made by this script (the cluster is shared by all scripts).
func members(ts *testscript.TestScript, extra string) []string {
	s, err := pgServer()
	ts.Check(err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.SuperURL())
	ts.Check(err)
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT r.rolname FROM pg_auth_members m
		JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid
		WHERE g.rolname = $1 AND r.rolname LIKE 'hush\_%' `+extra+` ORDER BY 1`, ts.Getenv("PGREADERS"))
	ts.Check(err)
	var out []string
	for rows.Next() {
		var n string
		ts.Check(rows.Scan(&n))
		out = append(out, n)
	}
	ts.Check(rows.Err())
	return out
}

// pgroles N: exactly N logins made by this script exist.
func cmdPGRoles(ts *testscript.TestScript, neg bool, args []string) {
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := members(ts, "")
	ts.Logf("hush logins: %v", got)
	if (len(got) == want) == !neg {
		return
	}
	ts.Fatalf("%d hush logins exist (%v), want %d", len(got), got, want)
}

// pgexpiry MAX: every login made by this script has a VALID UNTIL at most
// MAX (a Go duration) from now, by the server's clock.
func cmdPGExpiry(ts *testscript.TestScript, neg bool, args []string) {
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	all := members(ts, "")
	bad := members(ts, fmt.Sprintf(`AND (r.rolvaliduntil IS NULL OR r.rolvaliduntil > now() + interval '%d milliseconds')`, d.Milliseconds()))
	if len(all) == 0 || len(bad) > 0 {
		ts.Fatalf("logins %v; without a VALID UNTIL within %s: %v", all, d, bad)
	}
}

// pgrefused FILE [WAIT]: logging in with the URL in FILE is refused, now
// or (polling) within WAIT. With !, logging in works now.
func cmdPGRefused(ts *testscript.TestScript, neg bool, args []string) {
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	dsn := strings.TrimSpace(string(b))
	wait := time.Duration(0)
	if len(args) > 1 {
		wait, err = time.ParseDuration(args[1])
		ts.Check(err)
	}
	try := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dsn)
		if err == nil {
			conn.Close(ctx)
		}
		return err
	}
	if neg {
		if err := try(); err != nil {
			ts.Fatalf("login refused: %v", err)
		}
		return
	}
	deadline := time.Now().Add(wait)
	for {
		err := try()
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "28P01" {
			ts.Logf("refused: %s", pe.Message)
			return
		}
		if err != nil {
			ts.Fatalf("login failed, but not as refused: %v", err)
		}
		if time.Now().After(deadline) {
			ts.Fatalf("login still works after %s", wait)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// noleak [FILE...]: the admin password of pgsetup is in none of the last
// command's stdout and stderr, nor in the files (nor in their -wal).
func cmdNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	b, err := os.ReadFile(ts.MkAbs("admin.pw"))
	ts.Check(err)
	pw := strings.TrimSpace(string(b))
	check := func(what, content string) {
		if strings.Contains(content, pw) {
			ts.Fatalf("the admin password appears in %s", what)
		}
	}
	check("stdout", ts.ReadFile("stdout"))
	check("stderr", ts.ReadFile("stderr"))
	for _, f := range args {
		for _, suffix := range []string{"", "-wal"} {
			if b, err := os.ReadFile(ts.MkAbs(f) + suffix); err == nil {
				check(filepath.Base(f)+suffix, string(b))
			}
		}
	}
}

// urluser FILE VAR sets $VAR to the user of the URL in FILE.
func cmdURLUser(ts *testscript.TestScript, neg bool, args []string) {
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	u, err := url.Parse(strings.TrimSpace(string(b)))
	ts.Check(err)
	ts.Setenv(args[1], u.User.Username())
}

// pgdrop ROLE drops a login by hand, as a superuser.
func cmdPGDrop(ts *testscript.TestScript, neg bool, args []string) {
	s, err := pgServer()
	ts.Check(err)
	pgExec(ts, s.SuperURL(), fmt.Sprintf(`DROP ROLE %s`, pgx.Identifier{args[0]}.Sanitize()))
}

// pgbusy waits (at most 60 s) until PostgreSQL is running a role template
// of this script that sleeps: the moment a login is being made.
func cmdPGBusy(ts *testscript.TestScript, neg bool, args []string) {
	s, err := pgServer()
	ts.Check(err)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := pgx.Connect(ctx, s.SuperURL())
		ts.Check(err)
		var n int
		err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE state = 'active' AND query LIKE '%pg_sleep%' AND strpos(query, $1) > 0`,
			ts.Getenv("PGREADERS")).Scan(&n)
		conn.Close(ctx)
		cancel()
		ts.Check(err)
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("no role template of this script started within 60s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
