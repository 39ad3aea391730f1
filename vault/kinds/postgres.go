package kinds

import (
	"errors"
	"net/url"
	"strings"
	"unicode"
)

// maxURLSize bounds a PostgreSQL URL.
const maxURLSize = 4096

// secretParams are URL query parameters that carry a credential.
var secretParams = []string{"password", "sslpassword"}

// ParsePostgresURL reads a PostgreSQL connection URL,
// postgres://USER:PASSWORD@HOST:PORT/DATABASE?PARAMS (or postgresql://),
// as the value of a dynamic source. A user is required; the host may be
// empty (a local socket, or a host= parameter).
//
// Errors never quote the URL, which holds a password: they name what is
// wrong with it.
func ParsePostgresURL(s string) (*url.URL, error) {
	if len(s) > maxURLSize {
		return nil, errors.New("the PostgreSQL URL is longer than 4096 bytes")
	}
	if strings.TrimSpace(s) != s || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return nil, errors.New("the PostgreSQL URL contains spaces or control characters")
	}
	scheme, _, ok := strings.Cut(s, "://")
	if !ok || (scheme != "postgres" && scheme != "postgresql") {
		return nil, errors.New("not a PostgreSQL URL: it must start with postgres:// (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
	}
	// url.Parse's errors quote the input: they are not passed on.
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.New("the PostgreSQL URL does not parse: check its host, port and %-escapes (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, errors.New("the PostgreSQL URL names no user (postgres://USER:PASSWORD@HOST:PORT/DATABASE)")
	}
	if u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("the PostgreSQL URL has a #fragment or no //HOST part")
	}
	if db := strings.TrimPrefix(u.Path, "/"); strings.Contains(db, "/") {
		return nil, errors.New("the PostgreSQL URL's database name contains a /")
	}
	if _, err := url.ParseQuery(u.RawQuery); err != nil {
		return nil, errors.New("the PostgreSQL URL's parameters (after ?) do not parse")
	}
	return u, nil
}

// RedactPostgresURL prints u with every credential replaced by xxxxx: the
// password, and the password and sslpassword parameters.
func RedactPostgresURL(u *url.URL) string {
	c := *u
	if _, has := c.User.Password(); has {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	q := c.Query()
	changed := false
	for _, k := range secretParams {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			changed = true
		}
	}
	if changed {
		c.RawQuery = q.Encode()
	}
	return c.String()
}

// inspectPostgres checks a dynamic source's admin URL; its summary is the
// URL without password or parameters.
func inspectPostgres(value []byte) (*Info, error) {
	u, err := ParsePostgresURL(string(value))
	if err != nil {
		return nil, err
	}
	c := url.URL{Scheme: u.Scheme, User: url.User(u.User.Username()), Host: u.Host, Path: u.Path}
	return &Info{Kind: "dynamic-postgres", Summary: c.String(), Fields: map[string]any{
		"user": u.User.Username(), "host": u.Host, "database": strings.TrimPrefix(u.Path, "/")}}, nil
}
