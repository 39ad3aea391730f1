package client

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// Membership log attacks: forged entries, and a fork shown to a joiner.

// 5. The server adds a member, a device, a role change, an epoch or a
// removal of its own making to the log it serves (GET /v1/log), signed by
// itself, by a writer colluding with it, by a removed admin device, or
// under an admin's name with a wrong key; or it inserts a removed admin's
// entry into the history, before the removal.
//
// Defence: wire.Membership.Apply takes an entry only if it extends the
// verified chain (seq, prev hash) and an admin device active right before
// it signed it (Ed25519 over the whole entry); syncLog applies the new
// entries to a copy, so a bad one leaves the verified state as it was.
// Without the admin check in Apply, the admin's next Rotate wraps the new
// key to the server's device.
func TestMaliciousForgedLogEntries(t *testing.T) {
	tm := newMTeam(t)
	evil := newMEvil(t)
	admin2 := tm.add(t, "admin2", wire.RoleAdmin)
	if _, err := tm.admin.Remove(mctx, "admin2"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	tm.sync(t, tm.bob)
	team := tm.admin.st.Team
	seedOf := func(d *mDev) []byte { return d.st.SignSeed }

	// forge makes the log's next entry, as f says, signed by signer with
	// seed.
	forge := func(signer string, seed []byte, f func(e *wire.LogEntry)) wire.LogEntry {
		all := tm.p.fullLog(t, team)
		e := wire.LogEntry{Seq: int64(len(all)) + 1, Prev: all[len(all)-1].Hash(), Time: time.Now().UTC(), Team: team}
		f(&e)
		e.Sign(signer, ed25519.NewKeyFromSeed(seed))
		return e
	}
	addEvil := func(member, role string) func(e *wire.LogEntry) {
		return func(e *wire.LogEntry) {
			d := evil.dev
			d.Member = member
			e.Kind, e.Device, e.Role = wire.LogAdd, &d, role
		}
	}
	const notAdmin, badSig = "which is not an admin of the team at this point", "its signature does not check out"
	cases := []struct {
		name, text string
		entry      func() wire.LogEntry
	}{
		{"a device added by the server", notAdmin, func() wire.LogEntry {
			return forge(evil.dev.ID, evil.sign, addEvil("mallory", wire.RoleWriter))
		}},
		{"a device added by a writer", notAdmin, func() wire.LogEntry {
			return forge(tm.bob.id(), seedOf(tm.bob), addEvil("mallory", wire.RoleWriter))
		}},
		{"a device added in an admin's name", badSig, func() wire.LogEntry {
			return forge(tm.admin.id(), evil.sign, addEvil("admin", wire.RoleAdmin))
		}},
		{"a writer made admin by himself", notAdmin, func() wire.LogEntry {
			return forge(tm.bob.id(), seedOf(tm.bob), func(e *wire.LogEntry) { e.Kind, e.Member, e.Role = wire.LogRole, "bob", wire.RoleAdmin })
		}},
		{"a new epoch by a writer", notAdmin, func() wire.LogEntry {
			return forge(tm.bob.id(), seedOf(tm.bob), func(e *wire.LogEntry) { e.Kind, e.Epoch = wire.LogEpoch, tm.admin.st.Members.Epoch+1 })
		}},
		{"the admin removed by a writer", notAdmin, func() wire.LogEntry {
			return forge(tm.bob.id(), seedOf(tm.bob), func(e *wire.LogEntry) { e.Kind, e.Target = wire.LogRemove, tm.admin.id() })
		}},
		{"a device added by a removed admin device", notAdmin, func() wire.LogEntry {
			return forge(admin2.id(), seedOf(admin2), addEvil("mallory", wire.RoleAdmin))
		}},
	}
	adminStart, bobStart := tm.admin.snapshot(t), tm.bob.snapshot(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm.p.onAfter("GET /v1/log", func(x *mExchange) {
				e := c.entry()
				rewrite(t, x, func(l *wire.Log) { l.Entries = append(l.Entries, e); l.Head = e.Seq })
			})
			defer tm.p.honest()
			mark := tm.p.mark()
			for _, d := range []*mDev{tm.admin, tm.bob} {
				before := mSecrets(t, d.v)
				_, err := d.Sync(mctx)
				mWantErr(t, err, c.text, nil)
				if !errors.Is(err, wire.ErrLogFork) {
					t.Errorf("%v is not ErrLogFork", err)
				}
				mSame(t, d.name+"'s secrets", mSecrets(t, d.v), before)
			}
			_, err := tm.admin.Rotate(mctx)
			mWantErr(t, err, c.text, nil)
			if !bytes.Equal(tm.admin.snapshot(t), adminStart) || !bytes.Equal(tm.bob.snapshot(t), bobStart) {
				t.Errorf("a team state changed")
			}
			for _, x := range tm.p.since(mark) {
				if x.Method == "POST" {
					t.Errorf("a client sent %s %s", x.Method, x.Path)
				}
			}
			tm.noKeyFor(t, evil)
		})
	}

	t.Run("a removed admin's entry inserted before its removal", func(t *testing.T) {
		all := tm.p.fullLog(t, team)
		var at int // admin2's removal
		for i, e := range all {
			if e.Kind == wire.LogRemove {
				at = i
			}
		}
		e := wire.LogEntry{Seq: all[at].Seq, Prev: all[at-1].Hash(), Time: time.Now().UTC(), Team: team}
		addEvil("mallory", wire.RoleWriter)(&e)
		e.Sign(admin2.id(), ed25519.NewKeyFromSeed(seedOf(admin2)))
		forged := append(append(append([]wire.LogEntry(nil), all[:at]...), e), all[at:]...)
		for i := at + 1; i < len(forged); i++ {
			forged[i].Seq++ // the rest moves down; its prev hashes cannot follow
		}
		st := *tm.bob.st
		st.Members, st.Keys, st.Epoch, st.Head, st.Seen = nil, map[int64][]byte{}, 0, 0, 0
		anew := &mDev{name: "bob-anew", v: mVault(t), st: &st}
		tm.p.onBefore("GET /v1/log", func(x *mExchange) bool {
			return answer(x, 200, wire.Log{Entries: forged, Head: int64(len(forged))})
		})
		defer tm.p.honest()
		_, err := anew.Sync(mctx)
		mWantErr(t, err, "does not chain to entry", nil)
		if anew.st.Members != nil {
			t.Errorf("bob trusted the forged log")
		}
	})
}

