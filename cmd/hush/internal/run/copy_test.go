//go:build unix

package run

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// copyOut (pipe to pipe: spliced on Linux; pipe to file: read and
// written) gives what the whole-input reference gives, with the child's
// writes in pieces of every size, so that secrets and held-back tails
// cross the borders of hush's reads.
func TestCopyOutMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(9))
	for _, minLen := range []int{4, 8, 32} {
		for _, n := range []int{1, 1000} {
			secrets := skipTestSecrets(r, n, minLen)
			set := newMaskSet(secrets)
			// Dense stretches (a secret every few hundred bytes) and long
			// ones with none, where whole pieces pass unchanged.
			var input bytes.Buffer
			for input.Len() < 2<<20 {
				if r.Intn(3) == 0 {
					input.Write(skipTestInput(r, secrets))
				}
				for range r.Intn(4000) {
					fmt.Fprintf(&input, "level=info msg=%q n=%d\n", "request served", r.Intn(1<<20))
				}
				s := secrets[r.Intn(len(secrets))]
				input.Write(s[:r.Intn(len(s)+1)])
			}
			want := referenceMask(input.Bytes(), secrets)
			for _, to := range []string{"pipe", "file"} {
				t.Run(fmt.Sprintf("min=%d/n=%d/%s", minLen, n, to), func(t *testing.T) {
					got := copyOutThrough(t, r, set, input.Bytes(), to)
					if got != want {
						i := 0
						for i < min(len(got), len(want)) && got[i] == want[i] {
							i++
						}
						t.Fatalf("got %d bytes, want %d; they part at byte %d", len(got), len(want), i)
					}
				})
			}
		}
	}
}

// copyOutThrough writes input in pieces of random sizes into a pipe, masks
// it with copyOut into a pipe or a file, and returns what came out.
func copyOutThrough(t *testing.T, r *rand.Rand, set *maskSet, input []byte, to string) string {
	t.Helper()
	srcR, srcW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer srcR.Close()
	growPipe(srcW)
	var dst *os.File
	var out bytes.Buffer
	read := make(chan error, 1)
	if to == "pipe" {
		dstR, dstW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer dstR.Close()
		dst = dstW
		go func() { _, err := io.Copy(&out, dstR); read <- err }()
	} else {
		if dst, err = os.Create(filepath.Join(t.TempDir(), "out")); err != nil {
			t.Fatal(err)
		}
		read <- nil
	}
	if sp := newSplicer(&drain{f: srcR}, dst); (sp != nil) != (to == "pipe" && runtime.GOOS == "linux") {
		t.Fatalf("splicing from a pipe to a %s: %v", to, sp != nil)
	} else if sp != nil {
		sp.close()
	}
	sizes := []int{1, 7, 100, 4096, 65536, 1 << 20, 3 << 20}
	wr := rand.New(rand.NewSource(r.Int63()))
	written := make(chan struct{})
	go func() {
		defer close(written)
		r := wr
		for p := input; len(p) > 0; {
			k := min(len(p), 1+r.Intn(sizes[r.Intn(len(sizes))]))
			srcW.Write(p[:k])
			p = p[k:]
			// Often, wait until hush has read it all: the next read is
			// then this piece alone, and borders fall where chosen.
			for wait := r.Intn(2) == 0; wait; {
				n, ok := unread(srcR)
				wait = ok && n > 0
				runtime.Gosched()
			}
		}
		srcW.Close()
	}()
	m := newMaskerWith(dst, set)
	m.idle = 1 << 62
	if err := m.copyOut(&drain{f: srcR}); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	<-written
	if to == "pipe" {
		dst.Close()
		if err := <-read; err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	<-read
	dst.Close()
	b, err := os.ReadFile(dst.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// When hush's output is closed, copyOut stops with an error instead of
// waiting on a pipe nobody reads (the caller then closes the child's
// pipe, and the child gets the broken pipe).
func TestCopyOutClosedOutput(t *testing.T) {
	srcR, srcW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer srcR.Close()
	defer srcW.Close()
	dstR, dstW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer dstW.Close()
	dstR.Close()
	go func() {
		for range 64 {
			if _, err := srcW.Write(bytes.Repeat([]byte("log line\n"), 1000)); err != nil {
				return
			}
		}
	}()
	m := newMaskerWith(dstW, newMaskSet([][]byte{[]byte("a secret value")}))
	if err := m.copyOut(&drain{f: srcR}); err == nil {
		t.Fatal("copyOut to a closed pipe reported no error")
	}
}
