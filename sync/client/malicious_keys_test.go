package client

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
)

// Key attacks: the server substitutes keys at a join or later, injects a
// team key of its own, or serves an old key epoch as the current one.

// 1. The server substitutes its own public keys for a joining member's,
// in the pending join the admin's client approves (GET /v1/joins).
//
// Defence: Approve checks the joiner's keys, names and id against the HMAC
// binding made with the invite's secret, which the server never sees, and
// the role against the invite's (team.go, Approve). Without the binding
// check the admin wraps the team key to the attacker's box key.
func TestMaliciousKeySubstitutionAtJoin(t *testing.T) {
	tm := newMTeam(t)
	evil := newMEvil(t)
	cases := []struct {
		name, role string
		lie        func(p *wire.PendingJoin)
		refused    string
	}{
		{"both keys", wire.RoleWriter, func(p *wire.PendingJoin) {
			p.Device.SignKey, p.Device.Box = evil.dev.SignKey, evil.dev.Box
		}, "its keys do not match the invite's secret"},
		{"box key only", wire.RoleWriter, func(p *wire.PendingJoin) { p.Device.Box = evil.dev.Box },
			"its keys do not match the invite's secret"},
		{"the whole device", wire.RoleWriter, func(p *wire.PendingJoin) { p.Device = evil.dev },
			"its keys do not match the invite's secret"},
		{"a higher role", wire.RoleReader, func(p *wire.PendingJoin) { p.Role = wire.RoleAdmin },
			"the server says role admin, the invite was for reader"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := mSecrets(t, tm.admin.v)
			members := devicesOf(tm.admin.st.Members)
			carol := tm.invite(t, "carol", c.role)
			tm.p.onAfter("GET /v1/joins", func(x *mExchange) {
				rewrite(t, x, func(ps *[]wire.PendingJoin) {
					for i := range *ps {
						if (*ps)[i].Device.ID == carol.id() {
							c.lie(&(*ps)[i])
						}
					}
				})
			})
			defer tm.p.honest()
			mark := tm.p.mark()
			rep := tm.sync(t, tm.admin)
			if len(rep.Approvals) != 1 || !strings.Contains(rep.Approvals[0].Refused, c.refused) {
				t.Fatalf("approvals %+v; want one refused with %q", rep.Approvals, c.refused)
			}
			if xs := tm.p.sent(mark, "POST /v1/joins/approve", ""); len(xs) > 0 {
				t.Errorf("the admin's client sent an approval: %s", xs[0].Body)
			}
			tm.noKeyFor(t, evil)
			if got := devicesOf(tm.admin.st.Members); strings.Join(got, ",") != strings.Join(members, ",") {
				t.Errorf("the admin's membership changed: %v", got)
			}
			mSame(t, "the admin's secrets", mSecrets(t, tm.admin.v), before)
			// The invite is spent; the joiner stays pending with nothing.
			if _, err := carol.Sync(mctx); !errors.Is(err, ErrPending) {
				t.Errorf("carol's sync: %v, want ErrPending", err)
			}
			mSame(t, "carol's secrets", mSecrets(t, carol.v), map[string]string{})
		})
	}
}

