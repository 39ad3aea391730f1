//go:build unix

package run

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault/otheruser"
)

// TestFindProjectOwner is ATTACK15's F9: a .hush.toml another user put in
// a parent folder (/tmp/.hush.toml, from = ["app/prod"]) decided what
// `hush run` injected. Refused now with an error naming the file, its
// owner and what to do, as is one writable by others and one reached
// through a link another user owns; the search does not go on past it.
func TestFindProjectOwner(t *testing.T) {
	who, uid := otheruser.Get(t)
	base := otheruser.SharedDir(t)
	work := filepath.Join(base, "f9-work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(base, ProjectFile)
	otheruser.Run(t, who, `umask 077; printf 'from = ["app/prod"]\n' > `+p)
	wantRefused := func(path, says string) {
		t.Helper()
		proj, err := FindProject(work)
		if proj != nil || !errors.Is(err, ErrForeignProject) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), says) ||
			!strings.Contains(err.Error(), "--no-project") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("FindProject = %+v, %v; want a one-line refusal naming %s and saying %q", proj, err, path, says)
		}
	}
	wantRefused(p, "is owned by uid "+strconv.Itoa(uid)+", not by you")

	// Root's own file, but one the other user can write.
	os.Remove(p)
	writeFile(t, p, `from = ["app/prod"]`)
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	wantRefused(p, "is writable by group or others (mode 0666)")

	// Root's own, through the other user's link.
	mine := filepath.Join(t.TempDir(), ProjectFile)
	writeFile(t, mine, `from = ["app/dev"]`)
	os.Remove(p)
	otheruser.Run(t, who, "ln -s "+mine+" "+p)
	wantRefused(p, "is a symbolic link owned by uid "+strconv.Itoa(uid))

	// The user's own file is used.
	os.Remove(p)
	writeFile(t, p, `from = ["app/dev"]`)
	proj, err := FindProject(work)
	if err != nil || proj == nil || proj.From[0] != "app/dev" {
		t.Fatalf("the user's own project file: %+v, %v", proj, err)
	}
}
