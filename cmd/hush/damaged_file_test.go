package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// One flipped byte in a vault file's data pages never makes ls, export or
// run --from leave a secret out and succeed: each either shows every secret
// of the folder or fails (run without starting the program). The flips hit
// every copy of each secret's id in the file (the secret's row, its index
// entry, its versions' keys: a flip there breaks the link between a secret
// and its versions) and random bytes of the pages after the first.
func TestDamagedFileNeverDropsASecret(t *testing.T) {
	dir := t.TempDir()
	clean := filepath.Join(dir, "clean.db")
	const pass = "correct horse battery staple"
	v, err := vault.Create(clean, []byte(pass), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{"K1": "value-one-1111", "K2": "value-two-2222", "K3": "value-three-3333"}
	for k, val := range values {
		if _, err := v.Set("app/"+k, []byte(val), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
	v.Close()
	// Everything into the main file, so that the flips hit the data.
	db, err := sql.Open("sqlite3", "file:"+clean)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(clean + "-wal"); err == nil && fi.Size() > 0 {
		t.Fatal("the WAL still holds pages after a checkpoint")
	}
	orig, err := os.ReadFile(clean)
	if err != nil {
		t.Fatal(err)
	}
	var ids [][]byte
	rows, err := db.Query(`SELECT id FROM secrets`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id []byte
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	var pageSize int
	db.QueryRow(`PRAGMA page_size`).Scan(&pageSize)
	db.Close()

	var offsets []int
	for _, id := range ids {
		for at := 0; ; {
			i := bytes.Index(orig[at:], id)
			if i < 0 {
				break
			}
			offsets = append(offsets, at+i+len(id)/2)
			at += i + 1
		}
	}
	if len(offsets) < 2*len(ids) {
		t.Fatalf("found the ids %d times in the file; want at least twice each", len(offsets))
	}
	r := rand.New(rand.NewSource(22))
	for range 12 {
		offsets = append(offsets, pageSize+r.Intn(len(orig)-pageSize))
	}

	exe, _ := os.Executable()
	home := filepath.Join(dir, "home")
	path := filepath.Join(home, "vaults", "default.db")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	env := []string{"HUSH_TEST_AS=hush", "HUSH_HOME=" + home, "HUSH_PASSPHRASE=" + pass, "PATH=" + os.Getenv("PATH"), "GORACE=" + goraceNoExitSleep()}
	hush := func(args ...string) (stdout, stderr string, code int) {
		cmd := exec.Command(exe, args...)
		cmd.Env = env
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return o.String(), e.String(), code
	}
	failures := 0
	for _, off := range offsets {
		damaged := bytes.Clone(orig)
		damaged[off] ^= 0x5a
		os.Remove(path + "-wal")
		os.Remove(path + "-shm")
		if err := os.WriteFile(path, damaged, 0o600); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("byte %d (page %d) flipped", off, off/pageSize+1)
		check := func(cmd string, stdout, stderr string, code int, complete bool) {
			t.Helper()
			switch {
			case code == 0 && !complete:
				t.Errorf("%s: %s succeeded with a secret missing:\n%s", what, cmd, stdout)
			case code != 0 && strings.TrimSpace(stderr) == "":
				t.Errorf("%s: %s failed (exit %d) without a word", what, cmd, code)
			case code != 0:
				failures++
			}
		}
		out, errOut, code := hush("ls", "app")
		check("ls app", out, errOut, code, strings.Count(out, "app/K") == 3 && !strings.Contains(out, "damaged"))
		out, errOut, code = hush("export", "app")
		complete := true
		for k, val := range values {
			complete = complete && strings.Contains(out, k+`="`+val+`"`)
		}
		check("export app", out, errOut, code, complete)
		out, errOut, code = hush("run", "--from", "app", "--", "sh", "-c", `echo "started $K1 $K2 $K3"`)
		if code != 0 && strings.Contains(out, "started") {
			t.Errorf("%s: run started the program and then failed:\n%s%s", what, out, errOut)
		}
		check("run --from app", out, errOut, code, strings.Contains(out, "started "+values["K1"]+" "+values["K2"]+" "+values["K3"]))
	}
	t.Logf("%d flips, %d command runs refused the damaged file", len(offsets), failures)
}
