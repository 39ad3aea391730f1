package secretinput

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

type notes []string

func (n *notes) f(format string, args ...any) { *n = append(*n, fmt.Sprintf(format, args...)) }

func TestValueFromStdinKeepsTheNewlineAndSaysSo(t *testing.T) {
	var n notes
	r := Reader{Stdin: strings.NewReader("token\n"), Notef: n.f}
	b, err := r.Value("app/KEY", []string{"-"}, false, nil)
	if err != nil || string(b) != "token\n" {
		t.Fatalf("Value = %q, %v", b, err)
	}
	if len(n) != 1 || !strings.Contains(n[0], "ends with a newline") {
		t.Fatalf("notes = %q", n)
	}
	n = nil
	r.Stdin = strings.NewReader("line 1\nline 2\n")
	if _, err := r.Value("app/KEY", []string{"-"}, false, nil); err != nil || len(n) != 0 {
		t.Fatalf("a multi-line value: %v, notes %q", err, n)
	}
}

func TestValueRefusesStdinOverTheLimit(t *testing.T) {
	r := Reader{Stdin: strings.NewReader(strings.Repeat("x", vault.MaxValueSize+1)), Notef: (&notes{}).f}
	if _, err := r.Value("app/KEY", []string{"-"}, false, nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

func TestValueAsArgumentWarns(t *testing.T) {
	var n notes
	b, err := Reader{Notef: n.f}.Value("app/KEY", []string{"v"}, false, nil)
	if err != nil || string(b) != "v" || len(n) != 1 || !strings.Contains(n[0], "visible to every user's `ps`") {
		t.Fatalf("Value = %q, %v, notes %q", b, err, n)
	}
}

func TestValueGenerated(t *testing.T) {
	b, err := Reader{}.Value("app/KEY", nil, true, nil)
	if err != nil || len(b) != 24 {
		t.Fatalf("Value = %q, %v", b, err)
	}
}

func TestAdminURLFromStdinTrimsTheLineEnd(t *testing.T) {
	r := Reader{Stdin: strings.NewReader("postgres://a:b@h/db\r\n")}
	b, err := r.AdminURL("db/prod", "-", false, nil)
	if err != nil || string(b) != "postgres://a:b@h/db" {
		t.Fatalf("AdminURL = %q, %v", b, err)
	}
	r.Stdin = strings.NewReader("\n")
	if _, err := r.AdminURL("db/prod", "-", false, nil); err == nil || err.Error() != "no admin URL on stdin" {
		t.Fatalf("empty stdin: %v", err)
	}
}

func TestAdminURLAsFlagWarnsOnlyWhenAsked(t *testing.T) {
	var n notes
	r := Reader{Notef: n.f}
	if b, err := r.AdminURL("db/prod", "postgres://x", false, nil); err != nil || string(b) != "postgres://x" || len(n) != 0 {
		t.Fatalf("AdminURL = %q, %v, notes %q", b, err, n)
	}
	if _, err := r.AdminURL("db/prod", "postgres://x", true, nil); err != nil || len(n) != 1 || !strings.Contains(n[0], "visible to ps") {
		t.Fatalf("err %v, notes %q", err, n)
	}
}
