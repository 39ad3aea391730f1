package client

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkServerLoadWatched is BenchmarkServerLoad (SQLite, 50 clients)
// with 1,000 idle watch streams open on the same server and team: what
// holding them costs the request throughput (docs/benchmarks.md).
func BenchmarkServerLoadWatched(b *testing.B) {
	for _, watchers := range []int{0, 1000} {
		b.Run(fmt.Sprintf("sqlite/clients=50/watchers=%d", watchers), func(b *testing.B) {
			loadRunWatched(b, filepath.Join(b.TempDir(), "server.db"), 50, watchers)
		})
	}
}
