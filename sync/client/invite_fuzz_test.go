package client_test

import (
	"bytes"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/sync/wire"
)

// FuzzParseInvite: an invitation code comes from a chat message or an
// email, anything at all. ParseInvite never panics, accepts only codes
// whose fields are usable, and what it accepts prints back to a code that
// parses to the same invite.
//
//	go test -run '^$' -fuzz FuzzParseInvite -fuzztime 30s ./sync/client/
func FuzzParseInvite(f *testing.F) {
	inv := client.Invite{Server: "https://hush.example.com:8443", Team: "0123456789abcdef0123456789abcdef",
		ID: "fedcba9876543210fedcba9876543210", Secret: bytes.Repeat([]byte{0xa5}, 32)}
	code := inv.String()
	raw := func(s string) string { return "hush-invite-1." + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{
		code,
		"  " + code + "\n",
		code[:len(code)-1],
		code + "A",
		strings.Replace(code, "hush-invite-1.", "hush-invite-2.", 1),
		(&client.Invite{Server: "http://127.0.0.1:8443", Team: inv.Team, ID: inv.ID, Secret: inv.Secret}).String(),
		(&client.Invite{Server: "http://hush.example.com", Team: inv.Team, ID: inv.ID, Secret: inv.Secret}).String(),
		raw(`{"s":"https://h","t":"0123456789abcdef0123456789abcdef","i":"fedcba9876543210fedcba9876543210","k":"pWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk=","n":"acme"}`),
		raw(`{"s":"https://h","t":"0123456789abcdef0123456789abcdef","i":"fedcba9876543210fedcba9876543210","k":"pWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk=","n":"line\nbreak"}`),
		raw(`{"s":"https://h","t":"0123456789abcdef0123456789abcdef","i":"fedcba9876543210fedcba9876543210","k":"pWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk="}`),
		raw(`{"s":"https://h","t":"0123456789abcdef0123456789abcdef","i":"fedcba9876543210fedcba9876543210","k":"AAAA","x":1}`),
		raw(`{"S":"https://h","T":"0123456789abcdef0123456789abcdef","I":"fedcba9876543210fedcba9876543210","K":"pWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk="}`),
		raw(`null`),
		"hush-invite-1.",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := client.ParseInvite(s)
		if err != nil {
			if inv != nil {
				t.Fatalf("an error and an invite: %v, %+v", err, inv)
			}
			return
		}
		switch {
		case !wire.ValidID(inv.Team) || !wire.ValidID(inv.ID):
			t.Fatalf("accepted ids %q, %q", inv.Team, inv.ID)
		case len(inv.Secret) != 32:
			t.Fatalf("accepted a secret of %d bytes", len(inv.Secret))
		}
		if _, err := client.CheckServerURL(inv.Server); err != nil {
			t.Fatalf("accepted server %q: %v", inv.Server, err)
		}
		again := inv.String()
		if len(again) > 2048 {
			// JSON escapes make a code longer than it came: a code that
			// long is refused, and so is this one.
			return
		}
		back, err := client.ParseInvite(again)
		if err != nil {
			t.Fatalf("%q parsed to %+v, which prints to %q, which does not parse: %v", s, inv, again, err)
		}
		if !reflect.DeepEqual(back, inv) {
			t.Fatalf("round trip: %+v, then %+v", inv, back)
		}
	})
}
