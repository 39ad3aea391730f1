package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
)

// Order and freshness attacks: the server rolls back records, the log or
// push answers, or withholds updates.

// 4. Rollback: the server serves a record at an older version, an older
// state of the changes or of the log, answers a push from an older state,
// drops or reorders log entries or records, lists one record twice, or
// replays an old push (to the real server, and as a change).
//
// Defences: the client remembers the highest version of every record
// (SyncMark.Seen) and the highest sequence number (State.Head/Seen) it has
// seen, and the log position and head it verified (syncLog); it refuses
// anything lower with a RollbackError, and a log that does not extend the
// verified one (count, seq, prev hash) with wire.ErrLogFork; a page of
// changes is checked whole (sequence order, each record once) before any
// of it is applied (pull, apply); the real server refuses a replayed
// request by its nonce. Removing the Mark.Seen check in apply lets the
// older version through; applying before the sequence check applies the
// reordered page; without the once-per-page check the older of two
// versions wins.
func TestMaliciousRollback(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	alpha := secretID(t, admin, "app/alpha")
	firstChanges := tm.p.lastResp("GET /v1/changes", bob.id()) // head 2
	mSet(t, admin.v, "app/alpha", "alpha-2")
	tm.sync(t, admin)
	tm.sync(t, bob)

	// refused runs bob's sync under the current lies: it must fail with
	// text, and change nothing.
	refused := func(t *testing.T, d *mDev, text string, target any) {
		t.Helper()
		defer tm.p.honest()
		before, state := mSecrets(t, d.v), d.snapshot(t)
		_, err := d.Sync(mctx)
		mWantErr(t, err, text, target)
		mSame(t, d.name+"'s secrets", mSecrets(t, d.v), before)
		if st, err := Load(d.v); err != nil {
			t.Fatal(err)
		} else if saved, _ := json.Marshal(st); !bytes.Equal(saved, state) {
			t.Errorf("%s's saved team state changed", d.name)
		}
	}

	t.Run("an older version of a record", func(t *testing.T) {
		old := tm.p.record(t, alpha, 1, 1)
		tm.onChanges(t, bob, func(ch *wire.Changes) {
			ch.Head++
			old.Seq = ch.Head
			ch.Records = append(ch.Records, old)
		})
		var rb *RollbackError
		refused(t, bob, "it sent app/alpha at version 1, but this device has seen version 2", &rb)
	})
	t.Run("an older state of the changes", func(t *testing.T) {
		tm.p.onAfter("GET /v1/changes", func(x *mExchange) {
			if x.Device == bob.id() {
				x.Resp = firstChanges
			}
		})
		var rb *RollbackError
		refused(t, bob, "its newest change is 2, but this device has seen 3", &rb)
	})

	carol := tm.add(t, "carol", wire.RoleReader) // the log now has 3 entries
	tm.sync(t, bob)
	t.Run("an older state of the log", func(t *testing.T) {
		tm.p.onAfter("GET /v1/log", func(x *mExchange) {
			rewrite(t, x, func(l *wire.Log) { l.Entries, l.Head = nil, 2 })
		})
		var rb *RollbackError
		refused(t, bob, "its membership log has 2 entries, but this device has verified 3", &rb)
	})

	// A device verifying the log from the start (carol's identity, anew).
	scratch := func() *mDev {
		st := *carol.st
		st.Members, st.Keys, st.Epoch, st.Head, st.Seen = nil, map[int64][]byte{}, 0, 0, 0
		return &mDev{name: "carol-anew", v: mVault(t), st: &st, v1: true}
	}
	fresh := scratch()
	for _, c := range []struct {
		name, text string
		lie        func(l *wire.Log)
	}{
		{"a log entry dropped", "the server sent 2 entries after 0 but says the log has 3",
			func(l *wire.Log) { l.Entries = append(l.Entries[:1], l.Entries[2:]...) }},
		{"a log entry dropped, the head lowered", "membership log entry 3 is not valid: expected entry 2",
			func(l *wire.Log) { l.Entries = append(l.Entries[:1], l.Entries[2:]...); l.Head-- }},
		{"log entries reordered", "membership log entry 3 is not valid: expected entry 2",
			func(l *wire.Log) { l.Entries[1], l.Entries[2] = l.Entries[2], l.Entries[1] }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tm.p.onAfter("GET /v1/log", func(x *mExchange) { rewrite(t, x, c.lie) })
			defer tm.p.honest()
			_, err := fresh.Sync(mctx)
			mWantErr(t, err, c.text, nil)
			if !errors.Is(err, wire.ErrLogFork) || fresh.st.Members != nil || len(fresh.st.Keys) != 0 {
				t.Errorf("%v: members %v, %d keys", err, fresh.st.Members, len(fresh.st.Keys))
			}
			mSame(t, "carol's secrets", mSecrets(t, fresh.v), map[string]string{})
		})
	}

	mSet(t, admin.v, "app/alpha", "alpha-3")
	mSet(t, admin.v, "app/beta", "beta-3")
	tm.sync(t, admin)
	t.Run("records reordered", func(t *testing.T) {
		tm.onChanges(t, bob, func(ch *wire.Changes) {
			if len(ch.Records) == 2 {
				ch.Records[0].Seq, ch.Records[1].Seq = ch.Records[1].Seq, ch.Records[0].Seq
			}
		})
		var bad *BadRecordError
		refused(t, bob, "its sequence number is out of order", &bad)
	})
	t.Run("one record twice, the newer first", func(t *testing.T) {
		// bob holds alpha v2; the server sends v4 and then v3.
		mSet(t, admin.v, "app/alpha", "alpha-4")
		tm.sync(t, admin)
		v3 := tm.p.record(t, alpha, 3, 1)
		tm.onChanges(t, bob, func(ch *wire.Changes) {
			ch.Head++
			v3.Seq = ch.Head
			ch.Records = append(ch.Records, v3)
		})
		var rb *RollbackError
		refused(t, bob, "it sent app/alpha twice in one page, at versions 4 and 3", &rb)
	})
	tm.sync(t, bob)
	if got := mGet(t, bob.v, "app/alpha"); got != "alpha-4" {
		t.Fatalf("alpha = %q", got)
	}

	t.Run("a push answered from an older state", func(t *testing.T) {
		mSet(t, bob.v, "app/beta", "beta-bob")
		tm.p.onAfter("POST /v1/push", func(x *mExchange) {
			rewrite(t, x, func(r *wire.PushResponse) { r.Head = 1 })
		})
		defer tm.p.honest()
		_, err := bob.Sync(mctx)
		var rb *RollbackError
		mWantErr(t, err, "its newest change is 1, but this device has seen", &rb)
	})

	t.Run("an old push replayed", func(t *testing.T) {
		// bob's push of beta went through; then the admin writes beta
		// again and everyone syncs.
		tm.sync(t, bob)
		tm.sync(t, admin)
		old := pushed(t, tm.p, 0, bob)
		mSet(t, admin.v, "app/beta", "beta-5")
		tm.sync(t, admin)
		tm.sync(t, bob)
		// To the real server: the request's nonce was used.
		x := tm.p.sent(0, "POST /v1/push", bob.id())[0]
		status, body, err := tm.p.forward(mctx, x.Method, x.Path, x.Header, x.Body)
		if err != nil || status != 401 || !strings.Contains(string(body), "replayed request") {
			t.Errorf("the real server took a replayed push: %d %s %v", status, body, err)
		}
		// As a change, to both.
		for _, d := range []*mDev{bob, admin} {
			tm.onChanges(t, d, func(ch *wire.Changes) {
				ch.Head++
				old.Seq = ch.Head
				ch.Records = append(ch.Records, old)
			})
			var rb *RollbackError
			refused(t, d, "it sent app/beta at version", &rb)
		}
		if mGet(t, bob.v, "app/beta") != "beta-5" || mGet(t, admin.v, "app/beta") != "beta-5" {
			t.Errorf("beta rolled back")
		}
	})
}

