package dynamic

import (
	"context"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/kinds"
)

// DefaultConnectTimeout bounds every connection to PostgreSQL: a database
// that is down or unreachable is an error within this time, not a hang.
// A connect_timeout parameter in the admin URL replaces it.
const DefaultConnectTimeout = 5 * time.Second

// Errors a caller can test with errors.Is; they come wrapped in an
// [*Error] whose message says what happened and what to do.
var (
	ErrUnreachable = errors.New("database unreachable")
	ErrAuth        = errors.New("admin login refused")
	ErrPrivilege   = errors.New("admin role lacks a privilege")
	ErrTemplate    = errors.New("role template failed")
	ErrDrop        = errors.New("login could not be dropped")
)

// Error is a failure talking to the database, with a message for a person
// that never holds a password (the admin URL is shown as
// postgres://admin:xxxxx@host/db at most).
type Error struct {
	Kind error // one of the Err* values of this package
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// rolePattern is every name hush gives a login, and the only names it drops.
// It is compiled on first use, not at init (which every hush command pays).
var rolePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^hush_[0-9a-f]{16}$`) })

// NewRoleName returns a fresh random login name, hush_ and 16 hex digits.
func NewRoleName() (string, error) {
	b, err := crypto.Random(8)
	if err != nil {
		return "", err
	}
	return "hush_" + hex.EncodeToString(b), nil
}

// ValidRoleName reports whether name is one hush could have made.
func ValidRoleName(name string) bool { return rolePattern().MatchString(name) }

// Postgres makes and drops logins on one PostgreSQL server through an
// admin URL.
//
// The admin role needs CREATEROLE (or superuser) and the right to grant
// what the template grants (on PostgreSQL 16 and later, CREATEROLE alone
// no longer lets it grant membership in a role it does not hold with
// ADMIN OPTION). See docs/dynamic.md.
type Postgres struct {
	admin          *url.URL
	secrets        []string // strings scrubbed from every message
	ConnectTimeout time.Duration
}

// NewPostgres checks an admin URL (see [kinds.ParsePostgresURL]).
func NewPostgres(adminURL string) (*Postgres, error) {
	u, err := kinds.ParsePostgresURL(adminURL)
	if err != nil {
		return nil, err
	}
	p := &Postgres{admin: u, ConnectTimeout: DefaultConnectTimeout}
	if pw, ok := u.User.Password(); ok && pw != "" {
		p.secrets = append(p.secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
	}
	for _, k := range []string{"password", "sslpassword"} {
		if v := u.Query().Get(k); v != "" {
			p.secrets = append(p.secrets, v)
		}
	}
	return p, nil
}

// Redacted is the admin URL with its credentials replaced by xxxxx.
func (p *Postgres) Redacted() string { return kinds.RedactPostgresURL(p.admin) }

// Server names the server and database, host:port/database, without
// credentials.
func (p *Postgres) Server() string {
	host := p.admin.Host
	if host == "" {
		host = "localhost"
	}
	return host + "/" + p.Database()
}

// Database is the admin URL's database (its user's name when it has none,
// as PostgreSQL does).
func (p *Postgres) Database() string {
	if db := strings.TrimPrefix(p.admin.Path, "/"); db != "" {
		return db
	}
	return p.admin.User.Username()
}

// User is the admin role.
func (p *Postgres) User() string { return p.admin.User.Username() }

// scrub removes the admin password from a message, whatever produced it.
func (p *Postgres) scrub(msg string) string {
	for _, s := range p.secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	return msg
}

func (p *Postgres) fail(kind error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: p.scrub(fmt.Sprintf(format, args...))}
}

// Login is a login made by [Postgres.Create]. Password and URL are the
// only copies of its password: they go to the program, nowhere else.
type Login struct {
	Role     string
	Password string
	URL      string // the admin URL with this login's user and password
	Expires  time.Time
}

// connect opens an admin connection, within ConnectTimeout.
func (p *Postgres) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(p.admin.String())
	if err != nil {
		return nil, p.fail(ErrUnreachable, "the admin URL %s is not understood by the PostgreSQL driver: %s", p.Redacted(), errMessage(err))
	}
	// connect_timeout in the admin URL wins; without it, ConnectTimeout.
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = p.ConnectTimeout
		if cfg.ConnectTimeout <= 0 {
			cfg.ConnectTimeout = DefaultConnectTimeout
		}
	}
	cfg.RuntimeParams["application_name"] = "hush"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, p.connectError(err, cfg.ConnectTimeout)
	}
	return conn, nil
}

func (p *Postgres) connectError(err error, timeout time.Duration) error {
	var pgErr *pgconn.PgError
	var opErr *net.OpError
	switch {
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case "28P01":
			return p.fail(ErrAuth, "PostgreSQL at %s refused admin role %q: wrong password, or no such role (update the source with `hush dynamic add NAME --postgres -`)", p.Server(), p.User())
		case "28000":
			return p.fail(ErrAuth, "PostgreSQL at %s refused admin role %q: %s", p.Server(), p.User(), pgErr.Message)
		case "3D000":
			return p.fail(ErrUnreachable, "PostgreSQL at %s: database %q does not exist", p.Server(), p.Database())
		}
		return p.fail(ErrUnreachable, "PostgreSQL at %s refused the connection: %s (SQLSTATE %s)", p.Server(), pgErr.Message, pgErr.Code)
	case errors.Is(err, context.Canceled):
		return p.fail(ErrUnreachable, "connecting to PostgreSQL at %s was interrupted", p.Server())
	case errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err):
		return p.fail(ErrUnreachable, "PostgreSQL at %s did not answer within %s: is it running and reachable?", p.Server(), timeout)
	case errors.Is(err, syscall.ECONNREFUSED):
		return p.fail(ErrUnreachable, "cannot connect to PostgreSQL at %s: connection refused (is it running?)", p.Server())
	case errors.As(err, &opErr):
		return p.fail(ErrUnreachable, "cannot connect to PostgreSQL at %s: %v", p.Server(), opErr.Err)
	}
	return p.fail(ErrUnreachable, "cannot connect to PostgreSQL at %s: %s", p.Server(), errMessage(err))
}

// errMessage is an error's text without pgx's connection-string prefix.
func errMessage(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		msg := pgErr.Message
		if pgErr.Detail != "" {
			msg += " (" + pgErr.Detail + ")"
		}
		if pgErr.Hint != "" {
			msg += "; hint: " + pgErr.Hint
		}
		return msg + " (SQLSTATE " + pgErr.Code + ")"
	}
	return err.Error()
}

// sqlError describes a failed statement.
func (p *Postgres) sqlError(kind error, what string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) {
		return p.fail(kind, "%s at %s: interrupted or timed out", what, p.Server())
	}
	return p.fail(kind, "%s at %s: %s", what, p.Server(), errMessage(err))
}

// adminInfo is what the admin role may do.
type adminInfo struct {
	name       string
	super      bool
	createRole bool
}

func (p *Postgres) adminRole(ctx context.Context, conn *pgx.Conn) (adminInfo, error) {
	var a adminInfo
	err := conn.QueryRow(ctx, `SELECT rolname, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user`).
		Scan(&a.name, &a.super, &a.createRole)
	if err != nil {
		return a, p.sqlError(ErrUnreachable, "reading the admin role's privileges", err)
	}
	return a, nil
}

// Create makes the login role with a new random password, valid until the
// server's clock plus ttl, and runs the template for it, in one
// transaction: when anything fails, no login is left. The admin role must
// have CREATEROLE or be a superuser; that is checked first.
//
// The password never travels as text: CREATE ROLE gets its SCRAM-SHA-256
// verifier, so neither the server's statement log nor pg_stat_activity
// ever holds it.
func (p *Postgres) Create(ctx context.Context, role string, t *Template, ttl time.Duration) (*Login, error) {
	login, _, err := p.create(ctx, role, t, ttl, false)
	return login, err
}

// Check connects, checks the admin role's privileges and runs the template
// for a throw-away login in a transaction that is rolled back: a dry run
// of [Postgres.Create] that leaves nothing behind.
func (p *Postgres) Check(ctx context.Context, t *Template) error {
	role, err := NewRoleName()
	if err != nil {
		return err
	}
	_, _, err = p.create(ctx, role, t, time.Minute, true)
	return err
}

// create is Create; on failure, mayExist says whether the login might
// exist after all (the template ran, or the commit's outcome is unknown).
func (p *Postgres) create(ctx context.Context, role string, t *Template, ttl time.Duration, dryRun bool) (login *Login, mayExist bool, err error) {
	if !ValidRoleName(role) {
		return nil, false, fmt.Errorf("refusing to create login %q: not a name hush makes", role)
	}
	if ttl < time.Second {
		return nil, false, fmt.Errorf("the TTL must be at least 1s")
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return nil, false, err
	}
	defer closeConn(conn)
	a, err := p.adminRole(ctx, conn)
	if err != nil {
		return nil, false, err
	}
	if !a.super && !a.createRole {
		return nil, false, p.fail(ErrPrivilege, "admin role %q at %s cannot create logins: it needs CREATEROLE (ALTER ROLE %s CREATEROLE) or superuser", a.name, p.Server(), quoteIdent(a.name))
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, false, p.sqlError(ErrUnreachable, "starting a transaction", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	var until time.Time
	if err := tx.QueryRow(ctx, `SELECT now() + make_interval(secs => $1)`, ttl.Seconds()).Scan(&until); err != nil {
		return nil, false, p.sqlError(ErrUnreachable, "reading the server's clock", err)
	}
	password, verifier, err := newPassword()
	if err != nil {
		return nil, false, err
	}
	// CREATE ROLE takes no bind parameters: the name is hush's own and
	// quoted, the verifier and the timestamp are quoted literals.
	stmt := fmt.Sprintf(`CREATE ROLE %s WITH LOGIN PASSWORD %s VALID UNTIL %s`,
		quoteIdent(role), quoteLiteral(verifier), quoteLiteral(until.UTC().Format("2006-01-02 15:04:05.999999-07")))
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return nil, false, p.sqlError(ErrPrivilege, "creating login "+role, err)
	}
	// From here on a template with its own COMMIT could have kept the login.
	if _, err := tx.Exec(ctx, t.Expand(role, p.Database())); err != nil {
		return nil, true, p.sqlError(ErrTemplate, "the role template failed (no login was left)", err)
	}
	if dryRun {
		if err := tx.Rollback(ctx); err != nil {
			return nil, true, p.sqlError(ErrUnreachable, "rolling back the dry run", err)
		}
		return nil, false, nil
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, true, p.sqlError(ErrUnreachable, "committing login "+role, err)
	}
	return &Login{Role: role, Password: password, URL: p.LoginURL(role, password), Expires: until}, false, nil
}

// LoginURL is the admin URL with another user and password: same host,
// port, database and parameters, minus any credential parameter.
func (p *Postgres) LoginURL(role, password string) string {
	c := *p.admin
	c.User = url.UserPassword(role, password)
	q := c.Query()
	for _, k := range []string{"password", "sslpassword", "user"} {
		q.Del(k)
	}
	c.RawQuery = q.Encode()
	return c.String()
}

// Exists reports whether the login role exists.
func (p *Postgres) Exists(ctx context.Context, role string) (bool, error) {
	conn, err := p.connect(ctx)
	if err != nil {
		return false, err
	}
	defer closeConn(conn)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		return false, p.sqlError(ErrUnreachable, "looking up "+role, err)
	}
	return n > 0, nil
}

// Drop removes a login hush made: no new logins (NOLOGIN), its sessions
// terminated, what it owns in the admin URL's database reassigned to the
// admin role, its privileges there and on shared objects revoked (DROP
// OWNED), then DROP ROLE. A login that does not exist is not an error.
//
// Privileges the template granted on objects in other databases of the
// cluster cannot be revoked from here and make DROP ROLE fail: a template
// should only grant in its own database (see docs/dynamic.md).
func (p *Postgres) Drop(ctx context.Context, role string) error {
	if !ValidRoleName(role) {
		return fmt.Errorf("refusing to drop %q: not a login hush makes", role)
	}
	conn, err := p.connect(ctx)
	if err != nil {
		return err
	}
	defer closeConn(conn)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n); err != nil {
		return p.sqlError(ErrDrop, "looking up "+role, err)
	}
	if n == 0 {
		return nil
	}
	a, err := p.adminRole(ctx, conn)
	if err != nil {
		return err
	}
	ident := quoteIdent(role)
	if !a.super {
		// Membership lets a CREATEROLE admin signal the login's sessions
		// and REASSIGN / DROP OWNED BY it.
		if _, err := conn.Exec(ctx, `GRANT `+ident+` TO CURRENT_USER`); err != nil {
			return p.sqlError(ErrDrop, "taking membership of "+role, err)
		}
	}
	if _, err := conn.Exec(ctx, `ALTER ROLE `+ident+` NOLOGIN`); err != nil {
		return p.sqlError(ErrDrop, "disabling "+role, err)
	}
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role); err != nil {
		return p.sqlError(ErrDrop, "ending the sessions of "+role, err)
	}
	// Terminated backends leave pg_stat_activity within milliseconds.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); {
		var left int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1`, role).Scan(&left); err != nil || left == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return p.sqlError(ErrDrop, "starting a transaction", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for _, stmt := range []string{
		`REASSIGN OWNED BY ` + ident + ` TO CURRENT_USER`,
		`DROP OWNED BY ` + ident,
		`DROP ROLE ` + ident,
	} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return p.sqlError(ErrDrop, fmt.Sprintf("dropping login %s (%s)", role, strings.Fields(stmt)[0]+" "+strings.Fields(stmt)[1]), err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return p.sqlError(ErrDrop, "dropping login "+role, err)
	}
	return nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(ctx)
}

