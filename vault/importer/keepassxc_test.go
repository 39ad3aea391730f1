package importer

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// TestKeePassXCCLIExport reads a CSV made by the real KeePassXC:
// keepassxc-cli creates a database, adds entries in nested groups,
// recycles one, and exports the CSV hush then imports.
func TestKeePassXCCLIExport(t *testing.T) {
	cli, err := exec.LookPath("keepassxc-cli")
	if err != nil {
		if real() {
			t.Fatal("keepassxc-cli is not installed (HUSH_TEST_REAL=1): run scripts/install-test-deps.sh")
		}
		t.Skip("keepassxc-cli is not installed (package keepassxc)")
	}
	db := filepath.Join(t.TempDir(), "t.kdbx")
	run := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, args...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("keepassxc-cli %v: %v", args, err)
		}
		return string(out)
	}
	run("dbpw\ndbpw\n", "db-create", "-q", "-p", "-t", "100", db)
	run("dbpw\n", "mkdir", "-q", db, "Work")
	run("dbpw\n", "mkdir", "-q", db, "Work/Servers")
	run("dbpw\nsekrit-1\n", "add", "-q", "-p", "-u", "postgres", "--url", "https://db.example.com", "--notes", "port 5432\nreplica \"too\"", db, "Work/Servers/db prod")
	run("dbpw\nsek,rit\"2\n", "add", "-q", "-p", "-u", "me", db, "Email")
	run("dbpw\nsekrit-3\n", "add", "-q", "-p", db, "old")
	run("dbpw\n", "rm", "-q", db, "old")
	csv := run("dbpw\n", "export", "-q", "-f", "csv", db)
	if !strings.HasPrefix(csv, `"Group","Title","Username","Password","URL","Notes"`) {
		t.Fatalf("unexpected CSV header: %.80q", csv)
	}
	p := mustParse(t, KeePassXCCSV, []byte(csv), Options{})
	dbp := wantItem(t, p, "Work/Servers/db_prod", "sekrit-1", vault.TypePassword)
	if dbp.Note != "username: postgres\nurl: https://db.example.com\n\nport 5432\nreplica \"too\"" {
		t.Errorf("note %q", dbp.Note)
	}
	wantItem(t, p, "Email", "sek,rit\"2", vault.TypePassword)
	if len(p.Items) != 2 {
		t.Errorf("%d items, want 2", len(p.Items))
	}
	wantSkips(t, p, map[string]int{reasonTrash: 1})

	// The database itself, through keepassxc-cli: the same plan.
	env := append(os.Environ(), "QT_QPA_PLATFORM=offscreen")
	pw := func(s string) func() ([]byte, error) { return func() ([]byte, error) { return []byte(s), nil } }
	k, err := Read(KDBX, db, Options{Password: pw("dbpw"), KeePassXC: cli, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	checkPlan(t, k)
	wantItem(t, k, "Work/Servers/db_prod", "sekrit-1", vault.TypePassword)
	wantItem(t, k, "Email", "sek,rit\"2", vault.TypePassword)
	if len(k.Items) != 2 || len(k.Skipped) != 1 {
		t.Errorf("kdbx plan %+v", k)
	}
	if _, err := Read(KDBX, db, Options{Password: pw("wrong"), KeePassXC: cli, Env: env}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password = %v", err)
	}
	if _, err := Read(KDBX, db, Options{KeePassXC: cli, Env: env}); !errors.Is(err, ErrNoPassword) {
		t.Errorf("no password = %v", err)
	}
	notDB := filepath.Join(t.TempDir(), "x.kdbx")
	os.WriteFile(notDB, []byte("sekrit, not a database"), 0o600)
	if _, err := Read(KDBX, notDB, Options{Password: pw("dbpw"), KeePassXC: cli, Env: env}); err == nil ||
		!strings.Contains(err.Error(), "keepassxc-cli could not export") || strings.Contains(err.Error(), "krit") {
		t.Errorf("not a database = %v", err)
	}
}

func TestKDBXWithoutKeePassXC(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.kdbx")
	os.WriteFile(f, nil, 0o600)
	_, err := Read(KDBX, f, Options{KeePassXC: "hush-no-such-keepassxc-cli"})
	if err == nil || !strings.Contains(err.Error(), "keepassxc-cli is not installed") {
		t.Errorf("missing keepassxc-cli = %v", err)
	}
}
