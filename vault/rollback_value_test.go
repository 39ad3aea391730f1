package vault

import (
	"testing"
	"time"
)

// Rolling back the value keeps what was set on the secret since: its
// rotation, tags, note and type.
func TestRollbackValueKeepsTodaysMetadata(t *testing.T) {
	v := newVault(t)
	summary := func(typ Type, value []byte) (string, time.Time, error) {
		return "about " + string(value), time.Time{}, nil
	}
	if _, err := v.Set("app/KEY", []byte("old"), Update{Describe: summary}); err != nil {
		t.Fatal(err)
	}
	every, note, tags := 30*24*time.Hour, "rotated by ops", []string{"prod", "billing"}
	if _, err := v.Set("app/KEY", []byte("new"), Update{RotateEvery: &every, Note: &note, Tags: &tags, Describe: summary}); err != nil {
		t.Fatal(err)
	}
	res, err := v.RollbackValue("app/KEY", 1)
	if err != nil || res.Version != 3 || !res.Changed {
		t.Fatalf("RollbackValue = %+v, %v", res, err)
	}
	s, err := v.Get("app/KEY")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Value) != "old" {
		t.Errorf("value %q, want the old one", s.Value)
	}
	if s.RotateEvery != every || s.Note != note || len(s.Tags) != 2 {
		t.Errorf("metadata lost: every %v note %q tags %v", s.RotateEvery, s.Note, s.Tags)
	}
	if s.Summary != "about old" {
		t.Errorf("summary %q, want the old value's", s.Summary)
	}
	// Restoring the value it already holds adds nothing.
	if res, err := v.RollbackValue("app/KEY", 1); err != nil || res.Changed || res.Version != 3 {
		t.Errorf("second RollbackValue = %+v, %v; want no new version", res, err)
	}
	// Rollback still brings the old metadata back (hush rollback --with-metadata).
	if _, err := v.Rollback("app/KEY", 1); err != nil {
		t.Fatal(err)
	}
	if s, _ := v.Get("app/KEY"); s.RotateEvery != 0 || s.Note != "" {
		t.Errorf("Rollback kept today's metadata: every %v note %q", s.RotateEvery, s.Note)
	}
}
