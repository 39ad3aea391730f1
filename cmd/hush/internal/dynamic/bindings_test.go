package dynamic

import (
	"strings"
	"testing"

	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/vault"
)

func TestParseBindings(t *testing.T) {
	got, err := ParseBindings([]string{"DATABASE_URL=db/prod", "REPORTS=db/reports"})
	if err != nil || len(got) != 2 || got[0] != (Binding{"DATABASE_URL", "db/prod"}) || got[1] != (Binding{"REPORTS", "db/reports"}) {
		t.Fatalf("ParseBindings = %v, %v", got, err)
	}
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"DATABASE_URL"}, "use VAR=NAME"},
		{[]string{"=db/prod"}, "use VAR=NAME"},
		{[]string{"1X=db/prod"}, "--dynamic 1X=db/prod:"},
		{[]string{"X=bad name"}, "--dynamic X=bad name:"},
		{[]string{"X=db/a", "X=db/b"}, "X is given twice"},
	} {
		if _, err := ParseBindings(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseBindings(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// FuzzParseBindings: whatever --dynamic is given, ParseBindings never
// panics, and what it accepts is one binding a flag, each variable a valid
// name given once, each source a valid secret name.
func FuzzParseBindings(f *testing.F) {
	for _, s := range []string{"DATABASE_URL=db/prod", "X=", "=y", "A=b=c", "A=db/a\x00B=db/b", "A=db/a\x00A=db/b", "1=x", "PATH=a/../b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in := strings.Split(s, "\x00")
		got, err := ParseBindings(in)
		if err != nil {
			return
		}
		if len(got) != len(in) {
			t.Fatalf("%q: %d bindings", in, len(got))
		}
		seen := map[string]bool{}
		for _, b := range got {
			if run.CheckVarName(b.Var) != nil || vault.ValidName(b.Source) != nil || seen[b.Var] {
				t.Fatalf("%q: accepted %+v", in, b)
			}
			seen[b.Var] = true
		}
	})
}
