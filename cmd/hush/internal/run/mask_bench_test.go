//go:build unix

package run

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"syscall"
	"testing"
	"time"
)

// reportCPU adds cpu-MB/s: bytes per second of CPU time the process used,
// which a machine shared with other busy programs skews far less than the
// wall-clock MB/s. Call the returned function after the loop.
func reportCPU(b *testing.B, size int) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() {
		if d := cpu() - start; d > 0 {
			b.ReportMetric(float64(size)*float64(b.N)/d.Seconds()/1e6, "cpu-MB/s")
		}
	}
}

// benchInputs: log-like text made of the secrets' own alphabet with a
// secret every few KB, and the run of a single byte.
func benchInputs(r *rand.Rand, secrets [][]byte) map[string][]byte {
	var logs bytes.Buffer
	for i := 0; logs.Len() < 4<<20; i++ {
		fmt.Fprintf(&logs, "2026-12-06T21:%02d:%02d level=info msg=\"request served\" path=/api/v1/items/%d status=200 bytes=%d\n",
			i%60, i%60, i, r.Intn(1<<16))
		if i%40 == 0 {
			fmt.Fprintf(&logs, "token=%s\n", secrets[r.Intn(len(secrets))])
		}
	}
	return map[string][]byte{
		"logs": logs.Bytes(),
		"x":    bytes.Repeat([]byte("x"), 4<<20),
	}
}

// BenchmarkMasker: masking throughput in-process, written in 32 KB pieces
// (what a pipe read gives), with 1 and 1,000 secrets. Goal: 200 MB/s with
// 1,000 (docs/benchmarks.md).
func BenchmarkMasker(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, n := range []int{1, 1000} {
		secrets := manySecrets(r, n)
		set := newMaskSet(secrets)
		for _, name := range []string{"logs", "x"} {
			input := benchInputs(r, secrets)[name]
			b.Run(fmt.Sprintf("secrets=%d/%s", n, name), func(b *testing.B) {
				b.SetBytes(int64(len(input)))
				defer reportCPU(b, len(input))()
				for b.Loop() {
					m := newMaskerWith(io.Discard, set)
					for p := input; len(p) > 0; {
						k := min(len(p), 32<<10)
						m.Write(p[:k])
						p = p[k:]
					}
					m.Close()
				}
			})
		}
	}
}

// BenchmarkMaskSetBuild: building the automaton is part of every run --mask.
func BenchmarkMaskSetBuild(b *testing.B) {
	secrets := manySecrets(rand.New(rand.NewSource(1)), 1000)
	for b.Loop() {
		newMaskSet(secrets)
	}
}

// BenchmarkMaskerBaseline: copying the same bytes, the floor a masker is
// measured against on a busy machine.
func BenchmarkMaskerBaseline(b *testing.B) {
	input := bytes.Repeat([]byte("x"), 4<<20)
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(input)))
	defer reportCPU(b, len(input))()
	for b.Loop() {
		for p := input; len(p) > 0; {
			k := min(len(p), 32<<10)
			copy(buf, p[:k])
			io.Discard.Write(buf[:k])
			p = p[k:]
		}
	}
}
