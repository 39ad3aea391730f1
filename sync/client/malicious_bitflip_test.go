package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/sync/wire"
)

// Tampering: one bit flipped in every field of every answer.

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
	tm := newMTeamV1(t)
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
			d := &mDev{name: "carol", v: mVault(t), v1: tm.v1}
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
