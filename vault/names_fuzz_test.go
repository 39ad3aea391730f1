package vault

import (
	"strings"
	"testing"
)

// FuzzValidName: no input panics; an accepted name splits into a folder and
// a base that are themselves valid and join back to the name.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{"app/prod/DATABASE_URL", "a", "a//b", "/a", "a/", "a/../b", "..", "é", "a b", "a\x00b", strings.Repeat("x/", 600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidName(name)
		if _, ferr := CleanFolder(name); (err == nil) != (ferr == nil) && name != "" && !strings.HasSuffix(name, "/") {
			t.Fatalf("ValidName and CleanFolder disagree on %q: %v / %v", name, err, ferr)
		}
		if err != nil {
			return
		}
		base, folder := Base(name), Folder(name)
		if ValidName(base) != nil || (folder != "" && ValidName(folder) != nil) {
			t.Fatalf("%q accepted but its parts %q, %q are not", name, folder, base)
		}
		joined := base
		if folder != "" {
			joined = folder + "/" + base
		}
		if joined != name || !InFolder(name, folder) {
			t.Fatalf("%q does not rebuild from %q + %q", name, folder, base)
		}
	})
}