// Attack 5, a removed device signs: a removed admin colluding with the
// server forks the log for a device that joins after the removal: the log
// cut just before admin2's removal, plus an entry adding the joiner signed
// by admin2 (an admin at that point of the fork), and a key wrapped by
// admin2. The invitation pins the log's head when it was made (seq and
// hash); the fork branches before the removal, which precedes the
// invitation, so the joiner refuses it.
func TestMaliciousForkForJoiner(t *testing.T) {
	tm := newMTeam(t)
	admin2 := tm.add(t, "admin2", wire.RoleAdmin)
	oldKey := admin2.st.Keys[admin2.st.Epoch]
	if _, err := tm.admin.Remove(mctx, "admin2"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	carol := tm.invite(t, "carol", wire.RoleWriter)
	tm.sync(t, tm.admin) // approved in the real log
	team := tm.admin.st.Team
	real := tm.p.fullLog(t, team)
	at := 0 // admin2's add
	for i, e := range real {
		if e.Device != nil && e.Device.ID == admin2.id() {
			at = i
		}
	}
	fork := append([]wire.LogEntry(nil), real[:at+1]...)
	e := wire.LogEntry{Seq: real[at].Seq + 1, Prev: real[at].Hash(), Time: time.Now().UTC(), Kind: wire.LogAdd, Team: team, Device: &carol.st.Device, Role: wire.RoleWriter}
	e.Sign(admin2.id(), ed25519.NewKeyFromSeed(admin2.st.SignSeed))
	fork = append(fork, e)
	tm.p.onBefore("GET /v1/log", func(x *mExchange) bool {
		since, _ := strconv.Atoi(strings.TrimPrefix(x.Query, "since="))
		return x.Device == carol.id() && answer(x, 200, wire.Log{Entries: fork[min(since, len(fork)):], Head: e.Seq})
	})
	tm.p.onBefore("GET /v1/key", func(x *mExchange) bool {
		return x.Device == carol.id() && answer(x, 200, wrapTo(t, team, &carol.st.Device, 1, oldKey, admin2.id(), admin2.st.SignSeed))
	})
	tm.p.onBefore("GET /v1/changes", func(x *mExchange) bool {
		return x.Device == carol.id() && answer(x, 200, wire.Changes{Records: []wire.Record{}})
	})
	_, err := carol.Sync(mctx)
	if err == nil || bytes.Equal(carol.st.Keys[carol.st.Epoch], oldKey) {
		t.Fatalf("carol took the fork and a key admin2 holds (sync: %v)", err)
	}
}

// Roles: a writer demoted to reader keeps the team key (a reader reads)
// and can sign; a record names the log position it was written at.
// Colluding with the server, the demoted member backdates a record to a
// position where it was still a writer. A demotion from a writing role
// starts a new key epoch, and open refuses a record whose log position is
// before the start of its epoch.
