package client

import (
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// Listings: what the server says of pending devices and joins, which no
// team member signs.

// 10. The server injects a made-up pending device into GET /v1/members.
//
// Defence: a pending device is listed only by an admin whose own
// invitation it answers, checked by the join's binding (GET /v1/joins),
// as an approval checks it (team.go, Members and bound). Without it, the
// made-up device is listed (marked pending) to everyone.
func TestMaliciousMadeUpPendingDevice(t *testing.T) {
	tm := newMTeam(t)
	real := tm.invite(t, "carol", wire.RoleWriter) // a real join, waiting
	ghost := newDeviceFor(t, "ghost")
	tm.p.onAfter("GET /v1/members", func(x *mExchange) {
		rewrite(t, x, func(ms *[]wire.Member) {
			*ms = append(*ms, wire.Member{Device: ghost, Role: wire.RoleAdmin, State: "pending", Joined: time.Now()})
		})
	})
	defer tm.p.honest()
	for _, d := range []*mDev{tm.admin, tm.bob} {
		ms, err := d.Members(mctx)
		if err != nil {
			t.Fatal(err)
		}
		sawReal := false
		for _, m := range ms {
			if m.ID == ghost.ID || m.Name == "ghost" {
				t.Errorf("%s lists the made-up device %+v", d.name, m)
			}
			if m.ID == real.id() {
				sawReal = true
				if !m.Pending || m.Role != wire.RoleWriter {
					t.Errorf("%s lists carol's join as %+v", d.name, m)
				}
			}
		}
		// Control: the admin who invited carol vouches for her join; a
		// member who did not, cannot, and does not list it.
		if want := d == tm.admin; sawReal != want {
			t.Errorf("%s lists carol's real join: %v, want %v", d.name, sawReal, want)
		}
	}
}

// 11. The server changes the invitation id in a pending join (GET
// /v1/joins), so that the admin's client would take it for another
// admin's and leave the joiner waiting without a word.
//
// Defence: a join under an unknown invitation whose binding checks out
// with one of this device's own invitations is reported as changed by the
// server (team.go, approve). Without it, the sync says nothing.
func TestMaliciousChangedInviteID(t *testing.T) {
	tm := newMTeam(t)
	carol := tm.invite(t, "carol", wire.RoleWriter)
	tm.p.onAfter("GET /v1/joins", func(x *mExchange) {
		rewrite(t, x, func(ps *[]wire.PendingJoin) {
			for i := range *ps {
				(*ps)[i].Invite = wire.NewID()
			}
		})
	})
	mark := tm.p.mark()
	rep, err := tm.admin.Sync(mctx)
	tm.p.honest()
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Approvals) != 1 || !strings.Contains(rep.Approvals[0].Refused, "the server changed the invitation") {
		t.Fatalf("approvals %+v", rep.Approvals)
	}
	if len(tm.p.sent(mark, "POST /v1/joins/approve", tm.admin.id())) != 0 {
		t.Fatal("a join under a changed invitation id was approved")
	}
	// Recovery: the honest server's join is approved by the next sync.
	rep = tm.sync(t, tm.admin)
	if len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" || rep.Approvals[0].Device != "carol-laptop" {
		t.Fatalf("the honest sync: %+v", rep.Approvals)
	}
	if rep := tm.sync(t, carol); !rep.GotKey {
		t.Fatal("carol got no key")
	}
}

// newDeviceFor is a well-formed device nobody invited.
func newDeviceFor(t testing.TB, name string) wire.Device {
	t.Helper()
	st, err := newIdentity(name, name)
	if err != nil {
		t.Fatal(err)
	}
	return st.Device
}
