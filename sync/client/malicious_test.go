package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// The malicious-server suite (issue 7). Every test puts a lie into the
// real server's answers (proxy_test.go) and shows that the client (a)
// refuses with a clear error, (b) applies nothing, (c) wraps no team key
// to anyone the signed membership log does not list, and (d) would not
// refuse without the check named in the test's comment (each was removed
// once, by hand, to see the test fail). docs/security.md lists the attacks
// and the defences.

var mctx = context.Background()

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

func secretID(t testing.TB, d *mDev, name string) string {
	t.Helper()
	s, err := d.v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// 3. The server swaps ciphertexts: into the record bob is about to pull it
// puts the ciphertext of another record, of an older version, of the old
// key epoch, of another team on the same server, of another kind of field
// (a wrapped key; sealed and signature exchanged), or a signature made for
// another purpose (a request, a wrapped key, a log entry).
//
// A record's name, metadata and value are sealed together in one payload,
// so there is no per-field ciphertext to swap within a secret; the fields
// a server can swap are the record's own.
//
// Defences, in two layers:
//   - the author's Ed25519 signature covers team, id, version, epoch, the
//     ciphertext's hash, the author and its log position (open,
//     wire.RecordSigned), and signatures of different purposes are domain
//     separated. Without verifyRecord in open, the "server" subtests
//     fail (the AEAD refuses them, with another reason).
//   - the AEAD's associated data binds the ciphertext to team, id, version
//     and epoch, and each epoch has its own key (wire.RecordAD). The
//     "writer" subtests isolate it: a current writer colludes with the
//     server and re-signs the swapped ciphertext at the current log
//     position. Sealing with no associated data makes the "records" and
//     "versions" ones accepted.
func TestMaliciousCiphertextSwaps(t *testing.T) {
	tm := newMTeam(t)
	tm.add(t, "mallory", wire.RoleWriter) // removed below: epoch 2
	team := tm.admin.st.Team

	// Another team on the same server, with a secret of the same name.
	other := &mDev{name: "other", v: mVault(t)}
	mSet(t, other.v, "app/beta", "other-team-beta")
	var err error
	if other.st, err = Create(mctx, other.v, CreateOptions{Server: tm.p.url, Name: "other-team", Device: "o", Member: "o"}); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, other)

	// Epoch 1: alpha and beta v1. Mallory leaves: epoch 2 re-seals them as
	// v2. Then alpha v3; bob is up to date; then beta v3, which bob pulls
	// next: the record the server lies about.
	if _, err := tm.admin.Remove(mctx, "mallory"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, tm.admin)
	mSet(t, tm.admin.v, "app/alpha", "alpha-3")
	tm.sync(t, tm.admin)
	tm.sync(t, tm.bob)
	mSet(t, tm.admin.v, "app/beta", "beta-3")
	tm.sync(t, tm.admin)
	start := tm.bob.snapshot(t)
	before := mSecrets(t, tm.bob.v)

	alpha, beta := secretID(t, tm.admin, "app/alpha"), secretID(t, tm.admin, "app/beta")
	target := tm.p.record(t, beta, 3, 2)
	alpha3 := tm.p.record(t, alpha, 3, 2)
	beta2 := tm.p.record(t, beta, 2, 2)
	beta1 := tm.p.record(t, beta, 1, 1)
	var otherRec wire.Record
	for _, r := range tm.p.records() {
		if r.Author == other.id() {
			otherRec = r
		}
	}
	var wk wire.WrappedKey // the admin's epoch 2 key for bob
	for _, k := range tm.p.wrappedKeys() {
		if k.Device == tm.bob.id() && k.Epoch == 2 {
			wk = k
		}
	}
	adminLog := tm.p.fullLog(t, team)[2]                          // an entry the admin signed
	adminReq := tm.p.sent(0, "GET /v1/changes", tm.admin.id())[0] // a request the admin signed
	reqSig, _ := base64Std(adminReq.Header.Get(wire.HeaderSignature))

	// server: the server alone, the author's signature kept.
	server := func(f func(r *wire.Record)) func() wire.Record {
		return func() wire.Record { r := target; f(&r); return r }
	}
	// writer: re-signed by a current writer at the current log position,
	// so that signature, role and epoch all pass and only the AEAD's
	// associated data stands between the swap and the vault. (A removed
	// member can no longer get this far: a record's log position must be
	// after its epoch began, and she was removed before it.)
	removed := func(sealed []byte) func() wire.Record {
		return func() wire.Record {
			bob := tm.bob
			r := wire.Record{ID: target.ID, Version: target.Version, Epoch: 2, Sealed: sealed, Author: bob.id(), LogSeq: tm.admin.st.Members.Seq, Seq: target.Seq}
			r.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(bob.st.SignSeed), wire.RecordSigned(team, &r))
			return r
		}
	}
	const badSig, badAEAD = "its signature does not check out", "its ciphertext failed authentication"
	cases := []struct {
		name   string
		forge  func() wire.Record
		refuse string
	}{
		{"server/records", server(func(r *wire.Record) { r.Sealed = alpha3.Sealed }), badSig},
		{"server/versions", server(func(r *wire.Record) { r.Sealed = beta2.Sealed }), badSig},
		{"server/epochs", server(func(r *wire.Record) { r.Sealed = beta1.Sealed }), badSig},
		{"server/epochs, relabelled", func() wire.Record { r := beta1; r.Version, r.Epoch, r.Seq = 3, 2, target.Seq; return r }, badSig},
		{"server/teams, whole record", func() wire.Record { r := otherRec; r.Seq = target.Seq; return r }, "signed by a device that is not in the team's membership log"},
		{"server/teams, ciphertext", server(func(r *wire.Record) { r.Sealed = otherRec.Sealed }), badSig},
		{"server/fields, sealed and sig exchanged", server(func(r *wire.Record) { r.Sealed, r.Sig = r.Sig, r.Sealed }), "signature is not an Ed25519 signature"},
		{"server/fields, a wrapped key as the payload", server(func(r *wire.Record) { r.Sealed = wk.Sealed }), badSig},
		{"server/purpose, a request's signature", server(func(r *wire.Record) { r.Author, r.Sig = tm.admin.id(), reqSig }), badSig},
		{"server/purpose, a wrapped key's signature", server(func(r *wire.Record) { r.Author, r.Sig = tm.admin.id(), wk.Sig }), badSig},
		{"server/purpose, a log entry's signature", server(func(r *wire.Record) { r.Author, r.Sig = tm.admin.id(), adminLog.Sig }), badSig},
		{"writer/records", removed(alpha3.Sealed), badAEAD},
		{"writer/versions", removed(beta2.Sealed), badAEAD},
		{"writer/epochs", removed(beta1.Sealed), badAEAD},
		{"writer/teams", removed(otherRec.Sealed), badAEAD},
		{"writer/fields", removed(wk.Sealed), badAEAD},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm.bob.restore(t, start)
			tm.p.onAfter("GET /v1/changes", func(x *mExchange) {
				if x.Device != tm.bob.id() {
					return
				}
				rewrite(t, x, func(ch *wire.Changes) {
					for i := range ch.Records {
						if ch.Records[i].ID == target.ID {
							seq := ch.Records[i].Seq
							ch.Records[i] = c.forge()
							ch.Records[i].Seq = seq
						}
					}
				})
			})
			defer tm.p.honest()
			rep, err := tm.bob.Sync(mctx)
			var bad *BadRecordError
			mWantErr(t, err, c.refuse, &bad)
			if rep.Pulled != 0 {
				t.Errorf("pulled %d", rep.Pulled)
			}
			mSame(t, "bob's secrets", mSecrets(t, tm.bob.v), before)
		})
	}
	t.Run("then the real record", func(t *testing.T) {
		tm.bob.restore(t, start)
		tm.sync(t, tm.bob)
		if got := mGet(t, tm.bob.v, "app/beta"); got != "beta-3" {
			t.Errorf("beta = %q", got)
		}
	})
}

