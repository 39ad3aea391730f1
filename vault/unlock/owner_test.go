//go:build linux

package unlock

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/otheruser"
)

// TestPassphraseFileOwner is ATTACK15's F8: a passphrase file another
// user owns, mode 0600, was taken by `passwd --new-passphrase-file`, so
// its owner chose the victim's next passphrase. Refused now, by every
// way a passphrase file is read (the current passphrase, the new one,
// an export's password), naming the file, its owner and the fix; so is
// a file of root's reached through a link the other user owns (its
// contents are known to them). The victim's own file, also through a
// link of the victim's, and a root-owned one are fine.
func TestPassphraseFileOwner(t *testing.T) {
	who, uid := otheruser.Get(t)
	base := otheruser.SharedDir(t)
	theirs := filepath.Join(base, "f8-new")
	otheruser.Run(t, who, "umask 077; echo attacker-chosen-pass > "+theirs)

	wantRefused := func(err error, path, says string) {
		t.Helper()
		if !errors.Is(err, vault.ErrUnsafePath) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), says) ||
			!strings.Contains(err.Error(), "use a passphrase file of your own") {
			t.Fatalf("err = %v, want a refusal naming %s and saying %q", err, path, says)
		}
	}
	ownedBy := "is owned by uid " + strconv.Itoa(uid)
	p, err := (&Chain{Passphrase: pass}).NewGiven(theirs, false)
	wantRefused(err, theirs, ownedBy)
	if p != nil {
		t.Fatalf("the new passphrase %q was taken from another user's file", p)
	}
	_, err = (&Chain{PassphraseFile: theirs}).Unlock(newVault(t))
	wantRefused(err, theirs, ownedBy)
	_, err = ReadPassphraseFile(theirs, nil)
	wantRefused(err, theirs, ownedBy)

	// A file they cannot write, chosen by them through their link.
	known := filepath.Join(t.TempDir(), "known")
	if err := os.WriteFile(known, []byte("a passphrase they know\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "f8-link")
	otheruser.Run(t, who, "ln -s "+known+" "+link)
	_, err = ReadPassphraseFile(link, nil)
	wantRefused(err, link, "is a symbolic link owned by uid "+strconv.Itoa(uid))

	// Root's own, and the user's own through the user's link.
	mine := filepath.Join(t.TempDir(), "mine")
	if err := os.WriteFile(mine, []byte("new passphrase from a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	myLink := filepath.Join(base, "my-link")
	if err := os.Symlink(mine, myLink); err != nil {
		t.Fatal(err)
	}
	if p, err := (&Chain{}).NewGiven(myLink, false); err != nil || string(p) != "new passphrase from a file" {
		t.Fatalf("the user's own file through the user's link: %q, %v", p, err)
	}
	// The user's own file, but through a folder link the other user owns:
	// they can point it at another folder with a file of that name.
	dirLink := filepath.Join(base, "f8-dir")
	otheruser.Run(t, who, "ln -s "+filepath.Dir(mine)+" "+dirLink)
	_, err = ReadPassphraseFile(filepath.Join(dirLink, "mine"), nil)
	wantRefused(err, dirLink+" (on the way to "+filepath.Join(dirLink, "mine")+")", "is a symbolic link owned by uid "+strconv.Itoa(uid))
}