// 1b. Later: once the member is in, the server swaps their keys wherever it
// lists them: in the log it serves to a device verifying it from the
// start, as a re-issued "add" entry, and in GET /v1/members.
//
// Defence: every log entry's Ed25519 signature covers the device's keys
// (wire.Membership.Apply); keys are taken only from the verified log, which
// a client keeps and never re-reads (syncLog); Members shows a device only
// if the server's keys match the log's. Without the signature check in
// Apply the first two subtests accept the attacker's keys.
func TestMaliciousKeySubstitutionLater(t *testing.T) {
	tm := newMTeam(t)
	evil := newMEvil(t)
	bobID := tm.bob.id()
	swap := func(d *wire.Device) {
		if d != nil && d.ID == bobID {
			d.SignKey, d.Box = evil.dev.SignKey, evil.dev.Box
		}
	}

	t.Run("in the log, to a device verifying it from the start", func(t *testing.T) {
		carol := tm.add(t, "carol", wire.RoleReader) // approved honestly
		fresh := &mDev{name: "carol-again", v: mVault(t)}
		st := *carol.st // carol's identity, verifying from scratch
		st.Members, st.Keys, st.Epoch, st.Head, st.Seen = nil, map[int64][]byte{}, 0, 0, 0
		fresh.st = &st
		tm.p.onAfter("GET /v1/log", func(x *mExchange) {
			rewrite(t, x, func(l *wire.Log) {
				for i := range l.Entries {
					swap(l.Entries[i].Device)
				}
			})
		})
		defer tm.p.honest()
		_, err := fresh.Sync(mctx)
		mWantErr(t, err, "membership log entry 2 is not valid: its signature does not check out", nil)
		if !errors.Is(err, wire.ErrLogFork) {
			t.Errorf("%v is not ErrLogFork", err)
		}
		if fresh.st.Members != nil || len(fresh.st.Keys) != 0 {
			t.Errorf("carol trusted something: members %v, %d keys", fresh.st.Members, len(fresh.st.Keys))
		}
		mSame(t, "carol's secrets", mSecrets(t, fresh.v), map[string]string{})
	})

	t.Run("as a re-issued add entry", func(t *testing.T) {
		before := tm.admin.snapshot(t)
		tm.p.onAfter("GET /v1/log", func(x *mExchange) {
			all := tm.p.fullLog(t, tm.admin.st.Team)
			e := all[1] // bob's add, signed by the admin
			swap(e.Device)
			e.Seq, e.Prev = int64(len(all))+1, all[len(all)-1].Hash()
			rewrite(t, x, func(l *wire.Log) { l.Entries = append(l.Entries, e); l.Head++ })
		})
		defer tm.p.honest()
		mark := tm.p.mark()
		_, err := tm.admin.Sync(mctx)
		mWantErr(t, err, "its signature does not check out", nil)
		_, err = tm.admin.Rotate(mctx)
		mWantErr(t, err, "its signature does not check out", nil)
		if xs := tm.p.sent(mark, "POST /v1/log", ""); len(xs) > 0 {
			t.Errorf("the admin appended to the log while it did not verify: %s", xs[0].Body)
		}
		if after := tm.admin.snapshot(t); !bytes.Equal(after, before) {
			t.Errorf("the admin's team state changed")
		}
		tm.noKeyFor(t, evil)
	})

	t.Run("in the member list", func(t *testing.T) {
		tm.p.onAfter("GET /v1/members", func(x *mExchange) {
			rewrite(t, x, func(ms *[]wire.Member) {
				for i := range *ms {
					swap(&(*ms)[i].Device)
				}
			})
		})
		tm.p.onAfter("GET /v1/log", func(x *mExchange) {
			rewrite(t, x, func(l *wire.Log) {
				for i := range l.Entries {
					swap(l.Entries[i].Device)
				}
			})
		})
		defer tm.p.honest()
		ms, err := tm.admin.Members(mctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if bytes.Equal(m.SignKey, evil.dev.SignKey) || m.Box == evil.dev.Box {
				t.Errorf("member %s is shown with the attacker's keys", m.Name)
			}
			if m.ID == bobID {
				t.Errorf("bob is shown although the server's keys for him are not the log's")
			}
		}
		// A new epoch is wrapped to the keys of the verified log: bob's.
		mark := tm.p.mark()
		if _, err := tm.admin.Rotate(mctx); err != nil {
			t.Fatal(err)
		}
		xs := tm.p.sent(mark, "POST /v1/log", "")
		if len(xs) != 1 {
			t.Fatalf("%d log appends", len(xs))
		}
		var req wire.AppendLog
		json.Unmarshal(xs[0].Body, &req)
		bobBox, _ := age.ParseX25519Identity(tm.bob.st.BoxIdentity)
		opened := false
		for _, k := range req.Keys {
			if _, err := age.Decrypt(bytes.NewReader(k.Sealed), evil.box); err == nil {
				t.Errorf("the new epoch's key for %s opens with the attacker's key", k.Device)
			}
			if k.Device == bobID {
				_, err := age.Decrypt(bytes.NewReader(k.Sealed), bobBox)
				opened = err == nil
			}
		}
		if !opened {
			t.Errorf("bob's key of the new epoch is not wrapped to bob's box key")
		}
	})
}

