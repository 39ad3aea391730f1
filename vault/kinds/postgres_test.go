package kinds

import (
	"strings"
	"testing"
)

func TestInspectPostgres(t *testing.T) {
	info, err := Inspect("dynamic-postgres", []byte("postgresql://admin:s3cret@db.example:5432/shop?sslmode=require&password=q"))
	if err != nil {
		t.Fatal(err)
	}
	if info.Summary != "postgresql://admin@db.example:5432/shop" || info.Fields["database"] != "shop" || info.Fields["user"] != "admin" {
		t.Errorf("%+v", info)
	}
	for _, tc := range []struct{ in, err string }{
		{"mysql://admin:s3cret@h/d", "not a PostgreSQL URL"},
		{"s3cret", "not a PostgreSQL URL"},
		{"postgres://h/d", "names no user"},
		{"postgres://:s3cret@h/d", "names no user"},
		{"postgres://admin:s3cret@h/d ", "spaces"},
		{"postgres://admin:s3cret@h/d\n", "spaces"},
		{"postgres://admin:s3cret@h/d#frag", "fragment"},
		{"postgres://admin:s3cret@h/d/e", "contains a /"},
		{"postgres://admin:s3%zzcret@h/d", "does not parse"},
		{"postgres://admin:s3cret@h:port/d", "does not parse"},
		{"postgres://admin:s3cret@h/d?a=%zz", "parameters"},
		{"postgres://admin:s3cret@h/" + strings.Repeat("d", 5000), "longer than"},
	} {
		_, err := Inspect("dynamic-postgres", []byte(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.err)
			continue
		}
		if strings.Contains(err.Error(), "s3") {
			t.Errorf("%q: the error quotes the URL: %v", tc.in, err)
		}
	}
}

func TestRedactPostgresURL(t *testing.T) {
	u, err := ParsePostgresURL("postgres://admin:s3cret@h:5432/d?sslpassword=k3y&sslmode=verify-full")
	if err != nil {
		t.Fatal(err)
	}
	got := RedactPostgresURL(u)
	if strings.Contains(got, "s3cret") || strings.Contains(got, "k3y") || !strings.HasPrefix(got, "postgres://admin:xxxxx@h:5432/d?") || !strings.Contains(got, "sslmode=verify-full") {
		t.Errorf("redacted: %s", got)
	}
	u, _ = ParsePostgresURL("postgres://admin@h/d")
	if got := RedactPostgresURL(u); got != "postgres://admin@h/d" {
		t.Errorf("no password: %s", got)
	}
}

// FuzzPostgresURL: parsing never panics, and neither an error nor the
// redacted form ever holds the password, wherever it sits in the URL.
func FuzzPostgresURL(f *testing.F) {
	const pw = "Pw-7x9Q"
	for _, s := range [][2]string{
		{"postgres://admin:", "@db:5432/shop?sslmode=require"},
		{"postgresql://u:", "@[::1]:5432/d"},
		{"postgres://u:", "@h:x/d"},
		{"postgres://u:", "@h/d%zz"},
		{"postgres://u@h/d?password=", "&sslmode=disable"},
		{"postgres://u@h/d?sslpassword=", ""},
		{"mysql://u:", "@h/d"},
		{"postgres://u:", "@h/d#x"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, before, after string) {
		u, err := ParsePostgresURL(before + pw + after)
		if err != nil {
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("error holds the password: %v", err)
			}
			return
		}
		p, _ := u.User.Password()
		if strings.Contains(RedactPostgresURL(u), pw) && !strings.Contains(u.User.Username(), pw) &&
			!strings.Contains(u.Host, pw) && !strings.Contains(u.Path, pw) && !strings.Contains(p, "xxxxx") &&
			!queryHoldsOutsideSecrets(u.RawQuery, pw) {
			t.Fatalf("redacted URL %q holds the password", RedactPostgresURL(u))
		}
	})
}

// queryHoldsOutsideSecrets reports whether pw appears in a parameter other
// than a credential (a host=, an application_name=): not a password there.
func queryHoldsOutsideSecrets(raw, pw string) bool {
	for _, kv := range strings.Split(raw, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k != "password" && k != "sslpassword" && (strings.Contains(v, pw) || strings.Contains(k, pw)) {
			return true
		}
	}
	return false
}
