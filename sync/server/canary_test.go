package server_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// Canaries: plaintext the server must never hold. Device, member and team
// names are not canaries: the server stores them to list the team.
const (
	canaryName   = "prod/CanaryName-q8Zt3xWv"
	canaryValue  = "CanaryValue-hV3kP0aQ9s"
	canaryNote   = "CanaryNote-Lm2Rb7Yd"
	canaryTag    = "CanaryTag-Xc4Nf1Jw"
	canaryName2  = "staging/CanaryName2-Gu6Te5Ks"
	canaryValue2 = "CanaryValue2-Pz1Oy8Hr"
)

func newVault(t *testing.T, dir string) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(dir, "vault.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// openTeam opens v's team for one call, as one hush command would: the
// lock is released when the test's next openTeam of v needs it.
func openTeam(t *testing.T, v *vault.Vault) *client.Team {
	t.Helper()
	if prev, ok := openTeams[v]; ok {
		prev.Close()
	}
	tm, err := client.Open(t.Context(), v)
	if err != nil {
		t.Fatal(err)
	}
	openTeams[v] = tm
	t.Cleanup(func() { tm.Close(); delete(openTeams, v) })
	return tm
}

var openTeams = map[*vault.Vault]*client.Team{}

// TestNoPlaintextOnServer runs the real client (sync/client on real vaults)
// against the server: create, invite, join, approve, sync both ways,
// change the member's role and remove it (a new key epoch: every secret
// re-sealed and pushed again). Then neither the server's SQLite files
// (records, the membership log, keys) nor its log hold a secret's name,
// value, note or tag.
func TestNoPlaintextOnServer(t *testing.T) {
	e := newEnv(t, server.Options{})
	ctx := t.Context()

	v1 := newVault(t, t.TempDir())
	note, tags := canaryNote, []string{canaryTag}
	if _, err := v1.Set(canaryName, []byte(canaryValue), vault.Update{Note: &note, Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	st1, err := client.Create(ctx, v1, client.CreateOptions{Server: e.hs.URL, Name: "acme", Device: "laptop-1", Member: "ann"})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := openTeam(t, v1).Sync(ctx); err != nil || rep.Pushed != 1 {
		t.Fatalf("first sync: %+v, %v", rep, err)
	}
	inv, err := openTeam(t, v1).Invite(ctx, wire.RoleWriter, "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, err := client.ParseInvite(inv.String())
	if err != nil {
		t.Fatal(err)
	}
	v2 := newVault(t, t.TempDir())
	_, err = client.Join(ctx, v2, code, client.JoinOptions{Device: "laptop-2", Member: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := openTeam(t, v1).Sync(ctx); err != nil || len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" {
		t.Fatalf("admin's sync: %+v, %v", rep, err)
	}
	if rep, err := openTeam(t, v2).Sync(ctx); err != nil || !rep.GotKey || rep.Pulled != 1 {
		t.Fatalf("member's sync: %+v, %v", rep, err)
	}
	s, err := v2.Get(canaryName)
	if err != nil || string(s.Value) != canaryValue || s.Note != canaryNote {
		t.Fatalf("the member reads %+v, %v", s, err)
	}
	// The member writes; the admin pulls it.
	if _, err := v2.Set(canaryName2, []byte(canaryValue2), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	if rep, err := openTeam(t, v2).Sync(ctx); err != nil || rep.Pushed != 1 {
		t.Fatalf("member's push: %+v, %v", rep, err)
	}
	if rep, err := openTeam(t, v1).Sync(ctx); err != nil || rep.Pulled != 1 {
		t.Fatalf("admin's pull: %+v, %v", rep, err)
	}
	// The membership log moves: a role change, then the member's removal,
	// each of which starts a new key epoch (a demotion from writer does
	// too); every secret goes up again, re-sealed.
	if _, err := openTeam(t, v1).SetRole(ctx, "bob", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	rm, err := openTeam(t, v1).Remove(ctx, "bob")
	if err != nil || rm.Epoch != 3 || rm.Exposed != 2 {
		t.Fatalf("removing the member: %+v, %v", rm, err)
	}
	if rep, err := openTeam(t, v1).Sync(ctx); err != nil || rep.Pushed != 2 {
		t.Fatalf("admin's push after the new epoch: %+v, %v", rep, err)
	}
	if epoch, logSeq, err := e.st.Team(ctx, st1.Team); err != nil || epoch != 3 || logSeq != 6 {
		t.Fatalf("the team after the removal: epoch %d, log %d, %v", epoch, logSeq, err)
	}

	canaries := []string{canaryName, canaryValue, canaryNote, canaryTag, canaryName2, canaryValue2,
		// name segments on their own
		"CanaryName-q8Zt3xWv", "CanaryName2-Gu6Te5Ks"}
	// What the server does hold, to show the search would find plaintext:
	// device and team names, stored as they are.
	controls := []string{"laptop-1", "laptop-2", "acme"}

	files := func() map[string][]byte {
		out := map[string][]byte{"server log": e.logs.Bytes()}
		matches, _ := filepath.Glob(e.db + "*")
		for _, m := range matches {
			b, err := os.ReadFile(m)
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(m)] = b
		}
		return out
	}
	check := func(when string) {
		t.Helper()
		all := files()
		var disk []byte
		for name, b := range all {
			for _, c := range canaries {
				if bytes.Contains(b, []byte(c)) || bytes.Contains(bytes.ToLower(b), []byte(strings.ToLower(c))) {
					t.Errorf("%s: %s holds the plaintext %q", when, name, c)
				}
			}
			if name != "server log" {
				disk = append(disk, b...)
			}
		}
		for _, c := range controls {
			if !bytes.Contains(disk, []byte(c)) {
				t.Errorf("%s: the server's files do not hold %q: the search reads the wrong files", when, c)
			}
		}
	}
	check("server running")
	if len(e.logs.Bytes()) == 0 {
		t.Error("the server logged nothing: the log check is vacuous")
	}
	// On close the WAL is checkpointed into the database and the nonces saved.
	e.stop()
	check("server stopped")
}
