//go:build linux

package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// BenchmarkProcessRunMask times a whole `hush run --mask --from F -- cat
// FILE` of 100 MB of log lines, with 1 and with 1,000 secrets in F and the
// key remembered in the kernel keyring, next to `cat FILE` alone, each read
// through a pipe by this process in 128 KiB reads (as cat reads). Each
// iteration runs the three in turn, so that a machine that gets busier
// slows all three alike; the medians are reported (cat-ms, hush1-ms,
// hush1000-ms wall; the same with cpu- for the CPU time of the process and
// the children it waited for, which a shared machine skews less) and the
// ratios to cat (hush1-x, hush1000-x, cpu-hush1-x, cpu-hush1000-x). Goal:
// within 1.5× of cat (docs/benchmarks.md). Every byte is counted: a run
// that loses one fails. `-benchtime 5x` gives medians of 5.
func BenchmarkProcessRunMask(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	catBin, err := exec.LookPath("cat")
	if err != nil {
		b.Skip("no cat(1)")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	home := filepath.Join(dir, "home")
	v, err := vault.Create(filepath.Join(home, "vaults", "default.db"), []byte("benchmark passphrase"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		b.Fatal(err)
	}
	var reqs []vault.SetRequest
	for i := range 1001 {
		raw := make([]byte, 24)
		rand.Read(raw)
		name := fmt.Sprintf("many/SECRET_%04d", i)
		if i == 1000 {
			name = "one/SECRET"
		}
		reqs = append(reqs, vault.SetRequest{Name: name, Value: []byte(base64.RawURLEncoding.EncodeToString(raw))})
	}
	if _, err := v.SetMany(reqs, time.Time{}); err != nil {
		b.Fatal(err)
	}
	key, _ := v.Key()
	id := hex.EncodeToString(v.ID())
	v.Close()
	if err := (keychain.Kernel{}).Put(id, keychain.Entry{Key: key, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Skipf("kernel keyring unavailable: %v", err)
	}
	b.Cleanup(func() { keychain.Kernel{}.Delete(id) })

	file := filepath.Join(dir, "out.log")
	var data bytes.Buffer
	for i := 0; data.Len() < 100<<20; i++ {
		fmt.Fprintf(&data, "2026-12-06T21:%02d:%02d level=info msg=\"request served\" path=/api/v1/items/%d status=200\n", i%60, i%60, i)
	}
	size := int64(data.Len())
	if err := os.WriteFile(file, data.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
	cases := []struct {
		label string
		cmd   []string
	}{
		{"cat", []string{catBin, file}},
		{"hush1", []string{hushBin, "run", "--mask", "--from", "one", "--", catBin, file}},
		{"hush1000", []string{hushBin, "run", "--mask", "--from", "many", "--", catBin, file}},
	}
	wall := make([][]time.Duration, len(cases))
	cpu := make([][]time.Duration, len(cases))
	buf := make([]byte, 128<<10)
	b.SetBytes(size * int64(len(cases)))
	for b.Loop() {
		for i, c := range cases {
			cmd := exec.Command(c.cmd[0], c.cmd[1:]...)
			cmd.Env = env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			var n int64
			for {
				k, err := out.Read(buf)
				n += int64(k)
				if err != nil {
					break
				}
			}
			if err := cmd.Wait(); err != nil {
				b.Fatalf("%s: %v\n%s", c.label, err, stderr.String())
			}
			wall[i] = append(wall[i], time.Since(start))
			if n != size {
				b.Fatalf("%s: %d bytes came through, want %d", c.label, n, size)
			}
			cpu[i] = append(cpu[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
	}
	for i, c := range cases {
		w, u := median(wall[i]), median(cpu[i])
		b.ReportMetric(float64(w.Microseconds())/1000, c.label+"-ms")
		b.ReportMetric(float64(u.Microseconds())/1000, "cpu-"+c.label+"-ms")
		if i > 0 {
			b.ReportMetric(float64(w)/float64(median(wall[0])), c.label+"-x")
			b.ReportMetric(float64(u)/float64(median(cpu[0])), "cpu-"+c.label+"-x")
		}
	}
}

// median of d (not empty); d is sorted in place.
func median(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}
