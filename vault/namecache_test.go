package vault

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"
)

// Names comes from the sealed cache when the vault has not changed, and
// from the vault again when it has; the cache shows no name.
func TestNamesCache(t *testing.T) {
	v := newVault(t)
	for _, n := range []string{"app/prod/DB_PASSWORD", "app/dev/API_KEY"} {
		if _, err := v.Set(n, []byte("x"), Update{}); err != nil {
			t.Fatal(err)
		}
	}
	names, err := v.Names()
	if err != nil || !slices.Equal(names, []string{"app/dev/API_KEY", "app/prod/DB_PASSWORD"}) {
		t.Fatalf("Names = %q, %v", names, err)
	}
	path := NameCachePath(v.Path())
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no cache written: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("cache mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	if bytes.Contains(b, []byte("DB_PASSWORD")) || bytes.Contains(b, []byte("app/")) {
		t.Error("the cache holds a name in plaintext")
	}
	// Every change is seen: set, rename, remove, rollback.
	check := func(step string, want ...string) {
		t.Helper()
		got, err := v.Names()
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("after %s: Names = %q, %v; want %q", step, got, err, want)
		}
	}
	v.Set("app/prod/NEW", []byte("y"), Update{})
	check("set", "app/dev/API_KEY", "app/prod/DB_PASSWORD", "app/prod/NEW")
	v.Move("app/prod/NEW", "app/prod/RENAMED")
	check("mv", "app/dev/API_KEY", "app/prod/DB_PASSWORD", "app/prod/RENAMED")
	v.Remove("app/prod/RENAMED")
	check("rm", "app/dev/API_KEY", "app/prod/DB_PASSWORD")
	v.Rollback("app/prod/RENAMED", 2)
	check("rollback", "app/dev/API_KEY", "app/prod/DB_PASSWORD", "app/prod/RENAMED")
	// A damaged cache is rebuilt, not believed.
	b, _ = os.ReadFile(path)
	b[len(b)-1] ^= 1
	os.WriteFile(path, b, 0o600)
	check("damage", "app/dev/API_KEY", "app/prod/DB_PASSWORD", "app/prod/RENAMED")
	// A purged name does not stay in the cache.
	if err := v.Purge("app/prod/RENAMED"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("purge left the name cache: %v", err)
	}
	check("purge", "app/dev/API_KEY", "app/prod/DB_PASSWORD")
	v.Lock()
	if _, err := v.Names(); err == nil {
		t.Error("Names on a locked vault")
	}
}

// BenchmarkCompletion is what `hush __complete get app/f00` costs past
// process start: open the vault, unlock with a remembered key, the names
// from a current cache, and the filter by prefix. Goal: under 50 ms at
// 100,000 names.
func BenchmarkCompletion(b *testing.B) {
	runSizes(b, func(b *testing.B, f *benchFixture) {
		v := f.open(b)
		if _, err := v.Names(); err != nil { // the first one builds the cache
			b.Fatal(err)
		}
		v.Close()
		for b.Loop() {
			v, err := Open(f.path)
			if err != nil {
				b.Fatal(err)
			}
			if err := v.UnlockWithKey(f.key); err != nil {
				b.Fatal(err)
			}
			names, err := v.Names()
			if err != nil || len(names) != f.n {
				b.Fatalf("Names: %d, %v", len(names), err)
			}
			n := 0
			for _, name := range names {
				if strings.HasPrefix(name, "app/f00") {
					n++
				}
			}
			v.Close()
		}
		b.ReportMetric(float64(f.n), "secrets")
	})
}

// FuzzNameCache feeds any bytes as the cache file: Names never panics and
// never returns names the vault does not hold (a forged cache does not
// open, and the vault is read instead).
func FuzzNameCache(f *testing.F) {
	v := newVault(f)
	v.Set("app/KEY", []byte("x"), Update{})
	if _, err := v.Names(); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(NameCachePath(v.Path()))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(nameCacheMagic))
	f.Add(append([]byte(nameCacheMagic), make([]byte, 48)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(NameCachePath(v.Path()), b, 0o600); err != nil {
			t.Fatal(err)
		}
		names, err := v.Names()
		if err != nil || !slices.Equal(names, []string{"app/KEY"}) {
			t.Fatalf("Names = %q, %v", names, err)
		}
	})
}
