package machine

import (
	"context"
	"errors"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/vault"
)

// teamWithMachine starts a real server (in process, SQLite), makes a team
// with one secret and a reader machine, and returns the admin's vault and
// the machine's token.
func teamWithMachine(t *testing.T) (*vault.Vault, *client.Token) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "srv.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(st, server.Options{Rate: 1e6, Burst: 1e6})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close(); st.Close() })
	v, err := vault.Create(filepath.Join(t.TempDir(), "v.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if _, err := v.Set("app/KEY", []byte("one"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Create(ctx, v, client.CreateOptions{Server: hs.URL, Name: "acme", Device: "admin", Member: "admin"}); err != nil {
		t.Fatal(err)
	}
	tm, err := client.Open(ctx, v)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if _, err := tm.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	tok, err := tm.InviteMachine(ctx, "k8s", "reader", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return v, tok
}

// The two views take turns; the one synced now must not be behind the one
// served (each view alone refuses only what it saw itself).
func TestAgentViewsNeverGoBack(t *testing.T) {
	_, tok := teamWithMachine(t)
	a, err := NewAgent(AgentOptions{Token: tok, Auth: []byte("0123456789abcdef-bearer"), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.close()
	ctx := context.Background()
	for range 2 { // the first view, then the second from scratch
		if err := a.sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	served := a.serve
	served.t.State().Head += 100 // as if the served view had seen more
	err = a.sync(ctx)
	var rb *client.RollbackError
	if !errors.As(err, &rb) {
		t.Fatalf("a view behind the served one: %v", err)
	}
	if a.serve != served {
		t.Fatal("the view behind was swapped in")
	}
	s, err := a.serve.v.Get("app/KEY")
	if err != nil || string(s.Value) != "one" {
		t.Fatalf("the served view: %v", err)
	}
}