func base64Std(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// pushed is the record a device's last push through the proxy carried.
func pushed(t testing.TB, p *mProxy, mark int, d *mDev) wire.Record {
	t.Helper()
	xs := p.sent(mark, "POST /v1/push", d.id())
	if len(xs) == 0 {
		t.Fatalf("%s pushed nothing", d.name)
	}
	var req wire.Push
	if err := json.Unmarshal(xs[len(xs)-1].Body, &req); err != nil || len(req.Records) != 1 {
		t.Fatalf("push: %v, %d records", err, len(req.Records))
	}
	return req.Records[0]
}

// onChanges rewrites the changes one device pulls.
func (tm *mTeam) onChanges(t testing.TB, d *mDev, f func(ch *wire.Changes)) {
	tm.p.onAfter("GET /v1/changes", func(x *mExchange) {
		if x.Device == d.id() {
			rewrite(t, x, f)
		}
	})
}

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
	tm := newMTeam(t)
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
		return &mDev{name: "carol-anew", v: mVault(t), st: &st}
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
	tm := newMTeam(t)
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

// 7. The server (or anything between) flips one bit in each field of each
// answer: every base64, hex, number, bool and text leaf of GET /v1/log,
// GET /v1/key and GET /v1/changes in a new member's first sync (which
// reads the whole log, its key and every record), of GET /v1/joins in an
// admin's approval, of GET /v1/members, and of a push's answer.
//
// Nothing is accepted silently: each flip is refused with an error, or
// lands in a field that decides nothing (harmless below, each with its
// reason), and in every case the vault ends with the right values or none.
// Defences: everything of the tests above at once — signatures over log
// entries, wrapped keys and records, the AEAD, the join binding, the
// sequence and version checks.
func TestMaliciousBitFlips(t *testing.T) {
	tm := newMTeam(t)
	admin := tm.admin
	mSet(t, admin.v, "app/gamma", "gamma-1")
	tm.sync(t, admin)
	want := mSecrets(t, admin.v)

	type outcome struct{ refused, harmless int }
	count := map[string]*outcome{}
	// judge checks one case's outcome: refused, or a harmless field.
	judge := func(t *testing.T, endpoint string, p jpath, err error, harmless map[string]string) {
		t.Helper()
		o := count[endpoint]
		if o == nil {
			o = &outcome{}
			count[endpoint] = o
		}
		if err != nil {
			o.refused++
			t.Logf("%s %s: refused: %v", endpoint, p, err)
			return
		}
		why, ok := harmless[p.pattern()]
		if !ok {
			t.Errorf("%s: a flipped %s was accepted silently", endpoint, p)
			return
		}
		o.harmless++
		t.Logf("%s %s: accepted, harmless: %s", endpoint, p, why)
	}
	// each runs f for every leaf of body, with a low and (numbers) a high bit.
	each := func(body []byte, f func(p jpath, high bool)) {
		paths, err := jleaves(body)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			f(p, false)
			if v, _ := jdecode(body); isNumber(v, p) {
				f(p, true)
			}
		}
	}
	flipping := func(d *mDev, endpoint string, p jpath, high bool) {
		tm.p.onAfter(endpoint, func(x *mExchange) {
			if x.Device != d.id() {
				return
			}
			b, err := jflip(x.Resp, p, high)
			if err != nil {
				t.Errorf("flip %s: %v", p, err)
				return
			}
			x.Resp = b
		})
	}

	t.Run("members", func(t *testing.T) {
		ms, err := admin.Members(mctx)
		if err != nil || len(ms) != 2 {
			t.Fatalf("%v %v", ms, err)
		}
		body := tm.p.lastResp("GET /v1/members", admin.id())
		harmless := map[string]string{
			"[*].joined": "shown only", "[*].last_seen": "shown only",
			"[*].role": "the role shown is the log's", "[*].state": "the state shown is the log's",
			"[*].name": "the name shown is the log's", "[*].member": "the member shown is the log's",
			"[*].id":       "a device not in the log is not shown",
			"[*].sign_key": "a device whose keys are not the log's is not shown",
			"[*].box":      "the box key shown is the log's",
		}
		each(body, func(p jpath, high bool) {
			flipping(admin, "GET /v1/members", p, high)
			ms, err := admin.Members(mctx)
			tm.p.honest()
			judge(t, "GET /v1/members", p, err, harmless)
			for _, m := range ms {
				d, ok := admin.st.Members.Devices[m.ID]
				if m.Pending || !ok || !bytes.Equal(m.SignKey, d.SignKey) || m.Box != d.Box || m.Name != d.Name || m.Role != d.Role {
					t.Errorf("flipped %s: shown %+v", p, m.LogDevice)
				}
			}
		})
	})

	t.Run("a new member's first sync", func(t *testing.T) {
		carol := tm.invite(t, "carol", wire.RoleWriter)
		tm.sync(t, admin) // approved; carol has not synced
		start := carol.snapshot(t)
		vaultFor := func() *mDev {
			d := &mDev{name: "carol", v: mVault(t)}
			d.restore(t, start)
			return d
		}
		probe := vaultFor()
		mark := tm.p.mark()
		tm.sync(t, probe)
		mSame(t, "an honest first sync", mSecrets(t, probe.v), want)
		harmless := map[string]string{
			"records[*].seq": "a pull cursor; out of order is refused",
			"more":           "asks for one more page",
			"head":           "below the records is refused; above, the next sync says the server went backwards",
		}
		d := vaultFor()
		for _, endpoint := range []string{"GET /v1/log", "GET /v1/key", "GET /v1/changes"} {
			xs := tm.p.sent(mark, endpoint, carol.id())
			if len(xs) == 0 {
				t.Fatalf("no %s in a first sync", endpoint)
			}
			each(xs[0].Resp, func(p jpath, high bool) {
				d.restore(t, start)
				flipping(d, endpoint, p, high)
				_, err := d.Sync(mctx)
				tm.p.honest()
				judge(t, endpoint, p, err, harmless)
				got := mSecrets(t, d.v)
				switch {
				case err != nil && len(got) > 0:
					t.Errorf("%s %s: refused, but applied %v", endpoint, p, got)
				case err == nil:
					mSame(t, fmt.Sprintf("%s %s: the vault", endpoint, p), got, want)
				}
				if len(got) > 0 {
					// An honest sync after it works, or says the server
					// went backwards (a head flipped upwards).
					var rb *RollbackError
					if _, err := d.Sync(mctx); err != nil && !errors.As(err, &rb) {
						t.Errorf("%s %s: the honest sync after: %v", endpoint, p, err)
					}
					mSame(t, "the vault after an honest sync", mSecrets(t, d.v), want)
					d = vaultFor()
				}
			})
		}
	})

	t.Run("an admin's approval", func(t *testing.T) {
		harmless := map[string]string{
			"[*].created": "not used",
			"[*].team":    "the binding is checked with this device's team",
		}
		var dave *mDev
		var start []byte
		daves := 0
		next := func() {
			// A new member each time: an invitation admits only a new
			// member name.
			daves++
			dave = tm.invite(t, fmt.Sprintf("dave%d", daves), wire.RoleReader)
			start = admin.snapshot(t)
		}
		next()
		c, err := admin.st.conn()
		if err != nil {
			t.Fatal(err)
		}
		var body json.RawMessage
		if err := c.do(mctx, "GET", "/v1/joins", nil, &body); err != nil {
			t.Fatal(err)
		}
		box, _ := age.ParseX25519Identity(dave.st.BoxIdentity)
		each(body, func(p jpath, high bool) {
			admin.restore(t, start)
			flipping(admin, "GET /v1/joins", p, high)
			mark := tm.p.mark()
			as, err := admin.Approve(mctx)
			tm.p.honest()
			if err != nil {
				t.Fatalf("approve: %v", err)
			}
			approved := tm.p.sent(mark, "POST /v1/joins/approve", admin.id())
			if len(approved) == 0 {
				refused := "ignored: not an invite of this device"
				if len(as) == 1 {
					refused = as[0].Refused
				}
				judge(t, "GET /v1/joins", p, errors.New(refused), harmless)
				return
			}
			judge(t, "GET /v1/joins", p, nil, harmless)
			var a wire.Approve
			json.Unmarshal(approved[0].Body, &a)
			if _, err := age.Decrypt(bytes.NewReader(a.Key.Sealed), box); err != nil || a.Device != dave.id() ||
				a.Entry.Device == nil || !bytes.Equal(a.Entry.Device.SignKey, dave.st.Device.SignKey) || a.Entry.Role != wire.RoleReader {
				t.Errorf("flipped %s: approved something else than dave: %+v", p, a.Entry)
			}
			next()
			box, _ = age.ParseX25519Identity(dave.st.BoxIdentity)
		})
	})

	t.Run("a push's answer", func(t *testing.T) {
		bob := tm.bob
		tm.sync(t, bob)
		harmless := map[string]string{
			"results[*].seq": "not used",
			"head":           "below what this device has seen is refused; above, the next sync says the server went backwards",
		}
		n := 0
		mSet(t, admin.v, "app/alpha", "alpha-probe")
		mark := tm.p.mark()
		tm.sync(t, admin)
		body := tm.p.sent(mark, "POST /v1/push", admin.id())[0].Resp
		each(body, func(p jpath, high bool) {
			n++
			value := fmt.Sprintf("alpha-flip-%d", n)
			mSet(t, admin.v, "app/alpha", value)
			start := admin.snapshot(t)
			flipping(admin, "POST /v1/push", p, high)
			_, err := admin.Sync(mctx)
			tm.p.honest()
			judge(t, "POST /v1/push", p, err, harmless)
			// Then honestly, from the state before: no conflict, and bob
			// gets the value.
			admin.restore(t, start)
			if rep := tm.sync(t, admin); len(rep.Conflicts) > 0 {
				t.Errorf("flipped %s: conflicts %v", p, rep.Conflicts)
			}
			tm.sync(t, bob)
			if got := mGet(t, bob.v, "app/alpha"); got != value {
				t.Errorf("flipped %s: bob has %q, want %q", p, got, value)
			}
		})
	})

	for e, o := range count {
		t.Logf("%s: %d flips refused, %d harmless", e, o.refused, o.harmless)
	}
}

