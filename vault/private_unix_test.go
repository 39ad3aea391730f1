//go:build unix

package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/otheruser"
)

func otherUser(t *testing.T) (string, int)     { return otheruser.Get(t) }
func asOther(t *testing.T, who, script string) { otheruser.Run(t, who, script) }
func sharedBase(t *testing.T) string           { return otheruser.SharedDir(t) }

func wantUnsafe(t *testing.T, err error, path, says string) {
	t.Helper()
	var ue *UnsafePathError
	var pe *PermissionError
	switch {
	case errors.As(err, &ue):
		if ue.Path != path || !strings.Contains(err.Error(), says) {
			t.Fatalf("err = %v, want one naming %s and saying %q", err, path, says)
		}
	case errors.As(err, &pe):
		if pe.Path != path || !strings.Contains(err.Error(), says) {
			t.Fatalf("err = %v, want one naming %s and saying %q", err, path, says)
		}
	default:
		t.Fatalf("err = %v, want a refusal naming %s", err, path)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("the refusal is more than one line: %q", err)
	}
}

// TestHostileFolder is issue 15's first item: another user prepares the
// folders or files a victim's vault will use; hush refuses before it
// opens anything, naming the path and the fix.
func TestHostileFolder(t *testing.T) {
	who, uid := otherUser(t)
	ownedBy := "owned by uid " + strconv.Itoa(uid)

	t.Run("home made by another user", func(t *testing.T) {
		home := filepath.Join(sharedBase(t), "hush")
		asOther(t, who, "mkdir -m 700 "+home)
		_, err := Create(filepath.Join(home, "vaults", "default.db"), testPass, CreateOptions{KDF: crypto.FloorKDF})
		if err == nil || !errors.Is(err, ErrUnsafePath) {
			// MkdirAll fails first when the other user's 0700 folder
			// cannot be entered; make it enterable to reach the check.
			asOther(t, who, "chmod 755 "+home)
			_, err = Create(filepath.Join(home, "vaults", "default.db"), testPass, CreateOptions{KDF: crypto.FloorKDF})
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Fatalf("Create in another user's folder: %v", err)
		}
		wantUnsafe(t, err, home, ownedBy)
	})

	t.Run("world-writable vaults folder with a planted -wal", func(t *testing.T) {
		// The attack: HUSH_HOME=/tmp/hush, the attacker was first.
		home := filepath.Join(sharedBase(t), "hush")
		if err := os.Mkdir(home, 0o700); err != nil {
			t.Fatal(err)
		}
		os.Chmod(home, 0o777) // a mis-set folder the victim made
		vaults := filepath.Join(home, "vaults")
		asOther(t, who, "mkdir -m 777 "+vaults+" && : > "+vaults+"/default.db-wal && chmod 666 "+vaults+"/default.db-wal")
		path := filepath.Join(vaults, "default.db")
		_, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
		wantUnsafe(t, err, home, "chmod 700 "+home)
		os.Chmod(home, 0o700)
		_, err = Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
		wantUnsafe(t, err, vaults, ownedBy)
		if _, err := os.Stat(path); err == nil {
			t.Fatal("a vault file was created in the attacker's folder")
		}
	})

	// The victim's own folders, where the attacker planted files while
	// the vaults folder was open (it is closed again before hush runs).
	planted := []struct {
		name  string
		plant func(vaults, path string) string // returns the planted file
	}{
		{"-wal", func(_, p string) string { return p + "-wal" }},
		{"-shm", func(_, p string) string { return p + "-shm" }},
		{"audit log", func(_, p string) string { return AuditPath(p) }},
		{"sync lock", func(_, p string) string { return p + ".sync.lock" }},
	}
	for _, pc := range planted {
		t.Run("another user's "+pc.name, func(t *testing.T) {
			home := filepath.Join(sharedBase(t), "hush")
			path := filepath.Join(home, "vaults", "test.db")
			v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
			if err != nil {
				t.Fatal(err)
			}
			v.Close()
			vaults := filepath.Dir(path)
			f := pc.plant(vaults, path)
			os.Remove(f)
			os.Chmod(home, 0o755)
			os.Chmod(vaults, 0o777)
			asOther(t, who, ": > "+f+" && chmod 600 "+f)
			os.Chmod(vaults, 0o700)
			_, err = Open(path)
			wantUnsafe(t, err, f, ownedBy)
		})
	}

	t.Run("links", func(t *testing.T) {
		for _, name := range []string{"-wal", "audit", "vault"} {
			v := newVault(t)
			path := v.Path()
			v.Close()
			target := filepath.Join(t.TempDir(), "elsewhere")
			link := map[string]string{"-wal": path + "-wal", "audit": AuditPath(path), "vault": path}[name]
			if name == "vault" {
				os.Rename(path, target)
			} else {
				os.Remove(link)
			}
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			wantUnsafe(t, err, link, "symbolic link")
			if name != "vault" {
				if _, err := os.Lstat(target); err == nil {
					t.Fatalf("%s: hush created the file the link points at", name)
				}
			}
		}
		// Opened through the guard, a link is refused even if it appears
		// after the check.
		dir := t.TempDir()
		os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "lock"))
		_, err := OpenPrivate(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
		wantUnsafe(t, err, filepath.Join(dir, "lock"), "symbolic link")
		if _, err := os.Lstat(filepath.Join(dir, "target")); err == nil {
			t.Fatal("OpenPrivate created the file a link points at")
		}
	})

	t.Run("group-writable files and folders", func(t *testing.T) {
		v := newVault(t)
		path := v.Path()
		if err := v.Record("get", []string{"x"}, nil); err != nil {
			t.Fatal(err)
		}
		v.Close()
		for _, f := range []string{path + "-shm", AuditPath(path)} {
			os.Chmod(f, 0o620)
			_, err := Open(path)
			wantUnsafe(t, err, f, "chmod 600 "+f)
			os.Chmod(f, 0o600)
		}
		vaults := filepath.Dir(path)
		os.Chmod(vaults, 0o770)
		_, err := Open(path)
		wantUnsafe(t, err, vaults, "chmod 700 "+vaults)
		os.Chmod(vaults, 0o700)
		if v, err := Open(path); err != nil {
			t.Fatalf("the repaired vault does not open: %v", err)
		} else {
			v.Close()
		}
	})
}

