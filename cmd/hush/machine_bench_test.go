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

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/keychain"
)

// BenchmarkProcessRunToken times a whole `hush run --from F -- true` on a
// team of 10,000 secrets (50 in F) against a real `hush server` process on
// 127.0.0.1, three ways in the same run: with a machine token for the
// whole team (HUSH_TOKEN, an empty HOME: the team is fetched, verified and
// decrypted into memory on every run), with a token whose only scope is F
// (only F's records and key are fetched; every chain entry is still
// verified), and with the admin's local vault (key remembered in the
// kernel keyring, automatic sync off).
//
//	go test -run '^$' -bench ProcessRunToken -benchtime 10x ./cmd/hush/
func BenchmarkProcessRunToken(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("the kernel keyring is Linux only")
	}
	trueBin, err := exec.LookPath("true")
	if err != nil {
		b.Skip("no true(1)")
	}
	dir := b.TempDir()
	hushBin := buildBinary(b, dir, ".", "hush")
	home := filepath.Join(dir, "admin")
	path := filepath.Join(home, "vaults", "default.db")
	teamFixture(b, path, 10_000, 200) // app/f007 holds 50
	env := append(os.Environ(), "HUSH_HOME="+home, "HUSH_PASSPHRASE=", "HUSH_VAULT=", "HUSH_TOKEN=")

	srv := exec.Command(hushBin, "server", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "srv.db"), "--addr-file", filepath.Join(dir, "addr"))
	srv.Env = env
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Process.Signal(os.Interrupt); srv.Wait() })
	url := waitAddr(b, filepath.Join(dir, "addr"))
	hush := func(args ...string) string {
		cmd := exec.Command(hushBin, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			b.Fatalf("hush %s: %v\n%s", strings.Join(args, " "), err, errb.Bytes())
		}
		return strings.TrimSpace(out.String())
	}
	hush("team", "create", "--server", url, "--name", "bench", "--device", "admin")
	token := hush("team", "invite", "--machine", "bench-ci")
	scoped := hush("team", "invite", "--machine", "bench-scoped", "--scope", "app/f007")

	runner := filepath.Join(dir, "runner")
	if err := os.Mkdir(runner, 0o700); err != nil {
		b.Fatal(err)
	}
	tokenEnv := append(os.Environ(), "HOME="+runner, "HUSH_HOME=", "XDG_DATA_HOME=", "HUSH_PASSPHRASE=", "HUSH_TOKEN="+token)
	scopedEnv := append(os.Environ(), "HOME="+runner, "HUSH_HOME=", "XDG_DATA_HOME=", "HUSH_PASSPHRASE=", "HUSH_TOKEN="+scoped)
	for _, c := range []struct {
		label string
		env   []string
	}{
		{"token", tokenEnv},
		{"token-scoped", scopedEnv}, // a token for app/f007 alone (issue 17's folder scopes)
		{"vault", env},
	} {
		b.Run(c.label+"/team=10000/from=50", func(b *testing.B) {
			procLoop(b, c.env, nil, nil, hushBin, "run", "--from", "app/f007", "--", trueBin)
		})
	}
	if es, _ := os.ReadDir(runner); len(es) > 0 {
		b.Fatalf("token runs wrote into HOME: %v", es)
	}
}

// teamFixture is benchFixture with n secrets in `folders` folders.
func teamFixture(b *testing.B, path string, n, folders int) {
	b.Helper()
	v, err := vault.Create(path, []byte("benchmark passphrase"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	var reqs []vault.SetRequest
	for i := range n {
		reqs = append(reqs, vault.SetRequest{Name: fmt.Sprintf("app/f%03d/KEY_%06d", i%folders, i), Value: fmt.Appendf(nil, "value-%034d", i)})
	}
	if _, err := v.SetMany(reqs, time.Time{}); err != nil {
		b.Fatal(err)
	}
	key, _ := v.Key()
	id := hex.EncodeToString(v.ID())
	if err := (keychain.Kernel{}).Put(id, keychain.Entry{Key: key, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Skipf("kernel keyring unavailable: %v", err)
	}
	b.Cleanup(func() { keychain.Kernel{}.Delete(id) })
}

func waitAddr(b *testing.B, file string) string {
	b.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s, err := os.ReadFile(file); err == nil && bytes.HasSuffix(s, []byte("\n")) {
			return strings.TrimSpace(string(s))
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("no server address in %s", file)
	return ""
}
