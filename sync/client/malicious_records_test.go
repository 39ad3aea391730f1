package client

import (
	"crypto/ed25519"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// Record attacks: the server swaps ciphertexts, or a demoted member
// backdates a write with its help.

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
	tm := newMTeamV1(t)
	tm.add(t, "mallory", wire.RoleWriter) // removed below: epoch 2
	team := tm.admin.st.Team

	// Another team on the same server, with a secret of the same name.
	other := &mDev{name: "other", v: mVault(t), v1: true}
	mSet(t, other.v, "app/beta", "other-team-beta")
	var err error
	if other.st, err = Create(mctx, other.v, CreateOptions{Server: tm.p.url, Name: "other-team", Device: "o", Member: "o", legacy: true}); err != nil {
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

func TestMaliciousBackdatedWrite(t *testing.T) {
	tm := newMTeamV1(t)
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
