package tui

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// A team vault: the header says how it syncs, and every change made here
// runs AfterWrite (an automatic sync) in the background, whose word
// becomes the status line.
func TestTeamVaultHeaderAndSyncAfterChange(t *testing.T) {
	path := NewFixtureVault(t, FixtureSecrets)
	o := FixtureOptions(t, path, nil)
	var calls atomic.Int32
	o.SyncLabel = func(*vault.Vault) string { return "sync: auto" }
	o.AfterWrite = func(v *vault.Vault) string {
		if v == nil || v.Locked() {
			t.Error("AfterWrite got no unlocked vault")
		}
		calls.Add(1)
		return "synced (pulled 0, pushed 1)"
	}
	u := StartUI(t, o)
	u.WaitText("3 secrets", "unlocked · sync: auto")
	if calls.Load() != 0 {
		t.Fatal("AfterWrite ran before any change")
	}
	u.Press("d")
	u.WaitText("y yes")
	u.Press("y")
	u.WaitText("synced (pulled 0, pushed 1)", "2 secrets")
	if n := calls.Load(); n != 1 {
		t.Fatalf("AfterWrite ran %d times for one change", n)
	}
	u.Quit()
}

// A vault of one's own shows nothing about sync.
func TestOwnVaultHeaderSaysNothingOfSync(t *testing.T) {
	path := NewFixtureVault(t, FixtureSecrets)
	o := FixtureOptions(t, path, nil)
	o.SyncLabel = func(*vault.Vault) string { return "" }
	u := StartUI(t, o)
	screen := u.WaitText("3 secrets")
	if strings.Contains(screen, "sync") {
		t.Fatalf("the header mentions sync for a vault of one's own:\n%s", screen)
	}
	u.Quit()
}

// A team vault's secret in a folder scope this device no longer holds is
// marked "out of scope" in the list (an old copy that gets no update),
// and no other is.
func TestOutOfScopeMark(t *testing.T) {
	path := NewFixtureVault(t, FixtureSecrets)
	o := FixtureOptions(t, path, nil)
	o.Held = func(*vault.Vault) func(string) bool {
		return func(name string) bool { return !strings.HasPrefix(name, "app/prod/") }
	}
	u := StartUISized(t, o, 100, 24)
	screen := u.WaitText("3 secrets", "out of scope")
	rows := 0
	for _, line := range strings.Split(screen, "\n") {
		if !strings.Contains(line, "API_KEY") && !strings.Contains(line, "GITHUB_TOKEN") && !strings.Contains(line, "DATABASE_URL") {
			continue
		}
		rows++
		if strings.Contains(line, "out of scope") != strings.Contains(line, "DATABASE_URL") {
			t.Errorf("mark on the wrong row: %q\n%s", line, screen)
		}
	}
	if rows < 3 {
		t.Errorf("%d rows of secrets on screen, want 3:\n%s", rows, screen)
	}
	u.Quit()
}
