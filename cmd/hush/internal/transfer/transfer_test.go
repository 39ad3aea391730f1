package transfer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/envfile"
	"github.com/hush-secrets/hush/vault/importer"
)

func TestParseNeverExpandsHushsOwnVariables(t *testing.T) {
	env := map[string]string{"HOME": "/home/ann", "HUSH_PASSPHRASE": "the passphrase"}
	es, err := Parse(envfile.Dotenv, []byte("A=$HOME\nB=${HUSH_PASSPHRASE}\n"), "f.env", ParseOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if string(es[0].Value) != "/home/ann" || string(es[1].Value) != "" {
		t.Errorf("entries = %q, %q", es[0].Value, es[1].Value)
	}
	if _, err := Parse(envfile.Dotenv, []byte("# nothing\n"), "f.env", ParseOptions{}); err == nil || !strings.Contains(err.Error(), "f.env holds no secrets") {
		t.Errorf("an empty file: %v", err)
	}
	reqs, names, err := Requests(es, "app/dev")
	if err != nil || len(reqs) != 2 || names[1] != "app/dev/B" {
		t.Errorf("Requests = %v, %v, %v", reqs, names, err)
	}
	if _, _, err := Requests([]envfile.Entry{{Key: "bad name"}}, ""); err == nil {
		t.Error("a key that makes no valid name was taken")
	}
}

func TestEntriesLeaveOutSourcesAndRefuseRevoked(t *testing.T) {
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "t.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	typ := vault.TypeDynamicPostgres
	for name, u := range map[string]vault.Update{
		"app/KEY": {},
		"app/DB":  {Type: &typ, Dynamic: &vault.DynamicSource{Template: "GRANT r TO {{name}}", TTL: 3600e9}},
	} {
		val := "v"
		if u.Type != nil {
			val = "postgres://admin:pw@127.0.0.1/app"
		}
		if _, err := v.Set(name, []byte(val), u); err != nil {
			t.Fatal(err)
		}
	}
	es, skipped, err := Entries(v, "app")
	if err != nil || len(es) != 1 || es[0].Key != "KEY" || len(skipped) != 1 || skipped[0] != "app/DB" {
		t.Fatalf("Entries = %v, %v, %v", es, skipped, err)
	}
	if _, err := v.Revoke("app/KEY", "leaked"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Entries(v, "app"); err == nil {
		t.Error("a revoked secret was exported")
	}
	if _, _, err := Entries(v, "none"); err == nil || !strings.Contains(err.Error(), "no secrets directly in none") {
		t.Errorf("an empty folder: %v", err)
	}
}

func TestWritePrivateNeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.env")
	if err := WritePrivate(path, []byte("A=1\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("%v, %v: want mode 0600", fi, err)
	}
	if err := WritePrivate(path, []byte("B=2\n")); err == nil {
		t.Error("an existing file was overwritten")
	}
	if b, _ := os.ReadFile(path); string(b) != "A=1\n" {
		t.Errorf("file = %q", b)
	}
}

func TestFileReadNamesTheUndefinedVariableAndWipes(t *testing.T) {
	var notes []string
	notef := func(format string, args ...any) { notes = append(notes, fmt.Sprintf(format, args...)) }
	f := File{Path: "-", Format: envfile.Dotenv, Folder: "app", ExpandEnv: true, Env: map[string]string{"HOME": "/h"}}
	reqs, names, wipe, err := f.Read(strings.NewReader("A=${HOME}/x\nB=$NOPE\n"), notef)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 2 || names[0] != "app/A" || string(reqs[0].Value) != "/h/x" {
		t.Fatalf("names %q, first value %q", names, reqs[0].Value)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "stdin line 2: the value of B refers to a variable defined neither earlier in the file nor in the environment") {
		t.Fatalf("notes = %q", notes)
	}
	wipe()
	if _, _, _, err := (File{Path: "-", Format: envfile.Dotenv}).Read(strings.NewReader("# nothing\n"), notef); err == nil || !strings.Contains(err.Error(), "holds no secrets") {
		t.Fatalf("an empty file: %v", err)
	}
}

func TestFormatsTellAnExportFromAFile(t *testing.T) {
	for _, c := range []struct {
		from, format, path string
		src                importer.Format
		f                  envfile.Format
	}{
		{"", "", "secrets.yml", "", envfile.YAML},
		{"", "json", "secrets.txt", "", envfile.JSON},
		{"json", "", "secrets.env", "", envfile.JSON}, // --from json is --format json
		{"bitwarden", "", "export.json", importer.Bitwarden, ""},
	} {
		src, f, err := Formats(c.from, c.format, c.path)
		if err != nil || src != c.src || (src == "" && f != c.f) {
			t.Errorf("Formats(%q, %q, %q) = %q, %q, %v", c.from, c.format, c.path, src, f, err)
		}
	}
	for _, bad := range [][2]string{{"lastpass", ""}, {"", "toml"}, {"shell", ""}} {
		if _, _, err := Formats(bad[0], bad[1], "x"); !usage.Is(err) {
			t.Errorf("Formats(%q, %q): %v, want a usage error", bad[0], bad[1], err)
		}
	}
}

func TestExportWritesTheFolderAndNamesTheSourcesLeftOut(t *testing.T) {
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "t.db"), []byte("correct horse"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	typ := vault.TypeDynamicPostgres
	if _, err := v.Set("app/DB", []byte("postgres://a:b@h/d"), vault.Update{Type: &typ, Dynamic: &vault.DynamicSource{Template: "GRANT r TO {{name}}", TTL: time.Hour}}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/KEY", []byte("k1"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	var notes []string
	notef := func(f string, args ...any) { notes = append(notes, fmt.Sprintf(f, args...)) }
	if err := Export(v, "app", envfile.Dotenv, &out, "", notef); err != nil {
		t.Fatal(err)
	}
	if out.String() != "KEY=\"k1\"\n" || len(notes) != 1 || !strings.Contains(notes[0], "app/DB is a dynamic source") {
		t.Fatalf("exported %q, said %q", out.String(), notes)
	}
	file := filepath.Join(t.TempDir(), "out.env")
	if err := Export(v, "app", envfile.Dotenv, &out, file, notef); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(file); err != nil || string(data) != "KEY=\"k1\"\n" {
		t.Fatalf("the file holds %q, %v", data, err)
	}
}
