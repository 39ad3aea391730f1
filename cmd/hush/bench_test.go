//go:build linux

package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	ageenc "filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// BenchmarkProcessGet times a whole `hush get` process with the key
// remembered in the kernel keyring, next to two references, in the same
// loop: each iteration runs every command once, in an order that turns
// from one iteration to the next, so that all see the same moment's load.
//
//   - floor (internal/floor `get`): open SQLite, read the row, decrypt,
//     print. The goal (issue 18) is hush within 1.25× its CPU.
//   - floor-audited (`get-audited`): the floor that also appends one audit
//     entry as hush must (sealed, chained, into a separate SQLite file with
//     hush's pragmas). hush against it is what hush's checks and its
//     start-up cost.
//
// Vaults of 100, 10,000 and 100,000 secrets spread over 1,000 folders, and
// of 100,000 in one folder (an imported .env: a get counts its folder's
// live secrets). It reports each command's CPU time (user + system) per
// run as <command>-cpu-ms/op, and the ratios hush/floor and
// hush/floor-audited of those. With HUSH_BENCH_BASE set to another hush
// binary (main's, say, built with `make build BIN=...`), it runs in the
// same loop as hush-base: a paired before and after (hush-base/floor,
// hush/hush-base).
func BenchmarkProcessGet(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	floorBin := buildBinary(b, dir, "./internal/floor", "floor")
	baseBin := os.Getenv("HUSH_BENCH_BASE")
	for _, fx := range []struct {
		n, folders int
		label      string
	}{
		{100, 1000, "n=100"},
		{10_000, 1000, "n=10000"},
		{100_000, 1000, "n=100000"},
		{100_000, 1, "n=100000-one-folder"},
	} {
		home := filepath.Join(dir, "home-"+fx.label)
		path := filepath.Join(home, "vaults", "default.db")
		name := benchFixtureIn(b, path, fx.n, fx.folders)
		env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
		cmds := []pairedCmd{
			{"hush", []string{hushBin, "get", name}},
			{"floor", []string{floorBin, path, "get", name}},
			{"floor-audited", []string{floorBin, path, "get-audited", name}},
		}
		ratios := [][2]string{{"hush", "floor"}, {"hush", "floor-audited"}}
		if baseBin != "" {
			cmds = append(cmds, pairedCmd{"hush-base", []string{baseBin, "get", name}})
			ratios = append(ratios, [2]string{"hush-base", "floor"}, [2]string{"hush", "hush-base"})
		}
		b.Run(fx.label, func(b *testing.B) {
			pairedLoop(b, env, func(out []byte) bool { return len(out) == 40 }, cmds, ratios)
		})
	}
}

// pairedCmd is one command of a [pairedLoop].
type pairedCmd struct {
	label string
	argv  []string
}

// pairedLoop runs every command once per iteration, starting each
// iteration one command further along the list, and reports each one's
// mean CPU time (user + system) per run as <label>-cpu-ms/op and, for each
// pair {a, b} of ratios, a/b of those means. The timed op is the whole
// iteration (every command once).
func pairedLoop(b *testing.B, env []string, ok func(out []byte) bool, cmds []pairedCmd, ratios [][2]string) {
	b.Helper()
	cpu := make(map[string]time.Duration, len(cmds))
	i := 0
	for b.Loop() {
		for j := range cmds {
			c := cmds[(i+j)%len(cmds)]
			cmd := exec.Command(c.argv[0], c.argv[1:]...)
			cmd.Env = env
			var out bytes.Buffer
			cmd.Stdout = &out
			cmd.Stderr = &out
			if err := cmd.Run(); err != nil || (ok != nil && !ok(out.Bytes())) {
				b.Fatalf("%s: %v\n%.2000s", c.label, err, out.Bytes())
			}
			cpu[c.label] += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		}
		i++
	}
	for _, c := range cmds {
		b.ReportMetric(float64(cpu[c.label].Microseconds())/1000/float64(i), c.label+"-cpu-ms/op")
	}
	for _, r := range ratios {
		if cpu[r[1]] > 0 {
			b.ReportMetric(float64(cpu[r[0]])/float64(cpu[r[1]]), r[0]+"/"+r[1])
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
			procLoop(b, env, nil, nil, c.cmd...)
		})
	}
}

