package vault

import (
	"strings"
	"testing"
)

// TestVersionGap: deleting one older version row (the version that
// revoked a leaked value) left history showing 1, 2, 4 and let rollback
// --to 2 bring the leaked value back (attack 15, F4). Versions must be
// exactly 1..head for anything that walks them.
func TestVersionGap(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/A", "v1")
	mustSet(t, v, "app/A", "leaked")
	if _, err := v.Revoke("app/A", "posted in chat"); err != nil {
		t.Fatal(err)
	}
	mustSet(t, v, "app/A", "v4")
	path := tamperFile(t, v, `DELETE FROM versions WHERE version = 3`)
	v = reopenKey(t, path)

	want := func(what string, err error) {
		t.Helper()
		wantTampered(t, what, err)
		if err == nil || !strings.Contains(err.Error(), "version 3 of app/A is missing") {
			t.Errorf("%s: err = %v, want version 3 of app/A is missing", what, err)
		}
	}
	_, _, err := v.History("app/A")
	want("history", err)
	_, err = v.Rollback("app/A", 2)
	want("rollback", err)
	_, err = v.RollbackValue("app/A", 2)
	want("rollback --value", err)
	_, err = v.GetVersion("app/A", 2)
	want("get --version", err)
	_, err = v.Set("app/A", []byte("leaked"), Update{})
	want("set", err)
	_, err = v.Audit()
	want("audit --verify", err)
	_, err = v.Revoke("app/A", "again")
	want("revoke", err)
	_, err = v.Copy("app/A", "app/A2")
	want("cp", err)
	_, err = v.Move("app/A", "app/A3")
	want("mv", err)
	if s, err := v.Get("app/A"); err != nil || string(s.Value) != "v4" {
		t.Errorf("get = %v, %v; the current value itself is intact", s, err)
	}

	// Version 1 deleted: the first gap is 1.
	v2 := newVault(t)
	mustSet(t, v2, "app/B", "b1")
	mustSet(t, v2, "app/B", "b2")
	path = tamperFile(t, v2, `DELETE FROM versions WHERE version = 1`)
	v2 = reopenKey(t, path)
	_, _, err = v2.History("app/B")
	if err == nil || !strings.Contains(err.Error(), "version 1 of app/B is missing") {
		t.Errorf("history: err = %v, want version 1 of app/B is missing", err)
	}
}
