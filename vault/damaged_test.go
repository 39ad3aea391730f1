package vault

import (
	"errors"
	"testing"
)

// A secret whose current version is gone (its head moved past its last
// version, as a damaged file or an edit does) is never left out of a
// folder read quietly: List returns the others and names it, Children and
// Index fail naming it, and Purge can remove what is left of it.
func TestDamagedSecretNeverLeftOut(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/K1", "value-one")
	mustSet(t, v, "app/K2", "value-two")
	mustSet(t, v, "other/K3", "value-three")
	v = tamper(t, v, `UPDATE secrets SET head = head + 5 WHERE rowid = (SELECT min(rowid) FROM secrets)`)
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}

	var d *DamagedSecretsError
	entries, err := v.List("app")
	if !errors.As(err, &d) || !errors.Is(err, ErrTampered) {
		t.Fatalf("List: err = %v, want a *DamagedSecretsError", err)
	}
	if len(d.Secrets) != 1 || d.Secrets[0].Name != "app/K1" || d.Secrets[0].Why != "its current version 6 is missing" {
		t.Fatalf("List: damaged = %+v, want app/K1 with its version 6 missing", d.Secrets)
	}
	if len(entries) != 1 || entries[0].Name != "app/K2" {
		t.Fatalf("List: entries = %+v, want app/K2 beside the error", entries)
	}
	// Another folder is not affected.
	if entries, err := v.List("other"); err != nil || len(entries) != 1 {
		t.Fatalf("List(other) = %v, %v", entries, err)
	}
	if _, err := v.Children("app"); !errors.As(err, &d) || d.Secrets[0].Name != "app/K1" {
		t.Fatalf("Children: err = %v, want app/K1 named as damaged", err)
	}
	if _, err := v.Index(); !errors.As(err, &d) || d.Secrets[0].Name != "app/K1" {
		t.Fatalf("Index: err = %v, want app/K1 named as damaged", err)
	}
	if err := v.Purge("app/K1"); err != nil {
		t.Fatalf("Purge of the damaged secret: %v", err)
	}
	if s, err := v.Children("app"); err != nil || len(s) != 1 {
		t.Fatalf("after the purge, Children = %v, %v", s, err)
	}
}

// With every version of a secret gone, it is named by its id.
func TestDamagedSecretWithoutVersions(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/K1", "value-one")
	v = tamper(t, v, `DELETE FROM versions`)
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	var d *DamagedSecretsError
	if _, err := v.List(""); !errors.As(err, &d) || len(d.Secrets) != 1 || d.Secrets[0].Name[:19] != "the secret with id " {
		t.Fatalf("List: err = %v, want the secret named by its id", err)
	}
}
