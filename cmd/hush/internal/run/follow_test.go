package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// What a change of a real vault means for a watched child: a new version
// of an injected secret restarts it (an unrelated change does not); a
// locked vault keeps it running and is said once, until it recovers; a
// revoked secret stops it.
func TestFollowerRebuild(t *testing.T) {
	pass := []byte("correct horse")
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "test.db"), pass, vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	set := func(name, value string) {
		t.Helper()
		if _, err := v.Set(name, []byte(value), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
	set("app/TOKEN", "t-1")
	o := Options{From: []string{"app"}, Parent: []string{"PATH=" + os.Getenv("PATH")}, Command: []string{"sh", "-c", "true"}}
	plan, err := Build(v, o)
	if err != nil {
		t.Fatal(err)
	}
	f := &Follower{Options: o, Current: plan}
	expect := func(what string, c Change, restart bool, stop, note string) {
		t.Helper()
		if (c.Restart != nil) != restart || !strings.Contains(c.Stop, stop) || (stop == "") != (c.Stop == "") ||
			!strings.Contains(c.Note, note) || (note == "") != (c.Note == "") {
			t.Fatalf("%s: got %+v, want restart %v, stop %q, note %q", what, c, restart, stop, note)
		}
	}
	expect("nothing changed", f.Rebuild(v), false, "", "")
	set("other/X", "x")
	expect("an unrelated secret", f.Rebuild(v), false, "", "")
	set("app/TOKEN", "t-1b")
	c := f.Rebuild(v)
	expect("a new version", c, true, "", "")
	if !strings.Contains(strings.Join(c.Restart.Env, "\n"), "TOKEN=t-1b") {
		t.Errorf("the new plan lacks TOKEN")
	}

	v.Lock()
	expect("locked", f.Rebuild(v), false, "", "cannot restart sh with new secrets: the vault is locked; it keeps running with the ones it has")
	expect("still locked", f.Rebuild(v), false, "", "")
	if err := v.Unlock(pass); err != nil {
		t.Fatal(err)
	}
	set("app/TOKEN", "t-2")
	expect("unlocked, changed", f.Rebuild(v), true, "", "")
	v.Lock()
	expect("locked again", f.Rebuild(v), false, "", "the vault is locked")
	if err := v.Unlock(pass); err != nil {
		t.Fatal(err)
	}

	if _, err := v.Revoke("app/TOKEN", "leaked"); err != nil {
		t.Fatal(err)
	}
	expect("revoked", f.Rebuild(v), false, "app/TOKEN", "")
}
