package dynamic

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hush-secrets/hush/sync/store/pgtest"
)

// server is the package's one real PostgreSQL; nil when it is not
// installed (then the tests that need it skip, or fail under
// HUSH_TEST_REAL=1, where pgtest.ForTest errors).
var (
	server     *pgtest.Server
	skipReason string
)

func TestMain(m *testing.M) {
	s, reason, err := pgtest.ForTest()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server, skipReason = s, reason
	code := m.Run()
	server.Stop()
	os.Exit(code)
}

func needServer(t testing.TB) {
	t.Helper()
	if server == nil {
		t.Skip(skipReason)
	}
}

// fixture is a fresh database with two tables, owned by a role that has
// CREATEROLE (a realistic admin: not a superuser).
type fixture struct {
	adminURL string // the owner, with CREATEROLE
	ownerURL string
	db       string
}

func newFixture(t testing.TB, createRole bool) *fixture {
	t.Helper()
	needServer(t)
	ctx := context.Background()
	ownerURL, err := server.NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(ownerURL)
	f := &fixture{adminURL: ownerURL, ownerURL: ownerURL, db: strings.TrimPrefix(u.Path, "/")}
	execSQL(t, ownerURL, `CREATE TABLE allowed (x int); INSERT INTO allowed VALUES (42);
		CREATE TABLE forbidden (y int); INSERT INTO forbidden VALUES (7)`)
	if createRole {
		execSQL(t, server.SuperURL(), fmt.Sprintf(`ALTER ROLE %s CREATEROLE`, quoteIdent(u.User.Username())))
	}
	return f
}

func execSQL(t testing.TB, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// hushRoles lists the roles hush made that exist now.
func hushRoles(t testing.TB) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, server.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT rolname FROM pg_roles WHERE rolname LIKE 'hush\_%'`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		out[n] = true
	}
	return out
}

// noNewRoles fails when a hush_ role exists that was not in before.
func noNewRoles(t testing.TB, before map[string]bool) {
	t.Helper()
	for r := range hushRoles(t) {
		if !before[r] {
			t.Errorf("role %s was left behind", r)
		}
	}
}

func mustPostgres(t testing.TB, u string) *Postgres {
	t.Helper()
	p, err := NewPostgres(u)
	if err != nil {
		t.Fatal(err)
	}
	p.ConnectTimeout = 3 * time.Second
	return p
}

func mustTemplate(t testing.TB, s string) *Template {
	t.Helper()
	tmpl, err := ParseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

func newRole(t testing.TB) string {
	r, err := NewRoleName()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestCreateGrantsOnlyTheTemplateAndDropEndsSessions(t *testing.T) {
	f := newFixture(t, true)
	p := mustPostgres(t, f.adminURL)
	ctx := context.Background()
	role := newRole(t)
	login, err := p.Create(ctx, role, mustTemplate(t, "GRANT SELECT ON allowed TO {{name}}"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if login.Role != role || !strings.Contains(login.URL, role) || !strings.Contains(login.URL, url.PathEscape(f.db)) {
		t.Fatalf("login %+v", login)
	}
	if d := time.Until(login.Expires); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %s, want about 1h", d)
	}

	// What PostgreSQL holds: a login valid until the expiry, a verifier,
	// no plain password.
	super, err := pgx.Connect(ctx, server.SuperURL())
	if err != nil {
		t.Fatal(err)
	}
	defer super.Close(ctx)
	var canLogin, createRole, isSuper bool
	var until time.Time
	var stored string
	if err := super.QueryRow(ctx, `SELECT rolcanlogin, rolcreaterole, rolsuper, rolvaliduntil, rolpassword FROM pg_authid WHERE rolname = $1`, role).
		Scan(&canLogin, &createRole, &isSuper, &until, &stored); err != nil {
		t.Fatal(err)
	}
	if !canLogin || createRole || isSuper || !until.Equal(login.Expires) {
		t.Errorf("role: login %v createrole %v super %v until %v (want %v)", canLogin, createRole, isSuper, until, login.Expires)
	}
	if !strings.HasPrefix(stored, "SCRAM-SHA-256$4096:") || strings.Contains(stored, login.Password) {
		t.Errorf("stored password %q is not a SCRAM verifier", stored)
	}

	// The login reads what the template granted, and nothing else.
	conn, err := pgx.Connect(ctx, login.URL)
	if err != nil {
		t.Fatalf("the new login cannot log in: %v", err)
	}
	defer conn.Close(ctx)
	var x int
	if err := conn.QueryRow(ctx, `SELECT x FROM allowed`).Scan(&x); err != nil || x != 42 {
		t.Fatalf("reading the granted table: %d, %v", x, err)
	}
	if _, err := conn.Exec(ctx, `SELECT y FROM forbidden`); sqlState(err) != "42501" {
		t.Errorf("reading another table: %v, want permission denied", err)
	}
	if _, err := conn.Exec(ctx, `CREATE ROLE hush_escape`); sqlState(err) != "42501" {
		t.Errorf("creating a role: %v, want permission denied", err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO allowed VALUES (1)`); sqlState(err) != "42501" {
		t.Errorf("writing the granted table: %v, want permission denied", err)
	}

	// Dropping ends the open session and removes the role.
	if err := p.Drop(ctx, role); err != nil {
		t.Fatal(err)
	}
	if hushRoles(t)[role] {
		t.Fatal("role still exists after Drop")
	}
	if err := conn.QueryRow(ctx, `SELECT x FROM allowed`).Scan(&x); err == nil {
		t.Error("the login's session outlived its role")
	}
	if _, err := pgx.Connect(ctx, login.URL); err == nil {
		t.Error("logging in after Drop worked")
	}
	// Dropping again is not an error.
	if err := p.Drop(ctx, role); err != nil {
		t.Errorf("second Drop: %v", err)
	}
}

