package listing

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func testVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "l.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestListingHidesRevokedUnlessAskedAndNamesRotation(t *testing.T) {
	v := testVault(t)
	for _, n := range []string{"app/A", "app/B", "other/C"} {
		if _, err := v.Set(n, []byte("v"), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Revoke("app/B", "leaked"); err != nil {
		t.Fatal(err)
	}
	if err := v.SetPolicy("app", 90*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	l, err := Read(v, "app", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Entries) != 1 || l.Entries[0].Name != "app/A" || l.Empty() || !l.Rotates() || l.Err != nil {
		t.Fatalf("listing = %+v", l)
	}
	if w := RotationWords(l.Entries[0].RotateEvery, l.Entries[0].RotateFrom); w != "every 90d (from app)" {
		t.Errorf("RotationWords = %q", w)
	}
	b, err := json.Marshal(l.Rows(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `[{"created":"`) || !strings.Contains(string(b), `"flags":[],"name":"app/A","rotate_every":"90d","rotate_every_from":"app","tags":[],"type":"other","updated":"`) {
		t.Errorf("rows = %s", b)
	}
	if l, err = Read(v, "app", true); err != nil || len(l.Entries) != 2 {
		t.Fatalf("with revoked: %+v, %v", l, err)
	}
	if l, err = Read(v, "none", false); err != nil || !l.Empty() {
		t.Fatalf("an empty folder: %+v, %v", l, err)
	}
}

func TestSecretRowCarriesTheValueWithoutLosingBytes(t *testing.T) {
	v := testVault(t)
	if _, err := v.Set("bin/KEY", []byte{0xff, 0x00, 0x01}, vault.Update{}); err != nil {
		t.Fatal(err)
	}
	s, conflict, err := Get(v, "bin/KEY", 0)
	if err != nil || conflict {
		t.Fatalf("Get = %v, %v", conflict, err)
	}
	row, err := Secret(v, s, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(row)
	if !strings.Contains(string(b), `"value_base64":"/wAB"`) || strings.Contains(string(b), `"value":`) {
		t.Errorf("row = %s", b)
	}
	if _, _, err := Get(v, "bin/NONE", 0); err == nil {
		t.Error("Get of a missing secret succeeded")
	}
}

func TestDueListsAFolderOrTheVaultSoonestFirst(t *testing.T) {
	v := testVault(t)
	now := time.Now()
	soon, later := now.Add(24*time.Hour), now.Add(72*time.Hour)
	for _, s := range []struct {
		name    string
		expires time.Time
	}{{"other/B", soon}, {"app/A", later}, {"app/NEVER", time.Time{}}} {
		u := vault.Update{}
		if !s.expires.IsZero() {
			u.Expires = &s.expires
		}
		if _, err := v.Set(s.name, []byte("v"), u); err != nil {
			t.Fatal(err)
		}
	}
	names := func(folder string) string {
		items, err := Due(v, folder, now, 7*24*time.Hour, vault.CertificateWarning)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, it := range items {
			out = append(out, it.Name)
		}
		return strings.Join(out, " ")
	}
	if got := names(""); got != "other/B app/A" {
		t.Errorf("the vault: %q", got)
	}
	if got := names("app"); got != "app/A" {
		t.Errorf("app: %q", got)
	}
}

func TestVerifyAuditCountsTheEntries(t *testing.T) {
	v := testVault(t)
	said, err := VerifyAudit(v)
	if err != nil || said != "audit log intact: no entries yet" {
		t.Fatalf("a new vault: %q, %v", said, err)
	}
	for _, action := range []string{"get", "set"} {
		if err := v.Record(action, []string{"app/A"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	said, err = VerifyAudit(v)
	if err != nil || !strings.HasPrefix(said, "audit log intact: 2 entries, ") {
		t.Fatalf("after two entries: %q, %v", said, err)
	}
}
