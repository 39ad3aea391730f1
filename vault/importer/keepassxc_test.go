package importer

import (
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
}