// newPassword returns a random password (192 bits, URL-safe) and its
// SCRAM-SHA-256 verifier in PostgreSQL's format, as `\password` makes it.
func newPassword() (password, verifier string, err error) {
	b, err := crypto.Random(24)
	if err != nil {
		return "", "", err
	}
	password = base64.RawURLEncoding.EncodeToString(b)
	crypto.Wipe(b)
	verifier, err = scramVerifier(password)
	return password, verifier, err
}

// scramIterations is PostgreSQL's default (scram_iterations).
const scramIterations = 4096

// scramVerifier is RFC 5802/7677's stored form of a password:
// SCRAM-SHA-256$iterations:salt$StoredKey:ServerKey. The password is ASCII,
// so SASLprep leaves it as it is.
func scramVerifier(password string) (string, error) {
	salt, err := crypto.Random(16)
	if err != nil {
		return "", err
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, scramIterations, sha256.Size)
	if err != nil {
		return "", err
	}
	defer crypto.Wipe(salted)
	mac := func(key []byte, msg string) []byte {
		h := hmac.New(sha256.New, key)
		h.Write([]byte(msg))
		return h.Sum(nil)
	}
	clientKey := mac(salted, "Client Key")
	storedKey := sha256.Sum256(clientKey)
	serverKey := mac(salted, "Server Key")
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", scramIterations, enc(salt), enc(storedKey[:]), enc(serverKey)), nil
}
