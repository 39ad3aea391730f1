package vault

import (
	"io/fs"
	"os"
)

// OpenOwned opens a file whose contents nobody but you may have chosen: a
// passphrase file (its owner would choose your next passphrase, or learn
// the one you type there), a project file that decides what `hush run`
// injects. It must be owned by you or by root, and every link on the way
// to it too (a link's owner can point it at a file whose contents they
// know). The owner is checked on the opened file, so a file swapped
// after the check is seen. A refusal is an [*UnsafePathError] whose Fix
// is fix. Mode bits are the caller's to judge, from the returned
// FileInfo. Where owners do not say who can write a file (Windows), the
// file is opened as given.
func OpenOwned(path, fix string) (*os.File, fs.FileInfo, error) {
	return openOwned(path, fix)
}
