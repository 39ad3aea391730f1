package addrfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const url = "http://127.0.0.1:8200"

// only checks that dir holds exactly the files names (no temp file left).
func only(t *testing.T, dir string, names ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
	for i := range names {
		if got[i] != names[i] {
			t.Fatalf("%s holds %v, want %v", dir, got, names)
		}
	}
}

// wantAddr checks that path is a regular file of its own holding url,
// readable by its owner only.
func wantAddr(t *testing.T, path string) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Mode().IsRegular() {
		t.Fatalf("%s is %v, want a regular file", path, st.Mode())
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, st.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); string(b) != url+"\n" {
		t.Fatalf("%s holds %q", path, b)
	}
}

// A symbolic link planted at the path (attack18 F6) is refused: the file
// it points to keeps its content, a dangling one's target is not
// created, and the link stays as it was.
func TestWriteRefusesPlantedSymlink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := filepath.Join(dir, "addr")
	if err := os.Symlink(victim, addr); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	dangling := filepath.Join(dir, "dangling")
	if err := os.Symlink(filepath.Join(dir, "created"), dangling); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{addr, dangling} {
		err := Write(p, url)
		if !errors.Is(err, ErrNotFile) || !strings.Contains(err.Error(), p+" is a symbolic link: hush does not write through one") {
			t.Fatalf("write through a link: %v", err)
		}
		if st, err := os.Lstat(p); err != nil || st.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("the link at %s was replaced", p)
		}
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the link's target now holds %q", b)
	}
	only(t, dir, "addr", "dangling", "victim")
}

// A symbolic link planted after the check (a race another user could
// win) is replaced by the rename, not followed.
func TestWriteReplacesSymlinkPlantedAfterCheck(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := filepath.Join(dir, "addr")
	checked = func() {
		if err := os.Symlink(victim, addr); err != nil {
			t.Skipf("no symbolic links here: %v", err)
		}
	}
	t.Cleanup(func() { checked = func() {} })
	if err := Write(addr, url); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the link's target now holds %q", b)
	}
	wantAddr(t, addr)
	only(t, dir, "addr", "victim")
}

// A hard link planted at the path is replaced too: its other name keeps
// its content.
func TestWriteReplacesPlantedHardLink(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := filepath.Join(dir, "addr")
	if err := os.Link(victim, addr); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := Write(addr, url); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious" {
		t.Fatalf("the other name now holds %q", b)
	}
	wantAddr(t, addr)
}

// A new path, and an existing file readable by others, end as the owner's
// file alone; a folder at the path, or a path in a missing folder, is an
// error that leaves nothing behind.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	addr := filepath.Join(dir, "addr")
	if err := Write(addr, url); err != nil {
		t.Fatal(err)
	}
	wantAddr(t, addr)
	if err := os.Chmod(addr, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(addr, url); err != nil {
		t.Fatal(err)
	}
	wantAddr(t, addr)

	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Write(sub, url); !errors.Is(err, ErrNotFile) {
		t.Fatalf("a folder at the path: %v", err)
	}
	if err := Write(filepath.Join(dir, "missing", "addr"), url); err == nil {
		t.Fatal("a path in a missing folder was written")
	}
	only(t, dir, "addr", "sub")
}
