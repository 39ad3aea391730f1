package client

import (
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// Confidentiality: what the server learns of names and values.

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
		"GET /v1/key", "GET /v1/log", "POST /v1/log", "GET /v2/chain", "POST /v2/push", "GET /v1/members", "GET /v1/audit"} {
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
