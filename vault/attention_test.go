package vault

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAttentionMarksAtTheirThresholds(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name    string
		m       Meta
		updated time.Time
		want    []Mark
	}{
		{"nothing to say", Meta{}, now, nil},
		{"expiry far off", Meta{Expires: now.Add(ExpiryWarning + day)}, now, nil},
		{"expiry within the warning", Meta{Expires: now.Add(ExpiryWarning - day)}, now, []Mark{MarkExpiresSoon}},
		{"expired", Meta{Expires: now}, now, []Mark{MarkExpired}},
		{"rotation not yet due", Meta{RotateEvery: 30 * day}, now.Add(-29 * day), nil},
		{"rotation due", Meta{RotateEvery: 30 * day}, now.Add(-30 * day), []Mark{MarkRotationDue}},
		{"exposed", Meta{Exposed: &Exposure{At: now, Reason: "bob left"}}, now, []Mark{MarkRotationDue}},
		{"certificate far off", Meta{NotAfter: now.Add(CertificateWarning + day)}, now, nil},
		{"certificate ends soon", Meta{NotAfter: now.Add(CertificateWarning - day)}, now, []Mark{MarkCertificateEnds}},
		{"certificate ended", Meta{NotAfter: now}, now, []Mark{MarkCertificateEnded}},
		{"revoked", Meta{Revoked: &Revocation{At: now, Reason: "leaked"}}, now, []Mark{MarkRevoked}},
		{"everything, in order", Meta{Expires: now.Add(-day), RotateEvery: day, NotAfter: now.Add(day), Revoked: &Revocation{}}, now.Add(-2 * day),
			[]Mark{MarkExpired, MarkRotationDue, MarkCertificateEnds, MarkRevoked}},
	} {
		if got := Attention(tc.m, tc.updated, now); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestDueListsOverdueAndSoonSoonestFirst(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	entries := []Entry{
		{Name: "a/rotate", Meta: Meta{RotateEvery: 10 * day}, Updated: now.Add(-12 * day)},
		{Name: "a/expires", Meta: Meta{Expires: now.Add(5 * day)}, Updated: now},
		{Name: "a/cert", Meta: Meta{NotAfter: now.Add(20 * day)}, Updated: now},
		{Name: "a/far", Meta: Meta{Expires: now.Add(100 * day)}, Updated: now},
		{Name: "a/exposed", Meta: Meta{Exposed: &Exposure{At: now.Add(-day), Reason: "bob left"}}, Updated: now},
		{Name: "a/revoked", Meta: Meta{Expires: now.Add(-day), Revoked: &Revocation{}}, Updated: now},
	}
	got := Due(entries, now, 14*day, 30*day)
	var names []string
	for _, it := range got {
		names = append(names, it.Name+":"+it.What)
	}
	want := []string{"a/rotate:rotation", "a/exposed:rotation", "a/expires:expiry", "a/cert:certificate end"}
	if !slices.Equal(names, want) {
		t.Fatalf("due: %v, want %v", names, want)
	}
	if !got[0].Overdue || !got[1].Overdue || got[1].Reason != "bob left" || got[2].Overdue || got[3].Overdue {
		t.Errorf("overdue and reasons: %+v", got)
	}
	// The certificate window is the longer of the two.
	if got := Due(entries[2:3], now, 14*day, 0); len(got) != 0 {
		t.Errorf("a certificate 20 days off is due within 14 days: %+v", got)
	}
}

func TestListWithPoliciesInheritsTheFolderInterval(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("app/prod/KEY", []byte("x"), Update{}); err != nil {
		t.Fatal(err)
	}
	if err := v.SetPolicy("app", 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	es, err := v.ListWithPolicies("")
	if err != nil || len(es) != 1 || es[0].RotateEvery != 90*24*time.Hour {
		t.Fatalf("%+v, %v", es, err)
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		30 * time.Second: "now", 5 * time.Minute: "5m", 47 * time.Hour: "47h", 50 * time.Hour: "2d",
		90 * 24 * time.Hour: "3mo", 800 * 24 * time.Hour: "2y",
	} {
		if got := Ago(now.Add(-d), now); got != want {
			t.Errorf("Ago(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestRemovedInConflict(t *testing.T) {
	listed := []Entry{{ID: "1", Name: "app/A"}}
	conflicts := map[string]string{"1": "app/A", "2": "app/B", "3": "other/C", "4": "app/sub/D"}
	if got := RemovedInConflict(listed, conflicts, "app"); !slices.Equal(got, []string{"app/B", "app/sub/D"}) {
		t.Errorf("in app: %v", got)
	}
	if got := RemovedInConflict(listed, conflicts, ""); !slices.Equal(got, []string{"app/B", "app/sub/D", "other/C"}) {
		t.Errorf("everywhere: %v", got)
	}
}

// A team copy outside the folder scopes this device holds is marked
// out-of-scope, after its other marks; a vault of one's own never is.
func TestAttentionOutOfScope(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	m := Meta{RotateEvery: time.Hour}
	if got := AttentionIn(m, now.Add(-2*time.Hour), now, false); !slices.Equal(got, []Mark{MarkRotationDue, MarkOutOfScope}) {
		t.Errorf("AttentionIn(not held) = %v", got)
	}
	if got := Attention(Meta{}, now, now); len(got) != 0 {
		t.Errorf("Attention = %v, want nothing", got)
	}
}

// Each member who loses a scope is a reason of its own to rotate its
// secrets; one given the scope back takes only their reason back, and
// the mark goes with the last one.
func TestExposureReasonsAddAndClear(t *testing.T) {
	v := newVault(t)
	for _, n := range []string{"app/staging/DB", "app/prod/DB"} {
		if _, err := v.Set(n, []byte("value-"+n), Update{}); err != nil {
			t.Fatal(err)
		}
	}
	staging := func(name string) bool { return strings.HasPrefix(name, "app/staging/") }
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	exposed := func(name string) *Exposure {
		s, err := v.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		if string(s.Value) != "value-"+name {
			t.Fatalf("%s changed value: %q", name, s.Value)
		}
		return s.Exposed
	}
	if n, err := v.Replica().MarkExposedWhere(staging, "bob no longer holds app/staging", at); err != nil || n != 1 {
		t.Fatalf("mark bob: %d, %v", n, err)
	}
	if n, err := v.Replica().MarkExposedWhere(staging, "carol no longer holds app/staging", at.Add(time.Hour)); err != nil || n != 0 {
		t.Fatalf("mark carol: %d, %v (a secret marked already is not counted again)", n, err)
	}
	if n, _ := v.Replica().MarkExposedWhere(staging, "carol no longer holds app/staging", at); n != 0 {
		t.Fatalf("the same reason twice counted %d", n)
	}
	if e := exposed("app/staging/DB"); e == nil || e.Reason != "bob no longer holds app/staging; carol no longer holds app/staging" || !e.At.Equal(at) {
		t.Fatalf("exposure = %+v", e)
	}
	if exposed("app/prod/DB") != nil {
		t.Fatal("a secret outside the scope was marked")
	}
	if n, err := v.Replica().ClearExposureWhere(staging, "bob no longer holds app/staging"); err != nil || n != 0 {
		t.Fatalf("clear bob: %d, %v", n, err)
	}
	if e := exposed("app/staging/DB"); e == nil || e.Reason != "carol no longer holds app/staging" {
		t.Fatalf("after clearing bob: %+v", e)
	}
	if n, err := v.Replica().ClearExposureWhere(staging, "carol no longer holds app/staging"); err != nil || n != 1 {
		t.Fatalf("clear carol: %d, %v", n, err)
	}
	if e := exposed("app/staging/DB"); e != nil {
		t.Fatalf("still exposed: %+v", e)
	}
}
