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
