// Package vaultwatch notices that a vault changed on this machine, made by
// any process (`hush set` in another terminal, the TUI, an import), for the
// commands that follow it: `hush run --watch` (restart the program) and
// `hush sync --watch` (push the change). It looks at the vault file and
// its write-ahead log with one stat each per poll: no read, no decryption
// while nothing changes.
package vaultwatch

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Poll is how often the vault's files are looked at.
const Poll = 200 * time.Millisecond

// Stamp is what a stat of the vault's files says: any write changes it.
func Stamp(path string) string {
	var b strings.Builder
	for _, p := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "%d.%d;", fi.Size(), fi.ModTime().UnixNano())
		} else {
			b.WriteString("-;")
		}
	}
	return b.String()
}

// Follow polls the vault at path every interval and calls changed once its
// files have changed and then been quiet for one more poll (a burst of
// writes is one change), until ctx ends or changed returns false.
func Follow(ctx context.Context, path string, every time.Duration, changed func() bool) {
	last := Stamp(path)
	tick := time.NewTicker(every)
	defer tick.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := Stamp(path)
		if now != last {
			last, pending = now, true
			continue // wait for one quiet poll
		}
		if !pending {
			continue
		}
		pending = false
		if ctx.Err() != nil || !changed() {
			return
		}
	}
}
