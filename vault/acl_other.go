//go:build !windows

package vault

// restrictFolder: on Unix the folder's mode (0700, set when it is made
// under hush's 0077 umask) already keeps other users out.
func restrictFolder(string) error { return nil }
