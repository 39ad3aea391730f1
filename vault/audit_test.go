package vault

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

func auditedVault(t *testing.T) *Vault {
	v := newVault(t)
	for i := range 5 {
		if err := v.Record("get", []string{fmt.Sprintf("app/K%d", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Record("get", []string{"app/missing"}, notFound("app/missing")); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAuditRecordsAndReads(t *testing.T) {
	v := auditedVault(t)
	es, err := v.Audit()
	if err != nil || len(es) != 6 {
		t.Fatalf("Audit = %d entries, %v", len(es), err)
	}
	if es[0].Seq != 1 || es[0].Action != "get" || es[0].Names[0] != "app/K0" || es[0].Result != "ok" || es[0].Device == "" {
		t.Fatalf("first entry: %+v", es[0])
	}
	if es[5].Result != "secret app/missing not found" {
		t.Fatalf("a failure is recorded with its message: %+v", es[5])
	}
	v = reopen(t, v)
	if es, err := v.Audit(); err != nil || len(es) != 6 {
		t.Fatalf("after reopening: %d, %v", len(es), err)
	}
}

func TestAuditFileIsPrivate(t *testing.T) {
	v := auditedVault(t)
	st, err := os.Stat(AuditPath(v.Path()))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("audit file: %v, mode %o", err, st.Mode().Perm())
	}
	b, _ := os.ReadFile(AuditPath(v.Path()))
	if bytes.Contains(b, []byte("app/K1")) || bytes.Contains(b, []byte("app/missing")) {
		t.Fatal("a name in plaintext in the audit file")
	}
}

func TestAuditNeverHoldsValues(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/SECRET", "VALUE-MARKER-audit")
	s, _ := v.Get("app/SECRET")
	v.Record("get", []string{s.Name}, nil)
	es, _ := v.Audit()
	for _, e := range es {
		if strings.Contains(fmt.Sprint(e), "VALUE-MARKER") {
			t.Fatalf("a value in the audit log: %+v", e)
		}
	}
}

// Every way of changing the log behind hush's back is found, and the first
// broken entry is named.
func TestAuditTampering(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stmts []string
		seq   int
	}{
		{"edited entry", []string{`UPDATE audit SET entry = CAST(substr(entry, 1, 30) || CASE WHEN substr(entry, 31, 1) = x'00' THEN x'01' ELSE x'00' END || substr(entry, 32) AS BLOB) WHERE seq = 3`}, 3},
		{"deleted entry", []string{`DELETE FROM audit WHERE seq = 2`}, 2},
		{"reordered entries", []string{
			`UPDATE audit SET seq = 100 WHERE seq = 2`, `UPDATE audit SET seq = 2 WHERE seq = 3`, `UPDATE audit SET seq = 3 WHERE seq = 100`}, 2},
		{"entry moved with its mac", []string{
			`UPDATE audit SET entry = (SELECT entry FROM audit WHERE seq = 5), mac = (SELECT mac FROM audit WHERE seq = 5) WHERE seq = 4`}, 4},
		{"last entries cut off", []string{`DELETE FROM audit WHERE seq >= 5`}, 5},
		{"log emptied", []string{`DELETE FROM audit`}, 1},
		{"head rolled back", []string{`UPDATE audit_head SET seq = 4`}, 5},
		{"head mac changed", []string{`UPDATE audit_head SET mac = randomblob(32)`}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := auditedVault(t)
			path := v.Path()
			v.Close()
			db, err := sql.Open("sqlite3", "file:"+AuditPath(path))
			if err != nil {
				t.Fatal(err)
			}
			db.SetMaxOpenConns(1)
			for _, stmt := range tc.stmts {
				if _, err := db.Exec(stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			db.Close()
			v, err = Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			if err := v.Unlock(testPass); err != nil {
				t.Fatal(err)
			}
			_, err = v.Audit()
			var ae *AuditError
			if !errors.As(err, &ae) || !errors.Is(err, ErrTampered) {
				t.Fatalf("Audit = %v, want an AuditError", err)
			}
			if ae.Seq != tc.seq {
				t.Errorf("broken entry reported as %d, want %d (%v)", ae.Seq, tc.seq, err)
			}
		})
	}
}

// A deleted log is reported, not silently started again.
func TestAuditDeletedLogIsFound(t *testing.T) {
	v := auditedVault(t)
	path := v.Path()
	v.Close()
	if err := os.Remove(AuditPath(path)); err != nil {
		t.Fatal(err)
	}
	v2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	v2.Unlock(testPass)
	_, err = v2.Audit()
	var ae *AuditError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("Audit of a deleted log = %v", err)
	}
	if err := v2.Record("get", []string{"x"}, nil); err == nil {
		t.Fatal("Record quietly started a new log over a deleted one")
	}
	if err := v2.RestartAudit(false); err != nil {
		t.Fatal(err)
	}
	es, err := v2.Audit()
	if err != nil || len(es) != 1 || es[0].Action != "audit-restart" {
		t.Fatalf("after restart: %v %v", es, err)
	}
}

func TestFilterAudit(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	es := []AuditEntry{
		{Seq: 1, Time: t0, Names: []string{"app/prod/DB"}},
		{Seq: 2, Time: t0.Add(time.Hour), Names: []string{"other/X", "app/dev/Y"}},
		{Seq: 3, Time: t0.Add(2 * time.Hour)},
	}
	seqs := func(es []AuditEntry) (s []int) {
		for _, e := range es {
			s = append(s, e.Seq)
		}
		return s
	}
	for _, tc := range []struct {
		since  time.Time
		prefix string
		want   []int
	}{
		{time.Time{}, "", []int{1, 2, 3}},
		{t0.Add(time.Hour), "", []int{2, 3}},
		{time.Time{}, "app/", []int{1, 2}},
		{time.Time{}, "app/prod...", []int{1}},
		{t0.Add(time.Minute), "app/prod", nil},
	} {
		if got := seqs(FilterAudit(es, tc.since, tc.prefix)); !slices.Equal(got, tc.want) {
			t.Errorf("since %v, %q: %v, want %v", tc.since, tc.prefix, got, tc.want)
		}
	}
}
