package teamsync

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
)

func TestJoinMember(t *testing.T) {
	for _, c := range []struct {
		invMember, member, device, want string
		bad                             bool
	}{
		{"", "", "laptop", "laptop", false},
		{"", "bob", "laptop", "bob", false},
		{"bob", "", "laptop", "bob", false},
		{"bob", "bob", "laptop", "bob", false},
		{"bob", "eve", "laptop", "", true},
	} {
		got, err := JoinMember(&client.Invite{Member: c.invMember}, c.member, c.device)
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("JoinMember(inv %q, %q, %q) = %q, %v", c.invMember, c.member, c.device, got, err)
		}
		if c.bad && !strings.Contains(err.Error(), "use --member bob") {
			t.Errorf("error does not say what to do: %v", err)
		}
	}
}

// A sync that worked still fails a script when it left something for a
// person: changes not shown back first, then conflicts.
func TestOutstanding(t *testing.T) {
	if err := Outstanding(&client.Report{}); err != nil {
		t.Errorf("nothing outstanding: %v", err)
	}
	if err := Outstanding(&client.Report{Unconfirmed: 2, Conflicts: []string{"a"}}); err == nil || !strings.HasPrefix(err.Error(), "2 change(s) not pushed") {
		t.Errorf("unconfirmed: %v", err)
	}
	if err := Outstanding(&client.Report{Conflicts: []string{"a", "b"}}); err == nil || !strings.HasPrefix(err.Error(), "2 in conflict (changed here and by a teammate): a, b\n") {
		t.Errorf("conflicts: %v", err)
	}
}

// verify --json keeps its keys and their order; refused appears only
// when the server's answer was refused. Every way the server was not
// checked now fails the command.
func TestVerify(t *testing.T) {
	fp := &client.Fingerprint{Team: "t", Genesis: "g", Seq: 3, Head: "h", ChainPos: 4, ChainHead: "c", Hash: "x"}
	b, _ := json.Marshal(Verified(fp))
	if want := `{"chain_entries":4,"chain_head":"c","fingerprint":"g","hash":"x","head":"h","log_entries":3,"offline":false,"team":"t"}`; string(b) != want {
		t.Errorf("json %s\nwant %s", b, want)
	}
	if VerifyError(fp, false) != nil || VerifyError(fp, true) != nil {
		t.Error("a checked server failed verify")
	}
	refused := errors.New("bad signature")
	fp.Refused = refused
	if b, _ := json.Marshal(Verified(fp)); !strings.Contains(string(b), `"refused":"bad signature"`) {
		t.Errorf("json %s", b)
	}
	if err := VerifyError(fp, false); !errors.Is(err, refused) || !strings.Contains(err.Error(), "the above is what") {
		t.Errorf("refused: %v", err)
	}
	fp.Refused, fp.Offline = nil, true
	for _, j := range []bool{false, true} {
		if err := VerifyError(fp, j); err == nil || !strings.Contains(err.Error(), "unreachable") {
			t.Errorf("offline (json %v): %v", j, err)
		}
	}
	var out bytes.Buffer
	WriteVerify(&out, fp)
	if !strings.Contains(out.String(), "log head     3: h\n") || !strings.HasSuffix(out.String(), "compare      x\n") {
		t.Errorf("verify text:\n%s", out.String())
	}
}

func TestTables(t *testing.T) {
	var out bytes.Buffer
	if err := WriteScopes(&out, []client.ScopeInfo{{Folder: "/", Epoch: 1, Holders: []client.ScopeHolder{{Member: "alice", Role: "admin"}, {Member: "bob", Role: "reader"}}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "alice (admin), bob (reader)") {
		t.Errorf("scopes:\n%s", out.String())
	}
	out.Reset()
	names := []string{"a", "b", "c", "d", "e", "f", "g"}
	if err := WriteAudit(&out, []client.AuditEvent{{AuditEvent: wire.AuditEvent{Time: time.Now(), Action: "pull", Result: "ok"}, Member: "bob", DeviceName: "laptop", Names: names}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "a, b, c, d, e and 2 more") {
		t.Errorf("audit:\n%s", out.String())
	}
	out.Reset()
	now := time.Now()
	ms := []client.Member{
		{LogDevice: wire.LogDevice{Device: wire.Device{Member: "alice", Name: "laptop", ID: "1"}, Role: "admin", Active: true}, Joined: now, LastSeen: now},
		{LogDevice: wire.LogDevice{Device: wire.Device{Member: "ci", Name: "ci", ID: "2"}, Role: "reader", Active: true, Machine: true, Expires: now.Add(-time.Hour)}, Joined: now},
	}
	if err := WriteMembers(&out, ms, "1", now); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"EXPIRES", "laptop (this device)", "(machine)", "(expired)", "never"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("members: no %q in\n%s", want, out.String())
		}
	}
}