func TestTemplateUsesNameManyTimesAndDatabase(t *testing.T) {
	f := newFixture(t, true)
	p := mustPostgres(t, f.adminURL)
	ctx := context.Background()
	role := newRole(t)
	tmpl := mustTemplate(t, `GRANT SELECT ON allowed TO {{name}};
		COMMENT ON ROLE {{ name }} IS 'made by hush for {{name}}';
		GRANT CONNECT ON DATABASE {{database}} TO {{name}};
		GRANT CREATE ON SCHEMA public TO {{name}}`)
	login, err := p.Create(ctx, role, tmpl, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var comment string
	execSQL(t, server.SuperURL(), "SELECT 1")
	conn, err := pgx.Connect(ctx, login.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1`, role).Scan(&comment); err != nil {
		t.Fatal(err)
	}
	if comment != fmt.Sprintf(`made by hush for "%s"`, role) {
		t.Errorf("comment %q", comment)
	}
	// The login creates a table of its own: it is still dropped, and the
	// table is handed to the admin role.
	if _, err := conn.Exec(ctx, `CREATE TABLE made_by_login (z int)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := p.Drop(ctx, role); err != nil {
		t.Fatalf("dropping a login that owns a table: %v", err)
	}
	owner, _ := url.Parse(f.ownerURL)
	var tableOwner string
	c2, err := pgx.Connect(ctx, f.ownerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if err := c2.QueryRow(ctx, `SELECT tableowner FROM pg_tables WHERE tablename = 'made_by_login'`).Scan(&tableOwner); err != nil || tableOwner != owner.User.Username() {
		t.Errorf("table owner %q, %v", tableOwner, err)
	}
}

func TestSuperuserAdmin(t *testing.T) {
	f := newFixture(t, false)
	su, _ := url.Parse(server.SuperURL())
	su.Path = "/" + f.db
	p := mustPostgres(t, su.String())
	ctx := context.Background()
	role := newRole(t)
	login, err := p.Create(ctx, role, mustTemplate(t, "GRANT SELECT ON allowed TO {{name}}"), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pgx.Connect(ctx, login.URL); err != nil {
		t.Fatal(err)
	}
	if err := p.Drop(ctx, role); err != nil {
		t.Fatal(err)
	}
}

func TestCreateErrorsLeaveNoRole(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	before := hushRoles(t)
	tmpl := mustTemplate(t, "GRANT SELECT ON allowed TO {{name}}")
	u, _ := url.Parse(f.adminURL)
	adminPassword, _ := u.User.Password()

	t.Run("wrong password", func(t *testing.T) {
		bad := *u
		bad.User = url.UserPassword(u.User.Username(), "not-the-password-123")
		p := mustPostgres(t, bad.String())
		_, err := p.Create(ctx, newRole(t), tmpl, time.Hour)
		if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "wrong password") {
			t.Fatalf("err = %v, want a wrong-password error", err)
		}
		if strings.Contains(err.Error(), "not-the-password-123") {
			t.Errorf("the error shows the password: %v", err)
		}
	})
	t.Run("no CREATEROLE", func(t *testing.T) {
		g := newFixture(t, false)
		p := mustPostgres(t, g.adminURL)
		_, err := p.Create(ctx, newRole(t), tmpl, time.Hour)
		if !errors.Is(err, ErrPrivilege) || !strings.Contains(err.Error(), "needs CREATEROLE") {
			t.Fatalf("err = %v, want a CREATEROLE error", err)
		}
		if err := p.Check(ctx, tmpl); !errors.Is(err, ErrPrivilege) {
			t.Errorf("Check: %v", err)
		}
	})
	t.Run("failing template", func(t *testing.T) {
		p := mustPostgres(t, f.adminURL)
		bad := mustTemplate(t, "GRANT SELECT ON allowed TO {{name}}; GRANT no_such_role TO {{name}}")
		_, err := p.Create(ctx, newRole(t), bad, time.Hour)
		if !errors.Is(err, ErrTemplate) || !strings.Contains(err.Error(), `role "no_such_role" does not exist`) {
			t.Fatalf("err = %v, want the template's failure with PostgreSQL's message", err)
		}
		if strings.Contains(err.Error(), adminPassword) {
			t.Errorf("the error shows the admin password: %v", err)
		}
		if err := p.Check(ctx, bad); !errors.Is(err, ErrTemplate) {
			t.Errorf("Check: %v", err)
		}
		if err := p.Check(ctx, tmpl); err != nil {
			t.Errorf("Check of a good template: %v", err)
		}
	})
	t.Run("no such database", func(t *testing.T) {
		bad := *u
		bad.Path = "/no_such_db"
		p := mustPostgres(t, bad.String())
		_, err := p.Create(ctx, newRole(t), tmpl, time.Hour)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), `database "no_such_db" does not exist`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("nothing listening", func(t *testing.T) {
		bad := *u
		bad.Host = "127.0.0.1:1"
		p := mustPostgres(t, bad.String())
		_, err := p.Create(ctx, newRole(t), tmpl, time.Hour)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("err = %v", err)
		}
	})
	noNewRoles(t, before)
}

// TestServerDown stops the package's server: it runs on its own, never in
// parallel with the others.
func TestServerDown(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	before := hushRoles(t)
	p := mustPostgres(t, f.adminURL)
	tmpl := mustTemplate(t, "GRANT SELECT ON allowed TO {{name}}")
	role := newRole(t)
	if _, err := p.Create(ctx, role, tmpl, time.Hour); err != nil {
		t.Fatal(err)
	}
	// pgtest runs with synchronous_commit off: without a checkpoint, an
	// immediate stop could lose the commit that made the role.
	execSQL(t, server.SuperURL(), "CHECKPOINT")
	if err := server.Kill(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			server.Restart()
		}
	}()
	start := time.Now()
	_, err := p.Create(ctx, newRole(t), tmpl, time.Hour)
	if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "is it running") {
		t.Fatalf("err = %v, want an unreachable error", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the error took %s", d)
	}
	if err := p.Drop(ctx, role); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Drop with the server down: %v", err)
	}
	if err := server.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted = true
	// The login made before is still there; it is dropped once the server is back.
	if !hushRoles(t)[role] {
		t.Fatal("the role made before the outage is gone")
	}
	if err := p.Drop(ctx, role); err != nil {
		t.Fatal(err)
	}
	noNewRoles(t, before)
}

func TestLoginURLAndRedaction(t *testing.T) {
	p, err := NewPostgres("postgres://admin:s3cret-pw@db.example:5433/shop?sslmode=require&password=qpass&sslpassword=kpass&application_name=x")
	if err != nil {
		t.Fatal(err)
	}
	got := p.LoginURL("hush_0123456789abcdef", "pw")
	for _, bad := range []string{"admin", "s3cret", "qpass", "kpass", "password="} {
		if strings.Contains(got, bad) {
			t.Errorf("login URL %s holds %q", got, bad)
		}
	}
	for _, want := range []string{"postgres://hush_0123456789abcdef:pw@db.example:5433/shop?", "sslmode=require", "application_name=x"} {
		if !strings.Contains(got, want) {
			t.Errorf("login URL %s lacks %q", got, want)
		}
	}
	red := p.Redacted()
	if strings.Contains(red, "s3cret") || strings.Contains(red, "qpass") || strings.Contains(red, "kpass") || !strings.Contains(red, "postgres://admin:xxxxx@db.example:5433/shop") {
		t.Errorf("redacted: %s", red)
	}
	if p.Server() != "db.example:5433/shop" {
		t.Errorf("server %s", p.Server())
	}
	if msg := p.scrub("failed: s3cret-pw and qpass"); strings.Contains(msg, "s3cret") || strings.Contains(msg, "qpass") {
		t.Errorf("scrub: %s", msg)
	}
	for _, bad := range []string{"mysql://a:b@h/d", "postgres://h/d", "postgres://a:b@h/d#x", " postgres://a:b@h/d", "postgres://a:b@h/d/e", "postgres://a:pw%zz@h/d"} {
		_, err := NewPostgres(bad)
		if err == nil {
			t.Errorf("%q accepted", bad)
		} else if strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), ":b@") {
			t.Errorf("error for %q quotes it: %v", bad, err)
		}
	}
}

func TestScramVerifierLogsIn(t *testing.T) {
	// Covered end to end by the tests above (a login made with the
	// verifier logs in); here only its shape.
	v, err := scramVerifier("pencil")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(v, "$")
	if len(parts) != 3 || parts[0] != "SCRAM-SHA-256" || !strings.HasPrefix(parts[1], "4096:") || len(strings.Split(parts[2], ":")) != 2 {
		t.Fatalf("verifier %q", v)
	}
}

func BenchmarkCreateAndDrop(b *testing.B) {
	f := newFixture(b, true)
	p := mustPostgres(b, f.adminURL)
	tmpl := mustTemplate(b, "GRANT SELECT ON allowed TO {{name}}")
	ctx := context.Background()
	for b.Loop() {
		role := newRole(b)
		if _, err := p.Create(ctx, role, tmpl, time.Hour); err != nil {
			b.Fatal(err)
		}
		if err := p.Drop(ctx, role); err != nil {
			b.Fatal(err)
		}
	}
}
