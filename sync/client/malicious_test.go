package client

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"testing"

	"filippo.io/age"

	"github.com/hush-secrets/hush/sync/wire"
)

// The malicious-server suite (issue 7). Every test puts a lie into the
// real server's answers (proxy_test.go) and shows that the client (a)
// refuses with a clear error, (b) applies nothing, (c) wraps no team key
// to anyone the signed membership log does not list, and (d) would not
// refuse without the check named in the test's comment (each was removed
// once, by hand, to see the test fail). docs/security.md lists the attacks
// and the defences.
//
// The attacks are grouped by threat class: keys (malicious_keys_test.go),
// records (malicious_records_test.go), order and freshness
// (malicious_rollback_test.go), the membership log
// (malicious_log_test.go), tampering (malicious_bitflip_test.go) and
// confidentiality (malicious_canary_test.go). The lying server is
// proxy_test.go.

var mctx = context.Background()

func secretID(t testing.TB, d *mDev, name string) string {
	t.Helper()
	s, err := d.v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
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
