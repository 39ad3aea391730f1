package vault

import (
	"errors"
	"testing"
	"time"
)

// Edit changes metadata only: the value stays, a version is added, a
// revocation stays, and a missing name is not created.
func TestEditKeepsTheValue(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("app/KEY", []byte("v1"), Update{}); err != nil {
		t.Fatal(err)
	}
	every, note := 30*24*time.Hour, "billing"
	res, err := v.Edit("app/KEY", Update{RotateEvery: &every, Note: &note})
	if err != nil || !res.Changed || res.Version != 2 {
		t.Fatalf("Edit = %+v, %v", res, err)
	}
	s, err := v.Get("app/KEY")
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Value) != "v1" || s.RotateEvery != every || s.Note != note {
		t.Errorf("after Edit: value %q every %v note %q", s.Value, s.RotateEvery, s.Note)
	}
	if res, err := v.Edit("app/KEY", Update{Note: &note}); err != nil || res.Changed {
		t.Errorf("same note again = %+v, %v; want no new version", res, err)
	}
	if _, err := v.Edit("app/KYE", Update{Note: &note}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Edit of a missing name = %v, want ErrNotFound", err)
	}
	if _, err := v.Revoke("app/KEY", "leaked"); err != nil {
		t.Fatal(err)
	}
	other := "still leaked"
	if _, err := v.Edit("app/KEY", Update{Note: &other}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get("app/KEY"); err == nil {
		t.Error("an edit un-revoked the secret")
	}
	// A type change describes the value again and can refuse it.
	cert := TypeCertificate
	refuse := func(Type, []byte) (string, time.Time, error) { return "", time.Time{}, errors.New("not a PEM") }
	if _, err := v.Set("app/TXT", []byte("text"), Update{}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Edit("app/TXT", Update{Type: &cert, Describe: refuse}); err == nil {
		t.Error("a text value became a certificate")
	}
}

func TestSetExistingNeverCreates(t *testing.T) {
	v := newVault(t)
	_, err := v.SetMany([]SetRequest{{Name: "app/NEW", Value: []byte("x"), Existing: true}}, time.Time{})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetMany Existing on a missing name = %v", err)
	}
	if n, _ := v.Count(); n != 0 {
		t.Errorf("%d secrets, want none", n)
	}
}

func TestRollbackToTheCurrentVersionIsRefused(t *testing.T) {
	v := newVault(t)
	v.Set("app/KEY", []byte("a"), Update{})
	v.Set("app/KEY", []byte("b"), Update{})
	for _, rb := range []func(string, int) (SetResult, error){v.Rollback, v.RollbackValue} {
		if _, err := rb("app/KEY", 2); !errors.Is(err, ErrCurrentVersion) {
			t.Errorf("rollback to the current version = %v", err)
		}
	}
	// A removed secret comes back from its last version.
	if err := v.Remove("app/KEY"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Rollback("app/KEY", 2); err != nil {
		t.Errorf("restoring a removed secret: %v", err)
	}
}

func TestClosest(t *testing.T) {
	v := newVault(t)
	for _, n := range []string{"app/prod/DB_PASSWORD", "app/prod/API_KEY", "ab"} {
		v.Set(n, []byte("x"), Update{})
	}
	for in, want := range map[string]string{
		"app/prod/DB_PASSWROD": "app/prod/DB_PASSWORD",
		"app/prd/API_KEY":      "app/prod/API_KEY",
		"app/dev/OTHER":        "",
		"ax":                   "ab",
		"xy":                   "",
	} {
		if got, err := v.Closest(in); err != nil || got != want {
			t.Errorf("Closest(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
