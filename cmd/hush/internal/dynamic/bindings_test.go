package dynamic

import (
	"strings"
	"testing"
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