// 8. The server withholds updates: it freezes what it shows bob (the log
// and the changes as they were) while the admin keeps writing; to look
// alive it may also raise the head it reports, or re-serve a record bob
// already has under a new sequence number. Bob's clock is moved forward by
// setting his LastChange 15 days back.
//
// Defence: a server can withhold, but not unnoticed: LastChange moves only
// when the server shows something new and authentic (a verified log entry,
// a record of a version this device had not seen), and Sync reports
// Report.Fresh once that is longer ago than Quiet (14 days); `hush sync`
// prints the warning and `hush team verify` lets two members compare
// heads. Without the Freshness computation in Sync the first subtest fails;
// with LastChange moved by a higher head (as before this suite), the
// second does.
func TestMaliciousWithholding(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	frozen := map[string][]byte{}
	freeze := func(bump func(ch *wire.Changes)) {
		tm.sync(t, bob)
		tm.sync(t, bob) // its last answers: nothing after what it has
		for _, e := range []string{"GET /v1/log", "GET /v1/changes"} {
			frozen[e] = tm.p.lastResp(e, bob.id())
			tm.p.onAfter(e, func(x *mExchange) {
				if x.Device != bob.id() {
					return
				}
				x.Resp = frozen[x.endpoint()]
				if bump != nil && x.Path == "/v1/changes" {
					rewrite(t, x, bump)
				}
			})
		}
	}
	quiet := func(t *testing.T) *Report {
		t.Helper()
		bob.st.LastChange = time.Now().Add(-15 * 24 * time.Hour)
		rep, err := bob.Sync(mctx)
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}

	t.Run("frozen", func(t *testing.T) {
		freeze(nil)
		defer tm.p.honest()
		mSet(t, admin.v, "app/alpha", "alpha-2")
		mSet(t, admin.v, "app/new", "new-1")
		tm.sync(t, admin)
		tm.add(t, "carol", wire.RoleReader)
		rep := quiet(t)
		if rep.Fresh.Quiet < Quiet {
			t.Errorf("Report.Fresh.Quiet = %v after 15 days of nothing new; want a warning", rep.Fresh.Quiet)
		}
		if _, err := bob.v.Get("app/new"); err == nil || mGet(t, bob.v, "app/alpha") != "alpha-1" {
			t.Errorf("the frozen server passed changes on")
		}
	})
	t.Run("frozen, the head raised, a known record re-served", func(t *testing.T) {
		known := tm.p.record(t, secretID(t, admin, "app/alpha"), 2, 1) // bob has it
		head := int64(0)
		freeze(func(ch *wire.Changes) {
			if head == 0 {
				head = ch.Head
			}
			head += 2
			known.Seq = head
			ch.Records, ch.Head = []wire.Record{known}, head
		})
		defer tm.p.honest()
		before := bob.snapshot(t)
		rep := quiet(t)
		if rep.Fresh.Quiet < Quiet {
			t.Errorf("Report.Fresh.Quiet = %v: a raised head and an old record hid 15 days of nothing new", rep.Fresh.Quiet)
		}
		bob.restore(t, before) // forget the raised head
	})
	t.Run("then honest", func(t *testing.T) {
		mSet(t, admin.v, "app/new", "new-2")
		tm.sync(t, admin)
		rep := quiet(t)
		if rep.Fresh.Quiet != 0 || mGet(t, bob.v, "app/new") != "new-2" {
			t.Errorf("honest: quiet %v", rep.Fresh.Quiet)
		}
	})
}

