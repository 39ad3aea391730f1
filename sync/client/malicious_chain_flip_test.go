package client

import (
	"fmt"
	"testing"

	"github.com/hush-secrets/hush/sync/wire"
)

// Tampering with the chain: one bit flipped in every leaf of a new
// member's first GET /v2/chain (every entry and record of the team) and of
// a push's answer (POST /v2/push). Each flip is refused, or lands in a
// field that decides nothing (harmless, with its reason); a refused answer
// applies nothing and moves no cursor; the honest sync after it brings
// every secret. Defences: the entry signatures and links (VerifyChain),
// records checked against their entries (ChainRecords) and opened as in
// v1, the page's head checked against its entries (checkPage), and a push
// done only when its entries come back.
func TestMaliciousChainBitFlips(t *testing.T) {
	tm := newMTeam(t)
	admin := tm.admin
	mSet(t, admin.v, "app/gamma", "gamma-1")
	tm.sync(t, admin)
	mSet(t, admin.v, "app/alpha", "alpha-2")
	tm.sync(t, admin)
	want := mSecrets(t, admin.v)
	refused, harmlessN := 0, 0
	judge := func(t *testing.T, what string, p jpath, err error, harmless map[string]string) {
		t.Helper()
		if err != nil {
			refused++
			t.Logf("%s %s: refused: %v", what, p, err)
			return
		}
		why, ok := harmless[p.pattern()]
		if !ok {
			t.Errorf("%s: a flipped %s was accepted silently", what, p)
			return
		}
		harmlessN++
		t.Logf("%s %s: accepted, harmless: %s", what, p, why)
	}
	// flipOnce flips leaf p of the first answer to d from endpoint.
	flipOnce := func(d *mDev, endpoint string, p jpath, high bool) {
		done := false
		tm.p.onAfter(endpoint, func(x *mExchange) {
			if x.Device != d.id() || done {
				return
			}
			done = true
			b, err := jflip(x.Resp, p, high)
			if err != nil {
				t.Errorf("flip %s: %v", p, err)
				return
			}
			x.Resp = b
		})
	}
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

	t.Run("a new member's first chain pull", func(t *testing.T) {
		carol := tm.invite(t, "carol", wire.RoleWriter)
		tm.sync(t, admin)
		start := carol.snapshot(t)
		fresh := func() *mDev {
			d := &mDev{name: "carol", v: mVault(t)}
			d.restore(t, start)
			return d
		}
		probe := fresh()
		mark := tm.p.mark()
		tm.sync(t, probe)
		mSame(t, "an honest first sync", mSecrets(t, probe.v), want)
		xs := tm.p.sent(mark, "GET /v2/chain", carol.id())
		if len(xs) == 0 {
			t.Fatal("no GET /v2/chain in a first sync")
		}
		harmless := map[string]string{
			"records[*].seq": "not read: the order is the entries'",
			"more":           "asks for one more page, which is empty at the head",
			"records[*].sig": "not read for a record its verified entry names byte for byte (the entry's signature, by the same author, " +
				"covers the same id, version, epoch, ciphertext hash and log position); a record kept as a conflict is checked in full",
			"entries[*].log_seq": "a position past the verified log: the sync fetches the log again and pulls again, the flipped answer unused " +
				"(a lower one fails the signature)",
		}
		d := fresh()
		each(xs[0].Resp, func(p jpath, high bool) {
			d.restore(t, start)
			flipOnce(d, "GET /v2/chain", p, high)
			_, err := d.Sync(mctx)
			tm.p.honest()
			judge(t, "GET /v2/chain", p, err, harmless)
			got := mSecrets(t, d.v)
			switch {
			case err != nil && len(got) > 0:
				t.Errorf("%s: refused, but applied %v", p, got)
			case err == nil:
				mSame(t, fmt.Sprintf("%s: the vault", p), got, want)
			}
			chainCursorReal(t, tm, d)
			if len(got) > 0 || err != nil {
				if _, err := d.Sync(mctx); err != nil {
					t.Errorf("%s: the honest sync after: %v", p, err)
				}
				mSame(t, "the vault after an honest sync", mSecrets(t, d.v), want)
				d = fresh()
			}
		})
	})

	t.Run("a push's answer", func(t *testing.T) {
		bob := tm.bob
		tm.sync(t, bob)
		harmless := map[string]string{
			"head.pos":  "not read: the push is done when its entries come back",
			"head.hash": "not read: the push is done when its entries come back",
		}
		n := 0
		mSet(t, admin.v, "app/alpha", "alpha-probe")
		mark := tm.p.mark()
		tm.sync(t, admin)
		body := tm.p.sent(mark, "POST /v2/push", admin.id())[0].Resp
		each(body, func(p jpath, high bool) {
			n++
			value := fmt.Sprintf("alpha-flip-%d", n)
			mSet(t, admin.v, "app/alpha", value)
			flipOnce(admin, "POST /v2/push", p, high)
			_, err := admin.Sync(mctx)
			tm.p.honest()
			judge(t, "POST /v2/push", p, err, harmless)
			chainCursorReal(t, tm, admin)
			if rep := tm.sync(t, admin); len(rep.Conflicts) > 0 {
				t.Errorf("flipped %s: conflicts %v", p, rep.Conflicts)
			}
			tm.sync(t, bob)
			if got := mGet(t, bob.v, "app/alpha"); got != value {
				t.Errorf("flipped %s: bob has %q, want %q", p, got, value)
			}
		})
	})
	t.Logf("%d flips refused, %d harmless", refused, harmlessN)
}