// 2. Vault injection: the server hands a new member a team key of its own,
// correctly age-wrapped to the member's box key and bound to team, device
// and epoch, but not signed by an admin of the team: unsigned, signed by
// the server's key, or signed by a member who is not an admin (mallory, a
// writer colluding with the server). Or it shows the member a whole team
// of its own making, whose admin signs the key. Had the member taken the
// key, everything it wrote would be readable by the server.
//
// Defence: fetchKey takes a key only if an active admin of the verified
// log signed it, for this device and the current epoch, and the grant
// inside says the same (team.go); a joiner pins the log's first entry from
// the invitation (syncLog). Without the signer checks in fetchKey the
// member takes the server's key and then fails to open the team's records.
func TestMaliciousVaultInjection(t *testing.T) {
	tm := newMTeam(t)
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	carol := tm.invite(t, "carol", wire.RoleWriter)
	tm.sync(t, tm.admin) // approves carol
	start := carol.snapshot(t)
	team, epoch := tm.admin.st.Team, tm.admin.st.Epoch
	evil := newMEvil(t)
	evilKey, _ := crypto.Random(crypto.KeySize)

	// wrap is the server's key, age-wrapped to carol like an admin would.
	wrap := func(key []byte, signer string, seed []byte) wire.WrappedKey {
		return wrapTo(t, team, &carol.st.Device, epoch, key, signer, seed)
	}
	var bobKey wire.WrappedKey // the admin's real, signed key for bob
	for _, k := range tm.p.wrappedKeys() {
		if k.Device == tm.bob.id() {
			bobKey = k
		}
	}

	// A whole team of the server's making: same team id, its own creation
	// entry, carol added by its own admin, and a key signed by that admin.
	fakeLog := func() wire.Log {
		c := &wire.LogEntry{Seq: 1, Time: time.Now().UTC(), Kind: wire.LogCreate, Team: team, Name: "acme-team", Device: &evil.dev, Role: wire.RoleAdmin}
		c.Sign(evil.dev.ID, ed25519.NewKeyFromSeed(evil.sign))
		a := &wire.LogEntry{Seq: 2, Prev: c.Hash(), Time: time.Now().UTC(), Kind: wire.LogAdd, Team: team, Device: &carol.st.Device, Role: wire.RoleWriter}
		a.Sign(evil.dev.ID, ed25519.NewKeyFromSeed(evil.sign))
		return wire.Log{Entries: []wire.LogEntry{*c, *a}, Head: 2}
	}

	cases := []struct {
		name   string
		key    func() wire.WrappedKey
		log    func() wire.Log // nil: the real log
		refuse string
	}{
		{"unsigned", func() wire.WrappedKey { return wrap(evilKey, tm.admin.id(), nil) },
			nil, "the team key offered to this device has a bad signature: refused"},
		{"signed by the server, as the admin", func() wire.WrappedKey { return wrap(evilKey, tm.admin.id(), evil.sign) },
			nil, "the team key offered to this device has a bad signature: refused"},
		{"signed by the server's own device", func() wire.WrappedKey { return wrap(evilKey, evil.dev.ID, evil.sign) },
			nil, "the team key offered to this device is not signed by an admin of the team: refused"},
		{"signed by a writer", func() wire.WrappedKey { return wrap(evilKey, mallory.id(), mallory.st.SignSeed) },
			nil, "the team key offered to this device is not signed by an admin of the team: refused"},
		{"an admin's key for another device", func() wire.WrappedKey { return bobKey },
			nil, "the team key offered is for another device: refused"},
		{"a team of the server's making", func() wire.WrappedKey { return wrap(evilKey, evil.dev.ID, evil.sign) },
			fakeLog, "this server is not showing the team you were invited to"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			carol.restore(t, start)
			tm.p.onBefore("GET /v1/key", func(x *mExchange) bool {
				return x.Device == carol.id() && answer(x, 200, c.key())
			})
			if c.log != nil {
				tm.p.onBefore("GET /v1/log", func(x *mExchange) bool {
					return x.Device == carol.id() && answer(x, 200, c.log())
				})
			}
			defer tm.p.honest()
			mark := tm.p.mark()
			_, err := carol.Sync(mctx)
			mWantErr(t, err, c.refuse, nil)
			if len(carol.st.Keys) != 0 {
				t.Errorf("carol took a team key")
			}
			if st, _ := Load(carol.v); len(st.Keys) != 0 {
				t.Errorf("carol saved a team key")
			}
			mSame(t, "carol's secrets", mSecrets(t, carol.v), map[string]string{})
			for _, x := range tm.p.since(mark) {
				if x.Method == "POST" {
					t.Errorf("carol sent %s %s", x.Method, x.Path)
				}
			}
		})
	}
	t.Run("then the real key", func(t *testing.T) {
		carol.restore(t, start)
		if rep := tm.sync(t, carol); !rep.GotKey || rep.Pulled != 2 {
			t.Errorf("honest sync: %+v", rep)
		}
	})
}

