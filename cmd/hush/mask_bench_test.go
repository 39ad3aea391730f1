package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// BenchmarkProcessRunMask times a whole `hush run --mask --from app -- cat
// FILE` of 100 MB of log lines, with 1,000 secrets in app and the key
// remembered in the kernel keyring, next to `cat FILE` alone, both read
// through a pipe. Goal: hush within 1.5× of cat (docs/benchmarks.md). Every
// byte is counted: a run that loses one fails.
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
	for i := range 1000 {
		raw := make([]byte, 24)
		rand.Read(raw)
		reqs = append(reqs, vault.SetRequest{Name: fmt.Sprintf("app/SECRET_%04d", i), Value: []byte(base64.RawURLEncoding.EncodeToString(raw))})
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
	for _, c := range []struct {
		label string
		cmd   []string
	}{
		{"cat", []string{catBin, file}},
		{"hush", []string{hushBin, "run", "--mask", "--from", "app", "--", catBin, file}},
	} {
		b.Run(c.label+"/100MB", func(b *testing.B) {
			b.SetBytes(size)
			var cpu time.Duration
			for b.Loop() {
				cmd := exec.Command(c.cmd[0], c.cmd[1:]...)
				cmd.Env = env
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, out)
				if err := cmd.Wait(); err != nil {
					b.Fatalf("%s: %v\n%s", c.label, err, stderr.String())
				}
				if n != size {
					b.Fatalf("%s: %d bytes came through, want %d", c.label, n, size)
				}
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			// CPU time of the process and the children it waited for: less
			// skewed than wall time on a machine shared with busy programs.
			b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}
