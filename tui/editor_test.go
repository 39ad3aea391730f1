package tui

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// scrub overwrites what the editor left (the value, a swap file) before
// removing it: a second link to a file, made beforehand, reads zeros after.
func TestScrubOverwritesBeforeRemoving(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir, err := privateEditDir()
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("private folder mode %v, %v", fi.Mode().Perm(), err)
	}
	keep := t.TempDir()
	for _, name := range []string{"value", ".value.swp"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("s3cr3t-"+name), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(p, filepath.Join(keep, name)); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
	}
	scrub(dir)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the folder is still there: %v", err)
	}
	for _, name := range []string{"value", ".value.swp"} {
		b, err := os.ReadFile(filepath.Join(keep, name))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 || bytes.Count(b, []byte{0}) != len(b) {
			t.Errorf("%s holds %q after scrub, want zeros", name, b)
		}
	}
}

// A runtime folder open to others is refused: nothing is written there.
func TestEditRefusesAnOpenRuntimeFolder(t *testing.T) {
	rt := t.TempDir()
	if err := os.Chmod(rt, 0o777); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XDG_RUNTIME_DIR", rt)
	if _, err := privateEditDir(); err == nil {
		t.Fatal("a world-writable runtime folder was accepted")
	}
	if es, _ := os.ReadDir(rt); len(es) != 0 {
		t.Errorf("something was written there: %v", es)
	}
}