// buildBinary builds pkg as `make build` builds hush (-trimpath, and
// -ldflags '-s -w': no symbol table and no DWARF, a smaller file to map),
// so that a benchmark times the binary a user runs; the floor is built the
// same way.
func buildBinary(b *testing.B, dir, pkg, name string) string {
	b.Helper()
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

// benchFixture makes a vault of n secrets at path, spread over 1,000
// folders (app/f000 ... app/f999), remembers its key in the kernel keyring
// for the benchmark's duration, and returns a name in it.
func benchFixture(b *testing.B, path string, n int) string {
	b.Helper()
	return benchFixtureIn(b, path, n, 1000)
}

// benchFixtureIn is benchFixture with the secrets spread over the given
// number of folders (1: all in app/f000, as an imported .env is).
func benchFixtureIn(b *testing.B, path string, n, folders int) string {
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
				Name:  fmt.Sprintf("app/f%03d/KEY_%06d", i%folders, i),
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
	return fmt.Sprintf("app/f%03d/KEY_%06d", i%folders, i)
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
			procLoop(b, env, nil, func(out []byte) bool { return strings.Contains(string(out), "app/f001/") },
				hushBin, "__complete", "get", "app/f00")
		})
	}
}

// procLoop runs argv as a whole process once per iteration and reports,
// beside the wall time, the CPU time (user + system) the process itself
// used, as cpu-ms/op: on a shared machine the wall time moves with the
// load, the CPU time much less. before, when set, runs untimed before each
// iteration; ok, when set, checks the output.
func procLoop(b *testing.B, env []string, before func(i int), ok func(out []byte) bool, argv ...string) {
	b.Helper()
	var cpu time.Duration
	i := 0
	for b.Loop() {
		if before != nil {
			b.StopTimer()
			before(i)
			b.StartTimer()
		}
		i++
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout = &out
		cmd.Stderr = &out
		if err := cmd.Run(); err != nil || (ok != nil && !ok(out.Bytes())) {
			b.Fatalf("%s: %v\n%.2000s", filepath.Base(argv[0]), err, out.Bytes())
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(i), "cpu-ms/op")
}

// sopsFixture writes the same n secrets as benchFixture as a dotenv file
// encrypted by sops for a new age key, and returns the environment sops
// needs to decrypt it and the file's path, plain and encrypted.
func sopsFixture(b *testing.B, dir string, n int) (sops string, env []string, plain, enc, recipient string) {
	b.Helper()
	sops, err := exec.LookPath("sops")
	if err != nil {
		b.Skip("sops is not installed: it is the reference for this benchmark")
	}
	id, err := ageenc.GenerateX25519Identity()
	if err != nil {
		b.Fatal(err)
	}
	keyFile := filepath.Join(dir, "age.key")
	if err := os.WriteFile(keyFile, []byte(id.String()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	env = append(os.Environ(), "SOPS_AGE_KEY_FILE="+keyFile, "SOPS_DISABLE_VERSION_CHECK=1")
	plain = filepath.Join(dir, fmt.Sprintf("plain-%d.env", n))
	var buf bytes.Buffer
	for i := range n {
		fmt.Fprintf(&buf, "KEY_%06d=value-%034d\n", i, i)
	}
	if err := os.WriteFile(plain, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	enc = filepath.Join(dir, fmt.Sprintf("enc-%d.env", n))
	cmd := exec.Command(sops, "encrypt", "--age", id.Recipient().String(), "--input-type", "dotenv", "--output-type", "dotenv", "--output", enc, plain)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("sops encrypt: %v\n%s", err, out)
	}
	return sops, env, plain, enc, id.Recipient().String()
}

// BenchmarkProcessLs times `hush ls` of a vault of 100,000 secrets (every
// name decrypted, with its metadata) next to `sops decrypt` of a dotenv
// file holding the same 100,000 keys and values, in the same run. Goal:
// hush at most 0.25× sops, and 0.3 s on an idle machine. The first ls
// after a change (no listing cache yet) is measured beside it.
func BenchmarkProcessLs(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	const n = 100_000
	dir := b.TempDir()
	sops, sopsEnv, _, enc, _ := sopsFixture(b, dir, n)
	hushBin := buildBinary(b, dir, ".", "hush")
	home := filepath.Join(dir, "home")
	benchFixture(b, filepath.Join(home, "vaults", "default.db"), n)
	env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
	lines := func(out []byte) bool { return bytes.Count(out, []byte("\n")) >= n }
	// The first ls after a change checks every row and writes the sealed
	// listing cache; the next ones read it while the vault is unchanged.
	listCache := vault.ListCachePath(filepath.Join(home, "vaults", "default.db"))
	b.Run(fmt.Sprintf("hush-after-a-change/n=%d", n), func(b *testing.B) {
		procLoop(b, env, func(int) { os.Remove(listCache) }, lines, hushBin, "ls")
	})
	b.Run(fmt.Sprintf("hush/n=%d", n), func(b *testing.B) {
		procLoop(b, env, nil, lines, hushBin, "ls")
	})
	b.Run(fmt.Sprintf("sops-decrypt/n=%d", n), func(b *testing.B) {
		procLoop(b, sopsEnv, nil, lines, sops, "decrypt", "--input-type", "dotenv", "--output-type", "dotenv", enc)
	})
}

// BenchmarkProcessImport times `hush import` of a dotenv file of 10,000
// lines into a new vault (key remembered in the kernel keyring) next to
// `sops encrypt` of the same file. Goal: hush at most 1× sops. A second
// import of the same file into the vault that holds it ("hush-again")
// is timed beside them.
func BenchmarkProcessImport(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	const n = 10_000
	dir := b.TempDir()
	sops, sopsEnv, plain, _, recipient := sopsFixture(b, dir, n)
	hushBin := buildBinary(b, dir, ".", "hush")
	home := filepath.Join(dir, "home")
	env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=")
	// Each iteration imports into a vault of its own, made untimed.
	fresh := func(i int) {
		path := filepath.Join(home, "vaults", "default.db")
		for _, f := range []string{path, path + "-wal", path + "-shm", vault.AuditPath(path)} {
			os.Remove(f)
		}
		benchFixture(b, path, 0)
	}
	b.Run(fmt.Sprintf("hush/lines=%d", n), func(b *testing.B) {
		procLoop(b, env, fresh, nil, hushBin, "import", "--into", "app", plain)
	})
	b.Run(fmt.Sprintf("sops-encrypt/lines=%d", n), func(b *testing.B) {
		procLoop(b, sopsEnv, nil, nil, sops, "encrypt", "--age", recipient, "--input-type", "dotenv", "--output-type", "dotenv", plain)
	})
	// The same file again, into the vault that holds it (every line
	// unchanged), each time from a copy of that vault, made untimed.
	b.Run(fmt.Sprintf("hush-again/lines=%d", n), func(b *testing.B) {
		path := filepath.Join(home, "vaults", "default.db")
		fresh(0)
		cmd := exec.Command(hushBin, "import", "--into", "app", plain)
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("hush import: %v\n%s", err, out)
		}
		kept := map[string][]byte{}
		for _, f := range []string{path, vault.AuditPath(path)} {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			kept[f] = data
		}
		again := func(int) {
			for _, f := range []string{path + "-wal", path + "-shm"} {
				os.Remove(f)
			}
			for f, data := range kept {
				if err := os.WriteFile(f, data, 0o600); err != nil {
					b.Fatal(err)
				}
			}
		}
		procLoop(b, env, again, nil, hushBin, "import", "--into", "app", plain)
	})
}

// BenchmarkProcessTUIFirstScreen times the terminal UI of a vault of
// 100,000 secrets in a real terminal (tmux), from starting the program to
// its first rows on screen ("first-rows") and to the whole index listed
// ("all-rows", the header's count and no "loading" left), next to `cat` of
// a file holding the same first screen's text through the same terminal.
// The key is remembered in the kernel keyring, so no passphrase is asked.
// Goal: first rows within 300 ms on an idle machine.
func BenchmarkProcessTUIFirstScreen(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux is not installed")
	}
	const n = 100_000
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	home := filepath.Join(dir, "home")
	benchFixture(b, filepath.Join(home, "vaults", "default.db"), n)
	var screen bytes.Buffer
	for i := range 20 {
		fmt.Fprintf(&screen, "app/f%03d/KEY_%06d  other  1m\n", i%1000, i)
	}
	textFile := filepath.Join(dir, "screen.txt")
	if err := os.WriteFile(textFile, screen.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	env := []string{"HUSH_HOME=" + home, "HUSH_PASSPHRASE=", "HUSH_VAULT=", "TERM=xterm-256color", "PATH=" + os.Getenv("PATH")}
	run := func(b *testing.B, command string, done func(screen string) bool) {
		for b.Loop() {
			sock := filepath.Join(b.TempDir(), "tmux.sock")
			args := []string{"-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "30"}
			for _, e := range env {
				args = append(args, "-e", e)
			}
			start := time.Now()
			if out, err := exec.Command("tmux", append(args, command+"; exec sleep 600")...).CombinedOutput(); err != nil {
				b.Fatalf("tmux: %v\n%s", err, out)
			}
			for {
				out, _ := exec.Command("tmux", "-S", sock, "capture-pane", "-p").Output()
				if done(string(out)) {
					break
				}
				if time.Since(start) > 2*time.Minute {
					b.Fatalf("never done; the screen:\n%s", out)
				}
				time.Sleep(5 * time.Millisecond)
			}
			b.StopTimer()
			exec.Command("tmux", "-S", sock, "kill-server").Run()
			b.StartTimer()
		}
	}
	rows := func(s string) bool { return strings.Count(s, "KEY_") >= 10 }
	b.Run("hush/first-rows", func(b *testing.B) { run(b, hushBin, rows) })
	b.Run("hush/all-rows", func(b *testing.B) {
		run(b, hushBin, func(s string) bool {
			return rows(s) && strings.Contains(s, "100000 secrets") && !strings.Contains(s, "loading")
		})
	})
	b.Run("cat/first-rows", func(b *testing.B) { run(b, "cat "+textFile, rows) })
}
