//go:build !unix && !windows

package store

// lockFile is a no-op where flock is missing: run one server per file.
func lockFile(string) (func(), error) { return func() {}, nil }
