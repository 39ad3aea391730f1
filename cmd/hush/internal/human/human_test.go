package human

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

func TestWords(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.Local)
	for _, c := range []struct{ got, want string }{
		{Ago(now, now), "just now"},
		{Ago(now.Add(-3*24*time.Hour), now), "3d ago"},
		{Left(7*time.Hour + 59*time.Minute + 30*time.Second), "7h59m"},
		{Left(12 * time.Minute), "12m"},
		{Left(40 * time.Second), "40s"},
		{When(now.Add(time.Hour), now), "13:00"},
		{When(now.Add(48*time.Hour), now), "2026-12-09 12:00"},
		{Date(now.Add(-72*time.Hour), now), "2026-12-04 (3d ago)"},
		{Expiry(now.Add(-time.Second), now), "2026-12-07 11:59:59 (expired)"},
		{Size(512), "512 B"},
		{Size(1536), "1.5 KiB"},
		{Size(3 << 20), "3.0 MiB"},
		{Count(1, "secret"), "1 secret"},
		{Count(2, "login"), "2 logins"},
		{Join("", "current"), "current"},
		{Join("named a/B", "current"), "named a/B, current"},
		{Shorten("abcdef", 4), "abc…"},
		{OneLine("GRANT x\n  TO {{name}}"), "GRANT x TO {{name}}"},
		{Cell("first line\nsecond", 60), "first line …"},
		{Cell("ééééé", 3), "éé…"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestTableAligns(t *testing.T) {
	var b bytes.Buffer
	w := NewTable(&b)
	fmt.Fprintln(w, "NAME\tTYPE")
	fmt.Fprintln(w, "app/LONG_NAME\tpassword")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if want := "NAME           TYPE\napp/LONG_NAME  password\n"; b.String() != want {
		t.Errorf("table = %q, want %q", b.String(), want)
	}
}
