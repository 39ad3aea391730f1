package listing

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/vault"
)

func TestWriteHistorySaysWhatEachVersionIs(t *testing.T) {
	now := time.Now()
	hist := []vault.VersionInfo{
		{Version: 1, Name: "app/OLD", Type: "password", Size: 3, Created: now.Add(-48 * time.Hour)},
		{Version: 2, Name: "app/KEY", Type: "password", Size: 2048, Created: now.Add(-time.Hour), Note: "second"},
		{Version: 3, Name: "app/KEY", Type: "password", Size: 5, Created: now, Current: true},
	}
	var out bytes.Buffer
	if err := WriteHistory(&out, "app/KEY", hist, []int{3}, now); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "VERSION") {
		t.Fatalf("table:\n%s", out.String())
	}
	for i, want := range []string{"named app/OLD", "-", "current, damaged: " + DamagedValue} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("version %d: %q does not say %q", i+1, lines[i+1], want)
		}
	}
}

func TestWriteDueAndDueError(t *testing.T) {
	now := time.Now()
	items := []vault.DueItem{
		{Name: "app/KEY", What: "rotation", When: now.Add(-24 * time.Hour), Overdue: true},
		{Name: "app/CERT", What: "certificate end", Reason: "a member left", When: now.Add(72 * time.Hour)},
	}
	var out bytes.Buffer
	if err := WriteDue(&out, items, now); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "OVERDUE since") || !strings.Contains(s, "certificate end (a member left)") {
		t.Fatalf("table:\n%s", s)
	}
	if err := DueError(items, 1); err == nil || !strings.Contains(err.Error(), "1 overdue: rotate with") {
		t.Fatalf("DueError = %v", err)
	}
	machines := []vault.DueItem{{Name: "machine ci", What: "expiry", Overdue: true}}
	if err := DueError(machines, 1); err == nil || !strings.Contains(err.Error(), "1 machine(s) whose access has ended") {
		t.Fatalf("DueError for machines = %v", err)
	}
	if err := DueError(items[1:], 0); err != nil {
		t.Fatalf("nothing overdue: %v", err)
	}
}

func TestWriteAuditShowsDetailOnlyWhenThere(t *testing.T) {
	e := vault.AuditEntry{Seq: 1, Time: time.Now(), Device: "laptop", Action: "get", Names: []string{"app/KEY"}, Result: "ok"}
	var out bytes.Buffer
	if err := WriteAudit(&out, []vault.AuditEntry{e}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "DETAIL") {
		t.Fatalf("a DETAIL column without details:\n%s", out.String())
	}
	e.Detail = "expires 2026-12-08"
	out.Reset()
	if err := WriteAudit(&out, []vault.AuditEntry{e}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "DETAIL") || !strings.Contains(out.String(), "expires 2026-12-08") {
		t.Fatalf("no DETAIL column:\n%s", out.String())
	}
}

func TestDamagedHintNeverOffersACommandThatCannotWork(t *testing.T) {
	h := DamagedHint(&vault.DamagedSecretsError{Secrets: []vault.DamagedSecret{
		{Name: "app/KEY", Named: true}, {Name: "the secret with id 01ab", Named: false},
	}})
	if !strings.Contains(h, "`hush rm --purge app/KEY`") || strings.Contains(h, "--purge the secret") ||
		!strings.Contains(h, "the secret with id 01ab has no version left that gives its name") {
		t.Fatalf("hint: %s", h)
	}
}
