package vault

import (
	"slices"
	"testing"
	"time"
)

// TestRotationClock is ATTACK15's UX item: `hush edit --note` on an
// overdue secret cleared OVERDUE, though README says a new value (set,
// rotate) restarts the rotation clock, and an edit keeps the value. Now
// the clock runs from when the value was set, across versions that change
// only metadata (edit, set of the same value, revoke, rename, copy), and
// a new value restarts it.
func TestRotationClock(t *testing.T) {
	v := newVault(t)
	every := time.Hour
	if _, err := v.Set("app/K", []byte("v1"), Update{RotateEvery: &every}); err != nil {
		t.Fatal(err)
	}
	hist, _, err := v.History("app/K")
	if err != nil {
		t.Fatal(err)
	}
	set := hist[len(hist)-1].Created
	wantClock := func(name string, start time.Time, what string) {
		t.Helper()
		e := entry(t, v, name)
		if got := e.RotationStart(e.Updated); !got.Equal(start) {
			t.Fatalf("%s: the rotation clock starts at %v, want %v (the value's set); the last version is of %v", what, got, start, e.Updated)
		}
		if !e.RotationDue(e.Updated, start.Add(every)) || !slices.Contains(Attention(e.Meta, e.Updated, start.Add(every)), MarkRotationDue) {
			t.Fatalf("%s: not due an hour after the value was set", what)
		}
		due := Due([]Entry{e}, start.Add(every), 0, 0)
		if len(due) != 1 || !due[0].When.Equal(start.Add(every)) || !due[0].Overdue {
			t.Fatalf("%s: Due = %+v, want the rotation overdue since %v", what, due, start.Add(every))
		}
	}
	note := "a note"
	if _, err := v.Edit("app/K", Update{Note: &note}); err != nil {
		t.Fatal(err)
	}
	wantClock("app/K", set, "after edit --note")
	note2 := "another"
	if _, err := v.Set("app/K", []byte("v1"), Update{Note: &note2}); err != nil {
		t.Fatal(err)
	}
	wantClock("app/K", set, "after set of the same value with a note")
	if _, err := v.Move("app/K", "app/K2"); err != nil {
		t.Fatal(err)
	}
	wantClock("app/K2", set, "after mv")
	if _, err := v.Copy("app/K2", "app/K3"); err != nil {
		t.Fatal(err)
	}
	wantClock("app/K3", set, "the copy")

	// A new value restarts it.
	if _, err := v.Set("app/K2", []byte("v2"), Update{}); err != nil {
		t.Fatal(err)
	}
	e := entry(t, v, "app/K2")
	if !e.RotationStart(e.Updated).Equal(e.Updated) || e.RotationDue(e.Updated, set.Add(every)) {
		t.Fatalf("a new value did not restart the clock: starts %v, updated %v", e.RotationStart(e.Updated), e.Updated)
	}
	// And an edit after it keeps the new start.
	if _, err := v.Edit("app/K2", Update{Note: &note}); err != nil {
		t.Fatal(err)
	}
	wantClock("app/K2", e.Updated, "an edit after the new value")
}

func entry(t *testing.T, v *Vault, name string) Entry {
	t.Helper()
	es, err := v.List("")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Name == name {
			return e
		}
	}
	t.Fatalf("%s not listed", name)
	return Entry{}
}
