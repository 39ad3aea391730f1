package client

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// Machines (threat 27 in docs/security.md): a lying server cannot keep a
// removed or expired machine's view alive without the machine noticing.

// An expired machine: the server goes on serving it (its clock says not
// yet, or it ignores the expiry): the machine's own client refuses, by
// the expiry signed in the log and its own clock. Without the check in
// syncLog, the read succeeds.
func TestMaliciousMachineExpiredKeptAlive(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci-deploy", wire.RoleReader, time.Hour)
	mark := tm.p.mark()
	v, _, err := machineRead(t, tok, tok.Expires.Add(time.Minute))
	var me *MachineExpiredError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "machine ci-deploy's access to the team expired on") {
		t.Fatalf("expired machine read through a server that serves it: %v", err)
	}
	// It took nothing from the server: no key fetched, no record pulled.
	if n := len(tm.p.sent(mark, "GET /v1/key", tok.Device)) + len(tm.p.sent(mark, "GET /v1/changes", tok.Device)) + len(tm.p.sent(mark, "GET /v2/chain", tok.Device)); n > 0 {
		t.Fatalf("the expired machine went on after the log: %d requests", n)
	}
	if _, err := v.Get("app/alpha"); err == nil {
		t.Fatal("the expired machine holds a secret")
	}
	// Nor can the server stretch the expiry: the log entry is signed.
	tm.p.onAfter("GET /v1/log", func(x *mExchange) {
		if x.Device == tok.Device {
			rewrite(t, x, func(lg *wire.Log) {
				for i := range lg.Entries {
					if lg.Entries[i].Kind == wire.LogMachine {
						lg.Entries[i].Expires = lg.Entries[i].Expires.Add(365 * 24 * time.Hour)
					}
				}
			})
		}
	})
	_, _, err = machineRead(t, tok, tok.Expires.Add(time.Minute))
	if !errors.Is(err, wire.ErrLogFork) {
		t.Fatalf("a stretched expiry: %v", err)
	}
}

// A removed machine: the server hides the removal (the log as it was
// before it, the machine's old key).
//
//   - Served the records it holds now (re-sealed under the new epoch, with
//     a value written after the removal), the machine refuses them: they
//     were written at log positions it was not shown (logAheadError in
//     open).
//   - Served the records as they were before the removal (kept from
//     then), the machine reads the team as it was when it was removed:
//     values it already had, never one written since. Nothing in a
//     one-shot read can tell that replay from the truth; the expiry
//     bounds it: once the machine's access has ended by its own clock,
//     even that replay is refused.
func TestMaliciousMachineRemovalHidden(t *testing.T) {
	tm := newMTeam(t)
	tok := tm.inviteMachine(t, "ci-deploy", wire.RoleReader, 90*24*time.Hour)
	if _, _, err := machineRead(t, tok, time.Time{}); err != nil {
		t.Fatal(err)
	}
	oldKey := tm.p.lastResp("GET /v1/key", tok.Device)
	oldChain := tm.p.lastResp("GET /v2/chain", tok.Device)
	before := tm.admin.st.Members.Seq
	if _, err := tm.admin.Remove(mctx, "ci-deploy"); err != nil {
		t.Fatal(err)
	}
	mSet(t, tm.admin.v, "app/alpha", "alpha-after-removal")
	tm.sync(t, tm.admin)
	// What the server holds now, as a new member's first pull gets it.
	carol := tm.add(t, "carol", wire.RoleReader)
	nowChain := tm.p.lastResp("GET /v2/chain", carol.id())

	team := tm.admin.st.Team
	tm.p.onBefore("GET /v1/log", func(x *mExchange) bool {
		if x.Device != tok.Device {
			return false
		}
		since, _ := strconv.ParseInt(strings.TrimPrefix(x.Query, "since="), 10, 64)
		lg := tm.p.fullLog(t, team)[since:before]
		return answer(x, 200, wire.Log{Entries: lg, Head: before})
	})
	tm.p.onBefore("GET /v1/key", func(x *mExchange) bool {
		if x.Device != tok.Device {
			return false
		}
		x.Status, x.Resp = 200, oldKey
		return true
	})
	current := true
	tm.p.onBefore("GET /v2/chain", func(x *mExchange) bool {
		if x.Device != tok.Device {
			return false
		}
		x.Status, x.Resp = 200, oldChain
		if current {
			x.Resp = nowChain
		}
		return true
	})
	v, _, err := machineRead(t, tok, time.Time{})
	if err == nil || !strings.Contains(err.Error(), "written at a membership log position this device has not seen") {
		t.Fatalf("current records through a server hiding the removal: %v", err)
	}
	if _, gerr := v.Get("app/alpha"); gerr == nil {
		t.Fatal("a refused pull applied a record")
	}

	current = false
	v, _, err = machineRead(t, tok, time.Time{})
	if err != nil {
		t.Fatalf("the old view replayed: %v", err)
	}
	if got := mGet(t, v, "app/alpha"); got != "alpha-1" {
		t.Fatalf("the removed machine read %q", got)
	}
	for _, x := range tm.p.since(0) {
		if x.Device == tok.Device && strings.Contains(string(x.Resp), "alpha-after-removal") {
			t.Fatal("the value written after the removal reached the machine in clear")
		}
	}
	if _, _, err := machineRead(t, tok, tok.Expires); !errors.Is(err, wire.ErrMachineExpired) {
		t.Fatalf("the old view replayed after the expiry: %v", err)
	}
}
