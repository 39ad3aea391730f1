package client_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
)

// Two hush processes on one vault: one makes an invitation while the
// other holds an older copy of the team state (an automatic sync); the
// older copy's save keeps the invitation, so the join it brings is
// approved.
func TestSaveKeepsAnotherProcesssInvitation(t *testing.T) {
	ctx := context.Background()
	r := newRig(t, filepath.Join(t.TempDir(), "server.db"))
	admin, _, ast, _ := pair(t, r.url)
	other, err := client.Load(admin)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := client.CreateInvite(ctx, admin, other, "writer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := ast.Save(admin); err != nil {
		t.Fatal(err)
	}
	fresh, err := client.Load(admin)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fresh.Invites[inv.ID]; !ok {
		t.Fatal("an older copy of the team state dropped an invitation made meanwhile")
	}

	// The join it brings is approved by a sync of the older copy.
	joiner := newVault(t)
	if _, err := client.Join(ctx, joiner, inv, client.JoinOptions{Device: "late", Member: "late"}); err != nil {
		t.Fatal(err)
	}
	rep, err := client.Sync(ctx, admin, ast)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" {
		t.Fatalf("approvals %+v", rep.Approvals)
	}
}
