package client_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
)

// Two hush processes on one vault: one makes an invitation while the
// other (an automatic sync) wants the team state. The second cannot load
// the state while the first owns it; once the first is done it loads what
// the first saved (nothing to merge), and its sync approves the join the
// invitation brings.
func TestOneOwnerOfTheTeamState(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, filepath.Join(t.TempDir(), "server.db"))
	admin, _ := pair(t, r.url)
	first, err := client.Open(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	// While the first owns the state, the second waits (here: until its
	// context ends) rather than load a copy that is about to be stale.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := client.Open(gone, admin); err == nil {
		t.Fatal("a second owner opened the team state while the first held it")
	}
	inv, err := first.Invite(ctx, "writer", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	first.Close()

	joiner := newVault(t)
	if _, err := client.Join(ctx, joiner, inv, client.JoinOptions{Device: "late", Member: "late"}); err != nil {
		t.Fatal(err)
	}
	second, err := client.Open(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if _, ok := second.State().Invites[inv.ID]; !ok {
		t.Fatal("the second owner does not see the invitation the first saved")
	}
	rep, err := second.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" {
		t.Fatalf("approvals %+v", rep.Approvals)
	}
	// A vault that is in no team has no team state to own.
	if _, err := client.Open(ctx, newVault(t)); !errors.Is(err, client.ErrNoTeam) {
		t.Fatalf("Open of a vault in no team: %v", err)
	}
}
