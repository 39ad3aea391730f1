package teamsync

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

func TestAVaultOfOnesOwnHasNoTeamPart(t *testing.T) {
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "own.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	st, err := ReadStatus(v)
	if err != nil || st != nil {
		t.Fatalf("ReadStatus = %v, %v; want nil, nil", st, err)
	}
	if n := AfterCommand(v, true); n != nil {
		t.Errorf("AfterCommand said %q for a vault of one's own", n)
	}
	if l, q, f := Label(v), Quiet(v), Freshness(v); l != "" || q != "" || f != "" {
		t.Errorf("Label, Quiet, Freshness = %q, %q, %q; want nothing", l, q, f)
	}
}

func TestAReaderIsNotToldToPush(t *testing.T) {
	s := &client.Status{Role: "reader", Unpushed: 2}
	if w := SyncWords(s); strings.Contains(w, "hush sync") || !strings.Contains(w, "stay on this device") {
		t.Errorf("reader: %q", w)
	}
	s.Role = "writer"
	if w := SyncWords(s); !strings.Contains(w, "2 local change(s) not yet pushed: run `hush sync`") {
		t.Errorf("writer: %q", w)
	}
	s.Unpushed, s.Auto = 0, true
	if w := SyncWords(s); w != "nothing to push; automatic sync on" {
		t.Errorf("nothing waits: %q", w)
	}
}

// Changes outside the folder scopes a device may write stay on it: status
// says so, and asks for a sync only for the others.
func TestKeptChangesAreNotToPush(t *testing.T) {
	s := &client.Status{Role: "writer", Unpushed: 1}
	if w := syncWords(s, 1); strings.Contains(w, "hush sync") || w != "1 local change(s) stay on this device: outside the folder scopes it may write, or moved out of them by a teammate (`hush team scopes`)" {
		t.Errorf("all kept: %q", w)
	}
	s.Unpushed, s.Auto = 3, true
	if w := syncWords(s, 1); !strings.HasPrefix(w, "2 local change(s) not yet pushed (automatic sync sends them") || !strings.HasSuffix(w, "; 1 local change(s) stay on this device: outside the folder scopes it may write, or moved out of them by a teammate (`hush team scopes`)") {
		t.Errorf("some kept: %q", w)
	}
}

// A member who holds no root shows what she holds as her role; one who
// holds the root, her team role; a team without scopes, the role.
func TestRoleCell(t *testing.T) {
	member := func(active, pending bool, scopes []client.ScopeRole) client.Member {
		return client.Member{LogDevice: wire.LogDevice{Role: "writer", Active: active}, Pending: pending, Scopes: scopes}
	}
	for _, c := range []struct {
		m    client.Member
		want string
	}{
		{member(true, false, nil), "writer"},
		{member(true, false, []client.ScopeRole{{Folder: "/", Role: "writer"}, {Folder: "app/x", Role: "reader"}}), "writer"},
		{member(true, false, []client.ScopeRole{{Folder: "app/a", Role: "reader"}, {Folder: "app/b", Role: "writer"}}), "reader on app/a, writer on app/b"},
		{member(true, false, []client.ScopeRole{}), "no scope"},
		{member(false, true, []client.ScopeRole{}), "writer"},
	} {
		if got := RoleCell(c.m); got != c.want {
			t.Errorf("RoleCell(%+v) = %q, want %q", c.m.Scopes, got, c.want)
		}
	}
}

func TestAnAutomaticSyncNeverFailsItSaysSo(t *testing.T) {
	offline := AutoNotes(nil, fmt.Errorf("%w at https://x: refused", client.ErrOffline))
	if len(offline) != 1 || !strings.Contains(offline[0], "working offline") {
		t.Errorf("offline: %q", offline)
	}
	removed := AutoNotes(nil, client.ErrRemoved)
	if len(removed) != 1 || !strings.Contains(removed[0], RemovedWords) {
		t.Errorf("removed: %q", removed)
	}
	rep := &client.Report{Conflicts: []string{"a/B"}, Stale: 1, Fresh: client.Freshness{Quiet: 10 * 24 * time.Hour, Wrote: true}}
	got := strings.Join(AutoNotes(rep, nil), "\n")
	for _, want := range []string{"1 in conflict", "hush resolve NAME", "1 change(s) go up with the next", "for 10 days: it may be showing this device a frozen view"} {
		if !strings.Contains(got, want) {
			t.Errorf("notes lack %q:\n%s", want, got)
		}
	}
	if n := AutoNotes(&client.Report{}, nil); len(n) != 0 {
		t.Errorf("a clean sync said %q", n)
	}
}

func TestMemberState(t *testing.T) {
	for _, c := range []struct {
		m    client.Member
		want string
	}{{client.Member{Pending: true}, "pending"}, {client.Member{LogDevice: wire.LogDevice{Active: true}}, "active"}, {client.Member{}, "removed"}} {
		if got := MemberState(c.m); got != c.want {
			t.Errorf("MemberState(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}

func TestWatchNotesSayNothingForANothingSync(t *testing.T) {
	if n := WatchNotes(&client.Report{}); len(n) != 0 {
		t.Errorf("a sync with nothing to do said %q", n)
	}
	n := strings.Join(WatchNotes(&client.Report{GotKey: true, Pulled: 2, Approvals: []client.Approval{{Device: "d", Member: "m", Role: "writer"}}}), "\n")
	if n != "approved d (m) as writer\nreceived the team key\npulled 2, pushed 0" {
		t.Errorf("notes:\n%s", n)
	}
}

// A record a teammate signed but that cannot be read is a warning that
// names the writer, its device and the secret, and what to do.
func TestUnreadableRecordIsAWarning(t *testing.T) {
	notes := ReportNotes(&client.Report{Unreadable: []client.Unreadable{{ID: "0123", Name: "db/PASS", Version: 4, Device: "m-laptop", Member: "mallory", Reason: "its ciphertext failed authentication"}}})
	if len(notes) != 1 {
		t.Fatalf("notes: %q", notes)
	}
	for _, want := range []string{"warning:", "mallory", "m-laptop", "db/PASS (0123)", "version 4", "hush team remove mallory"} {
		if !strings.Contains(notes[0], want) {
			t.Errorf("note %q lacks %q", notes[0], want)
		}
	}
}

// Records taken in after a removal are counted; one a member who has left
// wrote is a warning of its own, naming the secret and who wrote it.
func TestTakenInNamesALeaver(t *testing.T) {
	notes := ReportNotes(&client.Report{TakenIn: []client.TakenIn{
		{Name: "db/USER", Member: "bob", Device: "bob-laptop"},
		{Name: "app/WEBHOOK", Member: "mallory", Device: "m-laptop", Removed: true},
	}})
	if len(notes) != 2 || !strings.Contains(notes[0], "2 record(s)") {
		t.Fatalf("notes: %q", notes)
	}
	for _, want := range []string{"warning:", "app/WEBHOOK", "mallory's device m-laptop", "no longer in the team"} {
		if !strings.Contains(notes[1], want) {
			t.Errorf("note %q lacks %q", notes[1], want)
		}
	}
}