// 6. After an admin removed mallory (a new key epoch, every secret sealed
// again under it), the server re-serves data of the old epoch as current
// to bob: his old wrapped key instead of the new one, a record of the old
// epoch instead of its re-sealed version, and a record mallory wrote
// under the old key which the server kept back until she was gone.
//
// Defence: open refuses a record of another than the current epoch
// (StaleRecordError: counted in Report.Skipped, not applied), fetchKey
// takes only a key of the current epoch and drops the old ones, and
// Remove rotates the epoch and re-seals. Without the epoch check in open
// the old records are refused for want of their key, as a BadRecordError
// that stops the sync: the test fails (it wants them skipped); without
// the epoch check in fetchKey bob takes the old key back.
func TestMaliciousOldEpochAsCurrent(t *testing.T) {
	tm := newMTeamV1(t)
	admin, bob := tm.admin, tm.bob
	mallory := tm.add(t, "mallory", wire.RoleWriter)
	tm.sync(t, bob)

	// Mallory writes delta; the server keeps it back (answers as if
	// stored) to use later.
	tm.p.onBefore("POST /v1/push", func(x *mExchange) bool {
		if x.Device != mallory.id() {
			return false
		}
		var req wire.Push
		json.Unmarshal(x.Body, &req)
		res := wire.PushResponse{Head: 100}
		for _, r := range req.Records {
			res.Results = append(res.Results, wire.PushResult{ID: r.ID, Status: wire.PushOK, Seq: 100})
		}
		return answer(x, 200, res)
	})
	mSet(t, mallory.v, "app/delta", "mallory-delta")
	tm.sync(t, mallory)
	tm.p.honest()
	delta := pushed(t, tm.p, 0, mallory)

	// The admin writes gamma at epoch 1; bob has not pulled it when
	// mallory is removed.
	mSet(t, admin.v, "app/gamma", "gamma-1")
	tm.sync(t, admin)
	gamma := tm.p.record(t, secretID(t, admin, "app/gamma"), 1, 1)
	oldKey := tm.p.lastResp("GET /v1/key", bob.id())
	rm, err := admin.Remove(mctx, "mallory")
	if err != nil || rm.Epoch != 2 {
		t.Fatalf("remove: %+v %v", rm, err)
	}
	tm.sync(t, admin)
	if g := tm.p.record(t, gamma.ID, 2, 2); g.Author != admin.id() {
		t.Fatalf("gamma was not re-sealed by the admin")
	}
	start, before := bob.snapshot(t), mSecrets(t, bob.v)

	t.Run("the old epoch's key", func(t *testing.T) {
		bob.restore(t, start)
		tm.p.onAfter("GET /v1/key", func(x *mExchange) {
			if x.Device == bob.id() {
				x.Resp = oldKey
			}
		})
		defer tm.p.honest()
		_, err := bob.Sync(mctx)
		mWantErr(t, err, "the team key offered is for epoch 1, but the team is at epoch 2: refused", nil)
		if _, ok := bob.st.Keys[2]; ok || bob.st.Epoch != 1 {
			t.Errorf("bob's keys: epoch %d, %d keys", bob.st.Epoch, len(bob.st.Keys))
		}
		mSame(t, "bob's secrets", mSecrets(t, bob.v), before)
	})

	t.Run("old-epoch records as current", func(t *testing.T) {
		bob.restore(t, start)
		tm.onChanges(t, bob, func(ch *wire.Changes) {
			for i := range ch.Records {
				if ch.Records[i].ID == gamma.ID {
					seq := ch.Records[i].Seq
					ch.Records[i] = gamma
					ch.Records[i].Seq = seq
				}
			}
			ch.Head++
			delta.Seq = ch.Head
			ch.Records = append(ch.Records, delta)
		})
		defer tm.p.honest()
		rep, err := bob.Sync(mctx)
		if err != nil {
			t.Fatal(err)
		}
		if !rep.GotKey || rep.Skipped != 2 {
			t.Errorf("report %+v: want the new key and 2 records skipped", rep)
		}
		got := mSecrets(t, bob.v)
		for _, name := range []string{"app/gamma", "app/delta"} {
			if _, ok := got[name]; ok {
				t.Errorf("bob applied %s from the old epoch", name)
			}
		}
		// What was re-sealed under the new key came through, marked to be
		// changed because mallory could read it.
		if !strings.Contains(got["app/alpha"], "alpha-1") || !strings.Contains(got["app/alpha"], "exposed") {
			t.Errorf("alpha = %q", got["app/alpha"])
		}
	})
}
