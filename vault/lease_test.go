package vault

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLeasesRoundTripAndSealed(t *testing.T) {
	v := newVault(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	l := &Lease{Source: "db/SOURCE-MARKER", Role: "hush_ROLEMARKER", Server: "SERVER-MARKER:5432/shop",
		AdminURL: "postgres://admin:ADMINPW-MARKER@db/shop", State: LeaseCreating,
		Created: now, Expires: now.Add(time.Hour), Host: "h", PID: 42, PIDStart: 7}
	if err := v.PutLease(l); err != nil {
		t.Fatal(err)
	}
	if len(l.ID) != 32 {
		t.Fatalf("lease id %q", l.ID)
	}
	l.State = LeaseActive
	if err := v.PutLease(l); err != nil {
		t.Fatal(err)
	}
	second := &Lease{Source: "db/other", Role: "hush_2", Created: now.Add(time.Second), State: LeaseActive}
	if err := v.PutLease(second); err != nil {
		t.Fatal(err)
	}
	v = reopen(t, v)
	got, err := v.Leases()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID != l.ID || got[0].State != LeaseActive || got[0].AdminURL != l.AdminURL ||
		!got[0].Expires.Equal(l.Expires) || got[0].PID != 42 || got[1].Role != "hush_2" {
		t.Fatalf("leases read back as %+v %+v", got[0], got[1])
	}
	for _, suffix := range []string{"", "-wal"} {
		b, _ := os.ReadFile(v.Path() + suffix)
		for _, m := range []string{"SOURCE-MARKER", "ROLEMARKER", "SERVER-MARKER", "ADMINPW-MARKER"} {
			if bytes.Contains(b, []byte(m)) {
				t.Errorf("%s in plaintext in %s", m, filepath.Base(v.Path()+suffix))
			}
		}
	}
	if err := v.DeleteLease(l.ID); err != nil {
		t.Fatal(err)
	}
	if err := v.DeleteLease(l.ID); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if got, _ := v.Leases(); len(got) != 1 || got[0].Role != "hush_2" {
		t.Fatalf("after delete: %+v", got)
	}
}

func TestLeaseMovedToAnotherRowFails(t *testing.T) {
	v := newVault(t)
	for _, r := range []string{"hush_a", "hush_b"} {
		if err := v.PutLease(&Lease{Source: "db/x", Role: r, Created: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	v2 := tamper(t, v, `UPDATE leases SET lease = (SELECT lease FROM leases ORDER BY created LIMIT 1)`)
	if err := v2.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	_, err := v2.Leases()
	wantTampered(t, "swapped lease", err)
}

func TestDynamicSourceMeta(t *testing.T) {
	v := newVault(t)
	typ := TypeDynamicPostgres
	if _, err := v.Set("db/prod", []byte("postgres://a:b@h/d"), Update{Type: &typ}); err == nil || !strings.Contains(err.Error(), "hush dynamic add") {
		t.Fatalf("dynamic type without its template: %v", err)
	}
	d := &DynamicSource{Template: "GRANT r TO {{name}}", TTL: time.Hour}
	if _, err := v.Set("db/prod", []byte("postgres://a:b@h/d"), Update{Type: &typ, Dynamic: d}); err != nil {
		t.Fatal(err)
	}
	s, err := v.Get("db/prod")
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsDynamic() || s.Dynamic.Template != d.Template || s.Dynamic.TTL != time.Hour {
		t.Fatalf("meta read back as %+v", s.Meta)
	}
	// A new admin URL keeps the source a source.
	if _, err := v.Set("db/prod", []byte("postgres://a:c@h/d"), Update{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Get("db/prod"); !s.IsDynamic() || s.Dynamic == nil {
		t.Fatalf("source lost its template: %+v", s.Meta)
	}
	// Its type cannot be changed into one whose value a program may get.
	other := TypeOther
	if _, err := v.Set("db/prod", []byte("postgres://a:c@h/d"), Update{Type: &other}); err == nil || !strings.Contains(err.Error(), "cannot be changed") {
		t.Fatalf("type change: %v", err)
	}
	if _, err := ParseType("dynamic-postgres"); err == nil {
		t.Fatal("--type dynamic-postgres accepted")
	}
	for _, bad := range []DynamicSource{{Template: "", TTL: time.Hour}, {Template: "x\x00", TTL: time.Hour}, {Template: "x", TTL: 0}} {
		if _, err := v.Set("db/bad", []byte("postgres://a:b@h/d"), Update{Type: &typ, Dynamic: &bad}); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestRecordDetail(t *testing.T) {
	v := newVault(t)
	if err := v.RecordDetail("lease", []string{"db/prod", "hush_1"}, "expires 2030-01-01", nil); err != nil {
		t.Fatal(err)
	}
	es, err := v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Detail != "expires 2030-01-01" || es[0].Result != "ok" {
		t.Fatalf("%+v", es)
	}
}
