package vault

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRowStateEdits is issue 15's fourth item: each edit of a secret's
// bookkeeping in the SQLite file gives "vault data failed authentication"
// instead of changing what hush serves.
func TestRowStateEdits(t *testing.T) {
	setup := func(t *testing.T) *Vault {
		v := newVault(t)
		mustSet(t, v, "app/prod/TOKEN", "leaked")
		if _, err := v.Revoke("app/prod/TOKEN", "posted in chat"); err != nil {
			t.Fatal(err)
		}
		mustSet(t, v, "app/prod/DB", "db-value")
		mustSet(t, v, "app/prod/GONE", "removed-value")
		if err := v.Remove("app/prod/GONE"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Set("app/prod/KEY", []byte("k"), Update{RotateEvery: ptr(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name string
		edit func(v *Vault) string
		read func(v *Vault) error
	}{
		{"head moved back revives a revoked value", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/TOKEN", `head = 1`)
		}, func(v *Vault) error { _, err := v.Get("app/prod/TOKEN"); return err }},
		{"head moved back, listing", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/TOKEN", `head = 1`)
		}, func(v *Vault) error { _, err := v.List(""); return err }},
		{"deleted cleared revives a removed secret", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/GONE", `deleted = NULL`)
		}, func(v *Vault) error { _, err := v.Get("app/prod/GONE"); return err }},
		{"deleted cleared, listing", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/GONE", `deleted = NULL`)
		}, func(v *Vault) error { _, err := v.Index(); return err }},
		{"folder_mac changed hides a revoked secret from export", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/TOKEN", `folder_mac = randomblob(32)`)
		}, func(v *Vault) error { _, err := v.Children("app/prod"); return err }},
		{"secrets.updated moved", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/KEY", `updated = updated + 23*3600*1000000000`)
		}, func(v *Vault) error { _, err := v.List(""); return err }},
		{"versions.created of the head moved", func(v *Vault) string {
			id := rowID(t, v, "app/prod/KEY")
			return tamperFile(t, v, `UPDATE versions SET created = created + 23*3600*1000000000 WHERE secret_id = x'`+id+`'`)
		}, func(v *Vault) error { _, err := v.List(""); return err }},
		{"versions.created of the head moved, get", func(v *Vault) string {
			id := rowID(t, v, "app/prod/KEY")
			return tamperFile(t, v, `UPDATE versions SET created = created + 23*3600*1000000000 WHERE secret_id = x'`+id+`'`)
		}, func(v *Vault) error { _, err := v.Get("app/prod/KEY"); return err }},
		{"row MAC removed", func(v *Vault) string {
			return rowEdit(t, v, "app/prod/DB", `row_mac = NULL`)
		}, func(v *Vault) error { _, err := v.Get("app/prod/DB"); return err }},
		{"row MAC swapped with another secret's", func(v *Vault) string {
			db := rowID(t, v, "app/prod/DB")
			key := rowID(t, v, "app/prod/KEY")
			return tamperFile(t, v, `UPDATE secrets SET row_mac = (SELECT row_mac FROM secrets WHERE id = x'`+key+`') WHERE id = x'`+db+`'`)
		}, func(v *Vault) error { _, err := v.Get("app/prod/DB"); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := setup(t)
			path := tc.edit(v)
			v = reopenKey(t, path)
			wantTampered(t, tc.name, tc.read(v))
		})
	}
	t.Run("untouched", func(t *testing.T) {
		v := setup(t)
		if _, err := v.Children("app/prod"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Get("app/prod/TOKEN"); !errors.As(err, new(*RevokedError)) {
			t.Fatalf("the revoked secret: %v", err)
		}
	})
}

func ptr[T any](x T) *T { return &x }

// rowID is the hex id of a secret, for SQL.
func rowID(t *testing.T, v *Vault, name string) string {
	t.Helper()
	r, err := v.lookup(v.db, name)
	if err != nil {
		t.Fatal(err)
	}
	return idString(r.id)
}

// rowEdit changes columns of a secret's row in the file.
func rowEdit(t *testing.T, v *Vault, name, set string) string {
	t.Helper()
	return tamperFile(t, v, `UPDATE secrets SET `+set+` WHERE id = x'`+rowID(t, v, name)+`'`)
}

// TestRowMACUpgrade: a format 2 vault's rows get their MACs at the first
// unlock by passphrase; before, they are read as they are.
func TestRowMACUpgrade(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "k", "v")
	downgrade(t, v, 2)
	key, _ := v.Key()
	path := v.Path()
	v.Close()
	v, _ = Open(path)
	if err := v.UnlockWithKey(key); err != nil {
		t.Fatal(err)
	}
	if s, err := v.Get("k"); err != nil || string(s.Value) != "v" {
		t.Fatalf("a format 2 vault before its upgrade: %v", err)
	}
	v.Close()
	v = reopenKey(t, path)
	if v.hdr.format != Format {
		t.Fatalf("format %d after the upgrade", v.hdr.format)
	}
	path = rowEdit(t, v, "k", "row_mac = NULL")
	v = reopenKey(t, path)
	if _, err := v.Get("k"); !errors.Is(err, ErrTampered) {
		t.Fatalf("a removed row MAC after the upgrade: %v", err)
	}
}