// isNumber reports whether the leaf at p is a number.
func isNumber(v any, p jpath) bool {
	for _, k := range p {
		switch k := k.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	_, ok := v.(json.Number)
	return ok
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
// Report.Quiet once that is longer ago than Quiet (14 days); `hush sync`
// prints the warning and `hush team verify` lets two members compare
// heads. Without the Quiet computation in Sync the first subtest fails;
// with LastChange moved by a higher head (as before this suite), the
// second does.
func TestMaliciousWithholding(t *testing.T) {
	tm := newMTeam(t)
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
		if rep.Quiet < Quiet {
			t.Errorf("Report.Quiet = %v after 15 days of nothing new; want a warning", rep.Quiet)
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
		if rep.Quiet < Quiet {
			t.Errorf("Report.Quiet = %v: a raised head and an old record hid 15 days of nothing new", rep.Quiet)
		}
		bob.restore(t, before) // forget the raised head
	})
	t.Run("then honest", func(t *testing.T) {
		mSet(t, admin.v, "app/new", "new-2")
		tm.sync(t, admin)
		rep := quiet(t)
		if rep.Quiet != 0 || mGet(t, bob.v, "app/new") != "new-2" {
			t.Errorf("honest: quiet %v", rep.Quiet)
		}
	})
}

// 9. The server tries to learn names and values. Canaries are planted in
// secret names, values, notes and tags; then the whole life of a team
// runs through the proxy (create, invite, join, approve, sync both ways,
// a conflict and its resolution, a role change, members, verify, audit,
// a rotation, a removal), and no request the clients send (URL, headers,
// body) holds a canary: in plain text, base64 (standard or URL-safe, at
// each alignment) or hex.
//
// Defence: a record's payload (name, metadata, value) is sealed under the
// team key before it leaves (seal), and padded to a size bucket; nothing
// else a client sends carries a secret's name. Sending the payload
// unsealed fails the test.
func TestMaliciousCanaries(t *testing.T) {
	canaries := []string{"CNRYname4q7zkx", "CNRYvalue8m2wpd", "CNRYnote3j5rvb", "CNRYtag6t9hsyc", "CNRYfolder2xq4"}
	// The search finds a canary in base64 and hex at any alignment.
	for pre := range 3 {
		b := append(append(make([]byte, pre), "x "+canaries[1]+" y"...), byte(pre))
		for _, enc := range []string{base64.StdEncoding.EncodeToString(b), base64.RawURLEncoding.EncodeToString(b), hex.EncodeToString(b)} {
			found := false
			for _, f := range canaryForms(canaries[1]) {
				found = found || strings.Contains(enc, f)
			}
			if !found {
				t.Fatalf("canaryForms misses %s in %s", canaries[1], enc)
			}
		}
	}
	p := newMProxy(t)
	tm := &mTeam{p: p}
	admin := &mDev{name: "admin", v: mVault(t)}
	tm.admin = admin
	note, tags := "the note "+canaries[2], []string{canaries[3]}
	if _, err := admin.v.Set("app/"+canaries[0], []byte("value "+canaries[1]), vault.Update{Note: &note, Tags: &tags}); err != nil {
		t.Fatal(err)
	}
	mSet(t, admin.v, canaries[4]+"/db", "pw "+canaries[1])
	mSet(t, admin.v, "app/x", "x")
	mSet(t, admin.v, "app/"+strings.Repeat("long-name-", 5), strings.Repeat("v", 100))
	var err error
	if admin.st, err = Create(mctx, admin.v, CreateOptions{Server: p.url, Name: "acme-team", Device: "admin-laptop", Member: "admin"}); err != nil {
		t.Fatal(err)
	}
	tm.bob = tm.add(t, "bob", wire.RoleWriter)
	bob := tm.bob
	name := "app/" + canaries[0]
	if got := mGet(t, bob.v, name); got != "value "+canaries[1] {
		t.Fatalf("bob has %q", got)
	}

	// A conflict on the canary secret, settled; a new value from bob.
	mSet(t, admin.v, name, "admin "+canaries[1])
	mSet(t, bob.v, name, "bob "+canaries[1])
	tm.sync(t, admin)
	if rep := tm.sync(t, bob); len(rep.Conflicts) != 1 {
		t.Fatalf("conflicts %v", rep.Conflicts)
	}
	if err := bob.Resolve(mctx, name, KeepMine); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, bob)
	tm.sync(t, admin)
	// Membership: a role change, members, verify, audit, rotate, remove.
	if err := admin.SetRole(mctx, "bob", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	if err := admin.SetRole(mctx, "bob", wire.RoleWriter); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Members(mctx); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Verify(mctx); err != nil {
		t.Fatal(err)
	}
	evs, err := admin.Audit(mctx, time.Now().Add(-time.Hour))
	if err != nil || len(evs) == 0 {
		t.Fatalf("audit: %d events, %v", len(evs), err)
	}
	if _, err := admin.Rotate(mctx); err != nil {
		t.Fatal(err)
	}
	carol := tm.add(t, "carol", wire.RoleReader)
	if _, err := admin.Remove(mctx, "carol"); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, admin)
	tm.sync(t, bob)
	if got := mGet(t, carol.v, name); got != "bob "+canaries[1] {
		t.Fatalf("carol had %q", got)
	}
	if got := mGet(t, bob.v, name); got != "bob "+canaries[1] {
		t.Fatalf("bob has %q", got)
	}

	xs := p.since(0)
	endpoints := map[string]int{}
	for _, x := range xs {
		endpoints[x.endpoint()]++
		var sent strings.Builder
		sent.WriteString(x.Method + " " + x.Path + "?" + x.Query + "\n")
		for k, vs := range x.Header {
			sent.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		sent.Write(x.Body)
		for _, c := range canaries {
			for _, form := range canaryForms(c) {
				if strings.Contains(sent.String(), form) {
					t.Errorf("%s %s sent canary %s as %q", x.Method, x.Path, c, form)
				}
			}
		}
	}
	for _, e := range []string{"POST /v1/teams", "POST /v1/invites", "POST /v1/join", "GET /v1/joins", "POST /v1/joins/approve",
		"GET /v1/key", "GET /v1/log", "POST /v1/log", "GET /v1/changes", "POST /v1/push", "GET /v1/members", "GET /v1/audit"} {
		if endpoints[e] == 0 {
			t.Errorf("the flow never used %s", e)
		}
	}

	// Sizes: a one-letter secret and one of a 50-letter name and a 100-byte
	// value are sealed to the same size.
	sizes := map[int]bool{}
	for _, r := range p.records() {
		if r.Author == admin.id() && r.Epoch == 1 && r.Version == 1 {
			sizes[len(r.Sealed)] = true
		}
	}
	if len(sizes) != 1 {
		t.Errorf("sealed sizes %v: want one bucket for small secrets", sizes)
	}
}

// canaryForms is how a canary could appear in a request: as is, in hex,
// and in base64 whatever its alignment in the encoded bytes.
func canaryForms(c string) []string {
	out := []string{c, hex.EncodeToString([]byte(c)), strings.ToUpper(hex.EncodeToString([]byte(c)))}
	for shift := range 3 {
		b := append(make([]byte, shift), c...)
		enc := base64.StdEncoding.EncodeToString(b)
		from, to := (shift+2)/3*4, (shift+len(c))/3*4
		core := enc[from:to]
		out = append(out, core, strings.NewReplacer("+", "-", "/", "_").Replace(core))
	}
	return out
}

// wrapTo wraps key to a device's box key like an admin's client would,
// signed as signer with seed (nil: a zero signature).
func wrapTo(t testing.TB, team string, d *wire.Device, epoch int64, key []byte, signer string, seed []byte) wire.WrappedKey {
	t.Helper()
	rcp, err := age.ParseX25519Recipient(d.Box)
	if err != nil {
		t.Fatal(err)
	}
	grant, _ := json.Marshal(wire.KeyGrant{Team: team, Device: d.ID, Epoch: epoch, Key: key})
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, rcp)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(grant)
	w.Close()
	wk := wire.WrappedKey{Device: d.ID, Epoch: epoch, Sealed: buf.Bytes(), Signer: signer, Sig: make([]byte, ed25519.SignatureSize)}
	if seed != nil {
		wk.Sig = ed25519.Sign(ed25519.NewKeyFromSeed(seed), wire.WrappedKeySigned(team, &wk))
	}
	return wk
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
func TestMaliciousBackdatedWrite(t *testing.T) {
	tm := newMTeam(t)
	admin, bob := tm.admin, tm.bob
	writerAt := bob.st.Members.Seq
	if err := admin.SetRole(mctx, "bob", wire.RoleReader); err != nil {
		t.Fatal(err)
	}
	tm.sync(t, bob)
	if bob.st.Role != wire.RoleReader {
		t.Fatalf("bob is a %s", bob.st.Role)
	}
	alpha := secretID(t, admin, "app/alpha")
	back := *bob.st
	back.Members = cloneMembership(bob.st.Members)
	back.Members.Seq = writerAt
	cur, err := admin.v.Get("app/alpha")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := back.seal(alpha, 2, &payload{Name: "app/alpha", Meta: cur.Meta, Value: []byte("forged by a reader")})
	if err != nil {
		t.Fatal(err)
	}
	tm.onChanges(t, admin, func(ch *wire.Changes) {
		ch.Records = slices.DeleteFunc(ch.Records, func(r wire.Record) bool { return r.ID == alpha })
		ch.Head++
		rec.Seq = ch.Head
		ch.Records = append(ch.Records, *rec)
	})
	_, err = admin.Sync(mctx)
	var bad *BadRecordError
	mWantErr(t, err, "before its key epoch began", &bad)
	if got := mGet(t, admin.v, "app/alpha"); got != "alpha-1" {
		t.Errorf("alpha = %q", got)
	}
}