// 12. A frozen view while this device writes: the server passes bob's
// pushes on but shows him nothing new (his last log; no records after his
// cursor, and push answers that keep his cursor in step with that fake
// world) while the admin changes secrets and removes a member. Each sync
// exits without an error, "pulled 0".
//
// Defence: a device that pushed but has seen nothing new from the team
// for longer than its fresh window (7 days; configurable) warns
// (State.Freshness: Report.Fresh on sync, `hush status` and `hush get`
// print it). Time comes from a clock the test moves. Without the Wrote
// rule the warning waits for the 14 days of Quiet, and the second check
// fails.
func TestMaliciousFrozenWhileWriting(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	carol := tm.add(t, "carol", wire.RoleReader)
	now := time.Now()
	clock := func() time.Time { return now }
	bobSync := func() *Report {
		t.Helper()
		var rep *Report
		err := bob.team(func(tt *Team) (err error) {
			tt.SetClock(clock)
			rep, err = tt.Sync(mctx)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	bobSync()
	bobSync() // its last answers: nothing after what it has
	frozenLog := tm.p.lastResp("GET /v1/log", bob.id())
	fake := bob.st.Head // the head of the world bob is shown
	tm.p.onAfter("GET /v1/log", func(x *mExchange) {
		if x.Device == bob.id() {
			x.Resp = frozenLog
		}
	})
	tm.p.onAfter("GET /v1/changes", func(x *mExchange) {
		if x.Device == bob.id() {
			rewrite(t, x, func(ch *wire.Changes) { ch.Records, ch.Head, ch.More = []wire.Record{}, fake, false })
		}
	})
	tm.p.onAfter("POST /v1/push", func(x *mExchange) {
		if x.Device == bob.id() {
			rewrite(t, x, func(r *wire.PushResponse) {
				for i := range r.Results {
					if r.Results[i].Status == wire.PushOK {
						fake++
						r.Results[i].Seq = fake
					}
				}
				r.Head = fake
			})
		}
	})
	mSet(t, admin.v, "app/alpha", "alpha-2")
	tm.sync(t, admin)
	if _, err := admin.Remove(mctx, carol.name); err != nil {
		t.Fatal(err)
	}
	for day := 1; day <= 3; day++ {
		now = now.Add(3 * 24 * time.Hour)
		mSet(t, bob.v, "app/bob", fmt.Sprintf("day-%d", day))
		rep := bobSync()
		if rep.Pulled != 0 {
			t.Fatalf("the frozen view passed a change on: %+v", rep)
		}
		// Within the window (3 and 6 days since anything new), no word;
		// past it (9 days), a warning that names the cause.
		if want := day == 3; rep.Fresh.Wrote != want || (rep.Fresh.Quiet > 0) != want {
			t.Errorf("day %d: %+v, want a warning %v", day*3, rep.Fresh, want)
		}
	}
	if f := bob.st.Freshness(now); !f.Wrote || f.Quiet < DefaultFreshWindow {
		t.Errorf("the saved state does not warn: %+v", f)
	}
	// Honest again: the next change from the team comes, and the warning
	// goes.
	tm.p.honest()
	mSet(t, admin.v, "app/beta", "beta-2")
	tm.sync(t, admin)
	rep := bobSync()
	if rep.Pulled == 0 || rep.Fresh != (Freshness{}) || mGet(t, bob.v, "app/beta") != "beta-2" {
		t.Fatalf("honest again: %+v", rep)
	}
	// The window is the device's to set.
	if err := bob.team(func(tt *Team) error { return tt.SetFreshWindow(24 * time.Hour) }); err != nil {
		t.Fatal(err)
	}
	if f := bob.st.Freshness(now.Add(30 * time.Hour)); f.Wrote {
		t.Errorf("no push since the last change: %+v", f)
	}
}

// 13. The server raises the head once: an empty page that says more
// changes follow (head H+3, more), or a head of 2^50 with nothing sent.
// Believed, the device's cursor moves past changes that never come, and
// the honest server then looks rolled back ("went backwards") for good.
//
// Defence: a page that says more follow must bring some, a last page must
// reach the head it states, and the cursor moves to the last record
// received, never to the stated head (sync.go, pull). A refused answer
// saves nothing, and the next honest sync brings the change. Without the
// first check the first case passes in silence and the honest sync after
// it fails.
func TestMaliciousRaisedHead(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	for _, c := range []struct {
		name string
		lie  func(ch *wire.Changes)
		text string
	}{
		{"an empty page that says more follow", func(ch *wire.Changes) { ch.Records, ch.Head, ch.More = []wire.Record{}, ch.Head+3, true }, "follow, but sends none"},
		{"a head of 2^50 and nothing sent", func(ch *wire.Changes) { ch.Records, ch.Head, ch.More = []wire.Record{}, 1<<50, false }, "sends changes only up to"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mSet(t, admin.v, "app/alpha", c.name)
			tm.sync(t, admin)
			tm.onChanges(t, bob, c.lie)
			before := bob.snapshot(t)
			_, err := bob.Sync(mctx)
			tm.p.honest()
			if err == nil || !strings.Contains(err.Error(), c.text) {
				t.Fatalf("bob's sync: %v, want it refused (%q)", err, c.text)
			}
			st, err := Load(bob.v)
			if err != nil {
				t.Fatal(err)
			}
			if saved, _ := json.Marshal(st); !bytes.Equal(saved, before) {
				t.Fatal("bob's saved team state changed on a refused answer")
			}
			// Recovery: the next command starts from what was saved, and
			// the honest server's sync brings the change.
			bob.st = st
			tm.sync(t, bob)
			if got := mGet(t, bob.v, "app/alpha"); got != c.name {
				t.Fatalf("after the honest sync bob has %q", got)
			}
		})
	}
}