// TestRowRestoredFromOlderCopy: a writer who puts a secret's whole row
// back from an older copy of the file (with its valid MAC), while the newer
// version rows stay, must not revive the revoked value: the current
// version is not the newest stored.
func TestRowRestoredFromOlderCopy(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/prod/TOKEN", "leaked")
	var head, created, updated int64
	var id, nameMAC, folderMAC, mac []byte
	if err := v.db.QueryRow(`SELECT id, head, created, updated, name_mac, folder_mac, row_mac FROM secrets`).
		Scan(&id, &head, &created, &updated, &nameMAC, &folderMAC, &mac); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Revoke("app/prod/TOKEN", "posted in chat"); err != nil {
		t.Fatal(err)
	}
	path := tamperFile(t, v, fmt.Sprintf(`UPDATE secrets SET head = %d, created = %d, updated = %d, deleted = NULL, name_mac = x'%x', folder_mac = x'%x', row_mac = x'%x' WHERE id = x'%x'`,
		head, created, updated, nameMAC, folderMAC, mac, id))
	v = reopenKey(t, path)
	s, err := v.Get("app/prod/TOKEN")
	if err == nil {
		t.Fatalf("the revoked value came back: %q", s.Value)
	}
	wantTampered(t, "get", err)
	_, err = v.Children("app/prod")
	wantTampered(t, "export", err)
	_, err = v.List("")
	wantTampered(t, "ls", err)
}

// TestPolicySetEdits: deleting, emptying or putting back a folder policy
// in the file changed `hush due` and `hush policy` silently; the set is
// authenticated now (record format 4).
func TestPolicySetEdits(t *testing.T) {
	setup := func(t *testing.T) (*Vault, []byte) {
		v := newVault(t)
		mustSet(t, v, "app/a/K", "k")
		if err := v.SetPolicy("app/a", 30*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		var older []byte
		if err := v.db.QueryRow(`SELECT policy FROM policies`).Scan(&older); err != nil {
			t.Fatal(err)
		}
		if err := v.SetPolicy("app/a", 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := v.SetPolicy("app/b", 90*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		return v, older
	}
	cases := map[string]func(v *Vault, older []byte) string{
		"one policy deleted": func(v *Vault, _ []byte) string {
			return tamperFile(t, v, `DELETE FROM policies WHERE rowid = (SELECT min(rowid) FROM policies)`)
		},
		"every policy and the set's record deleted": func(v *Vault, _ []byte) string {
			return tamperFile(t, v, `DELETE FROM policies; DELETE FROM policy_set`)
		},
		"a policy put back from an older copy": func(v *Vault, older []byte) string {
			return tamperFile(t, v, fmt.Sprintf(`UPDATE policies SET policy = x'%x' WHERE folder_mac = x'%x'`, older, v.folderMAC("app/a")))
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			v, older := setup(t)
			v = reopenKey(t, edit(v, older))
			_, err := v.Policies()
			wantTampered(t, "policy", err)
			_, err = v.ListWithPolicies("")
			wantTampered(t, "due", err)
			wantTampered(t, "policy set", v.SetPolicy("app/c", time.Hour))
		})
	}
	t.Run("untouched, and removing a policy", func(t *testing.T) {
		v, _ := setup(t)
		if err := v.SetPolicy("app/b", 0); err != nil {
			t.Fatal(err)
		}
		v = reopenKey(t, tamperFile(t, v, `SELECT 1`))
		ps, err := v.Policies()
		if err != nil || len(ps) != 1 || ps[0].RotateEvery != 7*24*time.Hour {
			t.Fatalf("policies: %v, %v", ps, err)
		}
	})
}

// TestRemovedRowPutBack: a removed secret's row put back from a copy taken
// before the removal (with its valid MAC) is one live secret more than its
// folder's authenticated count: get and ls refuse it (export already did).
func TestRemovedRowPutBack(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/prod/GONE", "removed-value")
	mustSet(t, v, "app/prod/OTHER", "o")
	id := rowID(t, v, "app/prod/GONE")
	var head, created, updated int64
	var nameMAC, folderMAC, mac []byte
	if err := v.db.QueryRow(`SELECT head, created, updated, name_mac, folder_mac, row_mac FROM secrets WHERE id = x'`+id+`'`).
		Scan(&head, &created, &updated, &nameMAC, &folderMAC, &mac); err != nil {
		t.Fatal(err)
	}
	if err := v.Remove("app/prod/GONE"); err != nil {
		t.Fatal(err)
	}
	path := tamperFile(t, v, fmt.Sprintf(`UPDATE secrets SET head = %d, created = %d, updated = %d, deleted = NULL, name_mac = x'%x', folder_mac = x'%x', row_mac = x'%x' WHERE id = x'%s'`,
		head, created, updated, nameMAC, folderMAC, mac, id))
	v = reopenKey(t, path)
	s, err := v.Get("app/prod/GONE")
	if err == nil {
		t.Fatalf("the removed secret came back: %q", s.Value)
	}
	wantTampered(t, "get", err)
	_, err = v.List("")
	wantTampered(t, "ls", err)
	_, err = v.Children("app/prod")
	wantTampered(t, "export", err)
}
