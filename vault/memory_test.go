package vault

import (
	"os"
	"testing"
)

// A memory vault works like a file vault (secrets, the audit log, names)
// and creates no file anywhere: not in the working folder, not in HOME.
func TestMemoryVaultWritesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("HOME", dir)
	v, err := CreateMemory()
	if err != nil {
		t.Fatal(err)
	}
	if !v.Memory() || v.Path() != "" {
		t.Fatalf("Memory %v, Path %q", v.Memory(), v.Path())
	}
	if _, err := v.Set("app/prod/TOKEN", []byte("s3cret"), Update{}); err != nil {
		t.Fatal(err)
	}
	v.IntendRead("get", []string{"app/prod/TOKEN"})
	s, err := v.Get("app/prod/TOKEN")
	if err != nil || string(s.Value) != "s3cret" {
		t.Fatalf("get: %v", err)
	}
	if err := v.Record("get", []string{"app/prod/TOKEN"}, nil); err != nil {
		t.Fatal(err)
	}
	if es, err := v.Audit(); err != nil || len(es) == 0 {
		t.Fatalf("audit: %v, %d entries", err, len(es))
	}
	if ns, err := v.Names(); err != nil || len(ns) != 1 {
		t.Fatalf("names: %v %v", err, ns)
	}
	if err := v.PurgeMany([]string{"app/prod/TOKEN"}); err != nil {
		t.Fatal(err)
	}
	// A second memory vault is another database.
	w, err := CreateMemory()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Get("app/prod/TOKEN"); err == nil {
		t.Fatal("a second memory vault sees the first one's secrets")
	}
	w.Close()
	v.Close()
	if es, _ := os.ReadDir(dir); len(es) > 0 {
		t.Fatalf("a memory vault created %v", es)
	}
}
