package change

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/rotate"
)

func newVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "c.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// must is a change's words, failing t when it failed.
func must(t *testing.T) func(string, error) string {
	return func(said string, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return said
	}
}

func TestEachChangeSaysWhatItDid(t *testing.T) {
	v, must := newVault(t), must(t)
	note := "primary"
	for _, c := range []struct{ got, want string }{
		{must(Set(v, "app/KEY", []byte("v1"), vault.Update{})), "created app/KEY"},
		{must(Set(v, "app/KEY", []byte("v1"), vault.Update{})), "app/KEY unchanged (version 1)"},
		{must(Set(v, "app/KEY", []byte("v2"), vault.Update{})), "updated app/KEY (version 2)"},
		{must(Edit(v, "app/KEY", vault.Update{Note: &note})), "edited app/KEY (version 3, same value)"},
		{must(Edit(v, "app/KEY", vault.Update{Note: &note})), "app/KEY unchanged (version 3): it already has that"},
		{must(Rollback(v, "app/KEY", 1, false)), "restored the value of version 1 as version 4"},
		{must(Rollback(v, "app/KEY", 1, false)), "app/KEY already holds the value of version 1 (version 4): nothing restored"},
		{must(Rollback(v, "app/KEY", 2, true)), "restored version 2 with its metadata as version 5"},
		{must(Rotate(v, "app/KEY", rotate.Options{Generate: true})), "rotated app/KEY (version 6)"},
	} {
		if c.got != c.want {
			t.Errorf("said %q, want %q", c.got, c.want)
		}
	}
	if _, err := Rollback(v, "app/KEY", 6, false); !usage.Is(err) || !strings.Contains(err.Error(), "is the current one") {
		t.Errorf("rollback to the current version: %v", err)
	}
	if _, err := Rotate(v, "app/KEY", rotate.Options{}); !usage.Is(err) || !strings.Contains(err.Error(), "has no rotator: give --generate") {
		t.Errorf("rotate without a rotator: %v", err)
	}
	if _, err := Edit(v, "app/KYE", vault.Update{Note: &note}); err == nil || !strings.HasSuffix(err.Error(), "; did you mean app/KEY?") {
		t.Errorf("edit of a misspelt name: %v", err)
	}
}

func TestRemoveKeepsHistoryUnlessPurged(t *testing.T) {
	v, must := newVault(t), must(t)
	for _, n := range []string{"a/X", "a/Y", "a/Z"} {
		must(Set(v, n, []byte("v"), vault.Update{}))
	}
	var told []string
	tell := func(s string) { told = append(told, s) }
	if err := Remove(v, []string{"a/X"}, false, tell); err != nil {
		t.Fatal(err)
	}
	if err := Remove(v, []string{"a/Y", "a/NONE"}, true, tell); err == nil {
		t.Fatal("purged a name that does not exist")
	}
	if _, err := v.Get("a/Y"); err != nil {
		t.Fatalf("a refused purge removed a/Y: %v", err)
	}
	if err := Remove(v, []string{"a/Y", "a/Z"}, true, tell); err != nil {
		t.Fatal(err)
	}
	want := "removed a/X (history kept: `hush rm --purge a/X` deletes it for good)\npurged a/Y and its history\npurged a/Z and its history"
	if strings.Join(told, "\n") != want {
		t.Fatalf("told:\n%s", strings.Join(told, "\n"))
	}
	if hist, _, err := v.History("a/X"); err != nil || len(hist) != 1 {
		t.Fatalf("a/X's history after rm: %v, %v", hist, err)
	}
}
