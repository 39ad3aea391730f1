package main

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// BenchmarkProcessGet times a whole `hush get` process with the key
// remembered in the kernel keyring, next to the floor program
// (internal/floor), at 100, 10,000 and 100,000 secrets. The ratio of the two
// is the figure docs/benchmarks.md reports.
func BenchmarkProcessGet(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	floorBin := buildBinary(b, dir, "./internal/floor", "floor")
	for _, n := range []int{100, 10_000, 100_000} {
		home := filepath.Join(dir, fmt.Sprintf("home-%d", n))
		path := filepath.Join(home, "vaults", "default.db")
		name := benchFixture(b, path, n)
		env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
		for _, c := range []struct {
			label string
			cmd   []string
		}{
			{"hush", []string{hushBin, "get", name}},
			{"floor", []string{floorBin, path, "get", name}},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", c.label, n), func(b *testing.B) {
				for b.Loop() {
					cmd := exec.Command(c.cmd[0], c.cmd[1:]...)
					cmd.Env = env
					if out, err := cmd.CombinedOutput(); err != nil || len(out) != 40 {
						b.Fatalf("%s: %v\n%s", c.label, err, out)
					}
				}
			})
		}
	}
}

// BenchmarkProcessRun times a whole `hush run --from F -- /usr/bin/true` with
// 50 secrets in F and the key remembered in the kernel keyring, next to the
// floor program that reads and decrypts the same 50 rows and execs true.
func BenchmarkProcessRun(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1)")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	floorBin := buildBinary(b, dir, "./internal/floor", "floor")
	home := filepath.Join(dir, "home")
	path := filepath.Join(home, "vaults", "default.db")
	// 50,000 secrets in 1,000 folders: app/f007 holds 50 of them.
	benchFixture(b, path, 50_000)
	env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
	for _, c := range []struct {
		label string
		cmd   []string
	}{
		{"hush", []string{hushBin, "run", "--from", "app/f007", "--", trueBin}},
		{"floor", []string{floorBin, path, "run", "app/f007", trueBin}},
	} {
		b.Run(c.label+"/secrets=50", func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(c.cmd[0], c.cmd[1:]...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%s: %v\n%s", c.label, err, out)
				}
			}
		})
	}
}

func buildBinary(b *testing.B, dir, pkg, name string) string {
	b.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// benchFixture makes a vault of n secrets at path, remembers its key in the
// kernel keyring for the benchmark's duration, and returns a name in it.
func benchFixture(b *testing.B, path string, n int) string {
	b.Helper()
	v, err := vault.Create(path, []byte("benchmark passphrase"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	const batch = 5000
	for start := 0; start < n; start += batch {
		var reqs []vault.SetRequest
		for i := start; i < min(start+batch, n); i++ {
			reqs = append(reqs, vault.SetRequest{
				Name:  fmt.Sprintf("app/f%03d/KEY_%06d", i%1000, i),
				Value: fmt.Appendf(nil, "value-%034d", i),
			})
		}
		if _, err := v.SetMany(reqs, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	key, _ := v.Key()
	id := hex.EncodeToString(v.ID())
	if err := (keychain.Kernel{}).Put(id, keychain.Entry{Key: key, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Skipf("kernel keyring unavailable: %v", err)
	}
	b.Cleanup(func() { keychain.Kernel{}.Delete(id) })
	i := n / 2
	return fmt.Sprintf("app/f%03d/KEY_%06d", i%1000, i)
}

// BenchmarkProcessComplete times a whole `hush __complete get app/f00`
// process (what a shell runs on Tab) with the key remembered in the kernel
// keyring and the sealed name cache current, at 100, 10,000 and 100,000
// secrets. Goal: under 50 ms at 100,000.
func BenchmarkProcessComplete(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	for _, n := range []int{100, 10_000, 100_000} {
		home := filepath.Join(dir, fmt.Sprintf("home-%d", n))
		benchFixture(b, filepath.Join(home, "vaults", "default.db"), n)
		env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
		complete := func(b *testing.B) {
			cmd := exec.Command(hushBin, "__complete", "get", "app/f00")
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "app/f001/") {
				b.Fatalf("__complete: %v\n%.300s", err, out)
			}
		}
		complete(b) // builds the cache
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			for b.Loop() {
				complete(b)
			}
		})
	}
}