// TestFoldersAboveHome: a folder above HUSH_HOME that others can write
// and that is not sticky (a root-owned 0777 /tmp/ww2 above
// HUSH_HOME=/tmp/ww2/hush) lets them swap HUSH_HOME for a folder of their
// own between hush's checks and its opens: hush refuses it, naming it; a
// sticky one (as /tmp is) is fine. Needs no second user.
func TestFoldersAboveHome(t *testing.T) {
	above := filepath.Join(t.TempDir(), "ww2")
	if err := os.Mkdir(above, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(above, "hush", "vaults", "default.db")
	v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if err := os.Chmod(above, 0o777); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	wantUnsafe(t, err, above, "writable by group or others and not sticky (mode 0777)")
	if _, err := Create(filepath.Join(above, "hush", "vaults", "other.db"), testPass, CreateOptions{KDF: crypto.FloorKDF}); !errors.Is(err, ErrUnsafePath) {
		t.Fatalf("Create under a non-sticky 0777 folder: %v", err)
	}
	if err := os.Chmod(above, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	v, err = Open(path)
	if err != nil {
		t.Fatalf("under a sticky folder: %v", err)
	}
	v.Close()
}

// TestStickyModeShown: a 1777 HUSH_HOME is refused (others can add files
// to it) and the message shows the mode as chmod would, 1777.
func TestStickyModeShown(t *testing.T) {
	home := filepath.Join(t.TempDir(), "hush")
	path := filepath.Join(home, "vaults", "default.db")
	v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if err := os.Chmod(home, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	wantUnsafe(t, err, home, "(mode 1777)")
}

// TestUnreadableFolderNamed: a vaults folder made by another user, 0700,
// cannot even be looked into by the victim; hush names the folder and its
// owner instead of a bare "lstat …: permission denied". The victim is the
// second user here (root made the folder), so the test binary runs again
// as that user.
func TestUnreadableFolderNamed(t *testing.T) {
	if path := os.Getenv("HUSH_TEST_OPEN_AS_OTHER"); path != "" {
		_, err := Open(path)
		os.Stdout.WriteString(fmt.Sprint(err))
		return
	}
	who, _ := otherUser(t)
	base := sharedBase(t)
	home := filepath.Join(base, "hush")
	vaults := filepath.Join(home, "vaults")
	if err := os.MkdirAll(vaults, 0o700); err != nil {
		t.Fatal(err)
	}
	asOther(t, who, "true") // the user exists
	if out, err := exec.Command("chown", who, home).CombinedOutput(); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	// vaults stays root's, 0700: the victim cannot look inside.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "vault.test")
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("runuser", "-u", who, "--", bin, "-test.run=^TestUnreadableFolderNamed$")
	cmd.Env = append(os.Environ(), "HUSH_TEST_OPEN_AS_OTHER="+filepath.Join(vaults, "default.db"))
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), vaults+" is owned by uid 0, not by you") {
		t.Fatalf("opening a vault in another user's unreadable folder: %s", out)
	}
}

// TestLinkAboveHome is ATTACK15's F5: HUSH_HOME=/tmp/f5-link/hush where
// /tmp/f5-link is a link another user owns in sticky /tmp. Its owner can
// re-point it at any time, also at another folder of the victim's, so
// hush refuses it, naming the link, its owner and the fix; nothing is
// created where it points.
func TestLinkAboveHome(t *testing.T) {
	who, uid := otherUser(t)
	base := sharedBase(t)
	real := t.TempDir() // the victim's own folder
	link := filepath.Join(base, "f5-link")
	asOther(t, who, "ln -s "+real+" "+link)
	path := filepath.Join(link, "hush", "vaults", "default.db")
	_, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
	wantUnsafe(t, err, link, "is a symbolic link owned by uid "+strconv.Itoa(uid))
	if _, err := os.Stat(filepath.Join(real, "hush")); err == nil {
		t.Fatal("Create made folders where the other user's link points")
	}
	// A vault made through the real folder, then asked for through the
	// link: refused too.
	v, err := Create(filepath.Join(real, "hush", "vaults", "default.db"), testPass, CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	_, err = Open(path)
	wantUnsafe(t, err, link, "set HUSH_HOME to a path without it")

	// A link deeper down, reached through a link of the victim's own
	// that points at a folder holding the other user's link.
	mid := filepath.Join(base, "mid")
	if err := os.Mkdir(mid, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(mid, 0o777|os.ModeSticky)
	inner := filepath.Join(mid, "inner")
	asOther(t, who, "ln -s "+real+" "+inner)
	mine := filepath.Join(base, "mine")
	if err := os.Symlink(mid, mine); err != nil {
		t.Fatal(err)
	}
	_, err = Open(filepath.Join(mine, "inner", "hush", "vaults", "default.db"))
	wantUnsafe(t, err, inner, "owned by uid "+strconv.Itoa(uid))
}

// TestLinkFlippedAfterCheck is F5's race: a link on the way to HUSH_HOME
// re-pointed between hush's checks and its opens. The link is the
// victim's own here (another user's is refused outright), re-pointed at
// the moment in between; the vault opened is still the one the checks
// saw, at its real path, because every open after the check uses that.
func TestLinkFlippedAfterCheck(t *testing.T) {
	base := t.TempDir()
	mk := func(dir string) *Vault {
		v, err := Create(filepath.Join(base, dir, "hush", "vaults", "default.db"), testPass, CreateOptions{KDF: crypto.FloorKDF})
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
		return v
	}
	a, b := mk("a"), mk("b")
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "a"), link); err != nil {
		t.Fatal(err)
	}
	afterCheck = func() {
		os.Remove(link)
		if err := os.Symlink(filepath.Join(base, "b"), link); err != nil {
			t.Error(err)
		}
	}
	defer func() { afterCheck = nil }()
	v, err := Open(filepath.Join(link, "hush", "vaults", "default.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if want := filepath.Join(base, "a", "hush", "vaults", "default.db"); v.Path() != want {
		t.Fatalf("Path() = %s, want the real path %s", v.Path(), want)
	}
	if !bytes.Equal(v.ID(), a.ID()) || bytes.Equal(v.ID(), b.ID()) {
		t.Fatal("the link re-pointed after the check redirected the open to the other vault")
	}
	if err := v.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	if err := v.Record("get", []string{"x"}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestHardLinkedFiles: a vault file or audit log with a second name (a
// hard link: a "backup" made with `cp -l` or `ln`, or one vault put under
// two names) is refused, naming the file and the fix: SQLite keeps a
// journal per name, so writes through both can damage it. Another user
// cannot make such a link here (the vaults folder is yours and 0700, and
// a file of theirs is refused by its owner), so no second user is needed.
func TestHardLinkedFiles(t *testing.T) {
	for _, which := range []string{"vault", "audit log"} {
		v := newVault(t)
		path := v.Path()
		if err := v.Record("get", []string{"x"}, nil); err != nil {
			t.Fatal(err)
		}
		v.Close()
		f := path
		if which == "audit log" {
			f = AuditPath(path)
		}
		other := filepath.Join(t.TempDir(), "backup.db")
		if err := os.Link(f, other); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		wantUnsafe(t, err, f, "has 2 names (hard links)")
		if !strings.Contains(err.Error(), "-samefile "+f) {
			t.Fatalf("%s: the refusal does not say how to find the other name: %v", which, err)
		}
		os.Remove(other)
		v, err = Open(path)
		if err != nil {
			t.Fatalf("%s: with its other name removed: %v", which, err)
		}
		v.Close()
	}
}

// TestFilesBesideChecked: the files hush keeps beside a vault besides
// those SQLite opens (docs/security.md names them). NAME.names, the
// completion cache, and NAME.list, the listing cache, are opened as the
// vault's files are: a link there (or
// a file another user could read) is not read but replaced by a rebuilt
// cache. NAME.audit.db.rekey, the re-sealed log `passwd --rotate-key`
// writes before its commit, is refused when the log is opened (at the
// first entry) when it is another user's.
func TestFilesBesideChecked(t *testing.T) {
	t.Run(".names", func(t *testing.T) {
		v := newVault(t)
		if _, err := v.Set("app/K", []byte("x"), Update{}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Names(); err != nil {
			t.Fatal(err)
		}
		cache := NameCachePath(v.Path())
		good, err := os.ReadFile(cache)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, good, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Remove(cache)
		if err := os.Symlink(target, cache); err != nil {
			t.Fatal(err)
		}
		names, err := v.Names()
		if err != nil || len(names) != 1 || names[0] != "app/K" {
			t.Fatalf("Names = %v, %v", names, err)
		}
		if st, err := os.Lstat(cache); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("the link at %s was read instead of replaced by a rebuilt cache: %v", cache, err)
		}
	})
	t.Run(".list", func(t *testing.T) {
		v := newVault(t)
		if _, err := v.Set("app/K", []byte("x"), Update{}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.List(""); err != nil {
			t.Fatal(err)
		}
		cache := ListCachePath(v.Path())
		good, err := os.ReadFile(cache)
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "elsewhere")
		if err := os.WriteFile(target, good, 0o600); err != nil {
			t.Fatal(err)
		}
		os.Remove(cache)
		if err := os.Symlink(target, cache); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := v.cachedList(); ok {
			t.Fatalf("the listing cache was read through the link at %s", cache)
		}
		es, err := v.List("")
		if err != nil || len(es) != 1 || es[0].Name != "app/K" {
			t.Fatalf("List = %v, %v", es, err)
		}
		if st, err := os.Lstat(cache); err != nil || !st.Mode().IsRegular() {
			t.Fatalf("the link at %s was read instead of replaced by a rebuilt cache: %v", cache, err)
		}
		// Open to others: not read either.
		if err := os.Chmod(cache, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, ok := v.cachedList(); ok {
			t.Fatalf("a listing cache readable by others was read")
		}
	})
	t.Run(".rekey", func(t *testing.T) {
		who, uid := otherUser(t)
		home := filepath.Join(sharedBase(t), "hush")
		path := filepath.Join(home, "vaults", "test.db")
		v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
		if err != nil {
			t.Fatal(err)
		}
		v.Close()
		vaults := filepath.Dir(path)
		f := rekeyPath(path)
		os.Chmod(home, 0o755)
		os.Chmod(vaults, 0o777)
		asOther(t, who, ": > "+f+" && chmod 600 "+f)
		os.Chmod(vaults, 0o700)
		os.Chmod(home, 0o700)
		v, err = Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer v.Close()
		if err := v.Unlock(testPass); err != nil {
			t.Fatal(err)
		}
		// The log (and so the .rekey beside it) is opened at the first
		// entry.
		wantUnsafe(t, v.Record("get", []string{"x"}, nil), f, "owned by uid "+strconv.Itoa(uid))
	})
}
