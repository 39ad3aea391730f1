package server_test

// Fuzzing the server's request decoding. Each input goes to the real
// handler (on a SQLite file, in process through httptest.NewRecorder),
// signed correctly by a member so that decoding is reached. The server
// must never answer 5xx or panic, and answers 2xx only to what a
// reference check (written here from the protocol, not from the server's
// code) calls well-formed. The team and its keys are the same on every run
// (fixedTeam), so the seeds in testdata/fuzz hold valid signatures.
//
//	go test -run '^$' -fuzz FuzzDecodePush -fuzztime 60s ./sync/server/
//	go test -run '^$' -fuzz FuzzServeRequest -fuzztime 60s ./sync/server/

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/wire"
)

// fuzzOptions keep the rate limit out of the way.
var fuzzOptions = server.Options{Rate: 1e9, Burst: 1 << 30}

// fixedRecord is a record of d's with given sealed bytes (the server never
// opens them), signed at the team's current epoch and log position: the
// same bytes on every run of a fixedTeam.
func (e *env) fixedRecord(d *device, id string, version int64, sealed string) wire.Record {
	r := wire.Record{ID: id, Version: version, Epoch: e.members.Epoch, LogSeq: e.members.Seq, Sealed: []byte(sealed), Author: d.ID}
	r.Sig = ed25519.Sign(d.key, wire.RecordSigned(e.team, &r))
	return r
}

// serve sends one request to the handler, signed by d over what is sent,
// with one header then replaced when tamper names one.
func (e *env) serve(d *device, method, target string, body []byte, tamper, value string) (*httptest.ResponseRecorder, *http.Request) {
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	signRequest(r.Header, d.key, d.ID, method, r.URL.RequestURI(), body, e.clock.Now().Unix(), wire.NewID())
	orig := r.Header.Clone()
	if tamper != "" {
		r.Header.Set(tamper, value)
	}
	w := httptest.NewRecorder()
	e.srv.ServeHTTP(w, r)
	r.Header = orig
	return w, r
}

// storedLog is the membership the team's stored log leads to, read from
// the store (no request spent) and verified as a client would.
func (e *env) storedLog(t testing.TB) *wire.Membership {
	t.Helper()
	entries, _, err := e.st.Log(context.Background(), e.team, 0)
	if err != nil {
		t.Fatal(err)
	}
	m := wire.NewMembership(e.team)
	for _, b := range entries {
		var le wire.LogEntry
		if err := json.Unmarshal(b, &le); err != nil {
			t.Fatalf("stored entry %q: %v", b, err)
		}
		if err := m.Apply(&le); err != nil {
			t.Fatalf("the stored log does not verify: %v", err)
		}
	}
	return m
}

// head is the team's head, read from the store (no request spent).
func (e *env) head(t *testing.T) int64 {
	c, err := e.st.Changes(context.Background(), e.team, 1<<62, 1)
	if err != nil {
		t.Fatal(err)
	}
	return c.Head
}

// wellFormedPush is the reference: does body push records d may push?
func wellFormedPush(team string, d *device, body []byte) (*wire.Push, bool) {
	var p wire.Push
	if wire.Decode(body, &p) != nil || len(p.Records) < 1 || len(p.Records) > wire.MaxPushRecords {
		return nil, false
	}
	ids := map[string]bool{}
	for i := range p.Records {
		r := &p.Records[i]
		if r.Check() != nil || ids[r.ID] || r.Author != d.ID {
			return nil, false
		}
		ids[r.ID] = true
		// The server ignores the Seq a client sends, and so must the check.
		c := *r
		c.Seq = 0
		if !ed25519.Verify(d.SignKey, wire.RecordSigned(team, &c), r.Sig) {
			return nil, false
		}
	}
	return &p, true
}

// pushSeeds are push bodies for the fixed team's writer: valid ones and
// near misses.
func pushSeeds(e *env) [][]byte {
	w := e.writer
	a := e.fixedRecord(w, "0123456789abcdef0123456789abcdef", 1, "sealed bytes a")
	b := e.fixedRecord(w, "fedcba9876543210fedcba9876543210", 1, "sealed bytes b")
	b2 := e.fixedRecord(w, b.ID, 2, "sealed bytes b, version 2")
	byAdmin := e.fixedRecord(e.admin, "00112233445566778899aabbccddeeff", 1, "by the admin")
	// Well signed, at a log position or epoch that is not the team's.
	oldLog := a
	oldLog.ID, oldLog.LogSeq = "0123456789abcdef0123456789abcde0", oldLog.LogSeq-1
	e.resign(w, &oldLog)
	newEpoch := a
	newEpoch.ID, newEpoch.Epoch = "0123456789abcdef0123456789abcde1", newEpoch.Epoch+1
	e.resign(w, &newEpoch)
	enc := func(rs ...wire.Record) []byte { return body(e.t, wire.Push{Records: rs}) }
	return [][]byte{
		enc(a),
		enc(a, b),
		enc(b2),
		enc(oldLog),
		enc(b, newEpoch),
		enc(a, a),
		enc(byAdmin),
		enc(),
		[]byte(`{"records":null}`),
		[]byte(`{"records":[{}]}`),
		append(enc(a), ' ', '{', '}'),
		[]byte(`{"records":[{"id":"0123456789abcdef0123456789abcdef","version":1e3}]}`),
		[]byte(`{"Records":[]}`),
		[]byte("\xef\xbb\xbf{}"),
		[]byte(`[`),
	}
}

func FuzzDecodePush(f *testing.F) {
	e := fixedTeam(f, fuzzOptions)
	for _, s := range pushSeeds(e) {
		f.Add(s)
	}
	// The team's key epoch and log position: no input changes them.
	epoch, logSeq := e.members.Epoch, e.members.Seq
	f.Fuzz(func(t *testing.T, b []byte) {
		e.clock.Add(time.Millisecond) // old nonces get forgotten
		before := e.head(t)
		w, r := e.serve(e.writer, "POST", "/v1/push", b, "", "")
		p, ok := wellFormedPush(e.team, e.writer, b)
		switch {
		case w.Code >= 500:
			t.Fatalf("%d %s for body %q", w.Code, w.Body, b)
		case ok && w.Code != http.StatusOK:
			t.Fatalf("a well-formed push got %d %s: %q", w.Code, w.Body, b)
		case !ok && w.Code != http.StatusBadRequest && !(w.Code == http.StatusRequestEntityTooLarge && len(b) > wire.MaxBody):
			t.Fatalf("a malformed push got %d %s: %q", w.Code, w.Body, b)
		}
		if !ok {
			if h := e.head(t); h != before {
				t.Fatalf("a refused push moved the head from %d to %d: %q", before, h, b)
			}
			return
		}
		var pr wire.PushResponse
		if err := wire.Decode(w.Body.Bytes(), &pr); err != nil || len(pr.Results) != len(p.Records) || pr.Head < before {
			t.Fatalf("answer %s to %s: %v", w.Body, r.Method, err)
		}
		applied := int64(0)
		for i, res := range pr.Results {
			rec := &p.Records[i]
			current := rec.Epoch == epoch && rec.LogSeq == logSeq
			switch {
			case res.ID != rec.ID:
				t.Fatalf("result %d is for %s, not %s", i, res.ID, rec.ID)
			case res.Status == wire.PushStale:
				if current {
					t.Fatalf("a record at the team's epoch %d and log position %d is stale", epoch, logSeq)
				}
			case !current:
				t.Fatalf("a record at epoch %d, log position %d (the team's: %d, %d) got %q", rec.Epoch, rec.LogSeq, epoch, logSeq, res.Status)
			case res.Status == wire.PushOK:
				applied++
			case res.Status == wire.PushConflict:
			default:
				t.Fatalf("result status %q", res.Status)
			}
		}
		if pr.Head != before+applied {
			t.Fatalf("%d records applied, head %d -> %d", applied, before, pr.Head)
		}
	})
}

// routes the request fuzzer picks from, and who signs.
type fuzzRoute struct {
	method, path string
	signer       func(e *env) *device
	selfSigned   bool
}

var newcomer = fixedDevice("newcomer", "nia")

var fuzzRoutes = []fuzzRoute{
	{"POST", "/v1/teams", func(*env) *device { return newcomer }, true},
	{"POST", "/v1/join", func(*env) *device { return newcomer }, true},
	{"GET", "/v1/changes", func(e *env) *device { return e.reader }, false},
	{"POST", "/v1/push", func(e *env) *device { return e.writer }, false},
	{"GET", "/v1/members", func(e *env) *device { return e.reader }, false},
	{"GET", "/v1/key", func(e *env) *device { return e.writer }, false},
	{"POST", "/v1/invites", func(e *env) *device { return e.admin }, false},
	{"GET", "/v1/joins", func(e *env) *device { return e.admin }, false},
	{"POST", "/v1/joins/approve", func(e *env) *device { return e.admin }, false},
	{"POST", "/v1/push", func(e *env) *device { return e.reader }, false}, // a reader pushing
	{"GET", "/v1/log", func(e *env) *device { return e.reader }, false},
	{"POST", "/v1/log", func(e *env) *device { return e.admin }, false},
	{"GET", "/v1/audit", func(e *env) *device { return e.admin }, false},
	{"POST", "/v1/log", func(e *env) *device { return e.writer }, false}, // a writer changing the log
}

var fuzzHeaders = []string{"", wire.HeaderDevice, wire.HeaderTime, wire.HeaderNonce, wire.HeaderSignature}

// sameAuth reports whether a tampered header still means what was signed.
func sameAuth(tamper, value string, orig http.Header) bool {
	switch tamper {
	case "":
		return true
	case wire.HeaderTime:
		n, err := strconv.ParseInt(value, 10, 64)
		o, _ := strconv.ParseInt(orig.Get(tamper), 10, 64)
		return err == nil && n == o
	case wire.HeaderSignature:
		a, err := base64.StdEncoding.DecodeString(value)
		b, _ := base64.StdEncoding.DecodeString(orig.Get(tamper))
		return err == nil && bytes.Equal(a, b)
	}
	return value == orig.Get(tamper)
}

// wellFormed is the reference for the routes with a body: may this body
// get a 2xx from this route, signed by d, in the server's state now
// (before the request)?
func wellFormed(t testing.TB, e *env, route fuzzRoute, d *device, b []byte, now time.Time) bool {
	if route.method == "GET" {
		return true // the GET routes read no body
	}
	switch route.path {
	case "/v1/push":
		if d != e.writer {
			return false
		}
		_, ok := wellFormedPush(e.team, d, b)
		return ok
	case "/v1/teams":
		// The log starts with this team's creation by this device.
		var c wire.CreateTeam
		if wire.Decode(b, &c) != nil || c.Device.ID != d.ID || !bytes.Equal(c.Device.SignKey, d.SignKey) || c.Device.Check() != nil ||
			!wire.ValidID(c.Team) || len(c.Name) == 0 || len(c.Name) > 64 {
			return false
		}
		g := c.Log
		return wire.NewMembership(c.Team).Apply(&g) == nil && g.Kind == wire.LogCreate && g.Name == c.Name && equalDevice(g.Device, &c.Device)
	case "/v1/join":
		var j wire.Join
		return wire.Decode(b, &j) == nil && j.Device.ID == d.ID && bytes.Equal(j.Device.SignKey, d.SignKey) && j.Device.Check() == nil &&
			wire.ValidID(j.Team) && wire.ValidID(j.Invite) && len(j.Binding) == 32
	case "/v1/invites":
		var i wire.Invite
		return wire.Decode(b, &i) == nil && wire.ValidID(i.ID) && wire.ValidRole(i.Role) && i.Expires.After(now) && !i.Expires.After(now.Add(31*24*time.Hour))
	case "/v1/joins/approve":
		// A key for the device, of the current epoch, and the log's next
		// entry adding that device, both signed by d.
		var a wire.Approve
		k := &a.Key
		if wire.Decode(b, &a) != nil || !wire.ValidID(a.Device) || k.Device != a.Device || k.Signer != d.ID ||
			len(k.Sealed) == 0 || len(k.Sealed) > 4096 || !ed25519.Verify(d.SignKey, wire.WrappedKeySigned(e.team, k), k.Sig) {
			return false
		}
		m := e.storedLog(t)
		le := &a.Entry
		return le.Kind == wire.LogAdd && le.Signer == d.ID && le.Device != nil && le.Device.ID == a.Device && m.Apply(le) == nil && k.Epoch == m.Epoch
	case "/v1/log":
		// The log's next entry (a role change, a removal or a new epoch),
		// signed by d, an admin; a new epoch with its key wrapped once to
		// every device that remains, signed by d.
		var a wire.AppendLog
		if d != e.admin || wire.Decode(b, &a) != nil {
			return false
		}
		le := &a.Entry
		if le.Signer != d.ID || (le.Kind != wire.LogRole && le.Kind != wire.LogRemove && le.Kind != wire.LogEpoch) {
			return false
		}
		m := e.storedLog(t)
		if m.Apply(le) != nil {
			return false
		}
		if le.Kind != wire.LogEpoch {
			return len(a.Keys) == 0
		}
		want := map[string]bool{}
		for id, dev := range m.Devices {
			if dev.Active {
				want[id] = true
			}
		}
		for i := range a.Keys {
			k := &a.Keys[i]
			if !want[k.Device] || k.Epoch != le.Epoch || k.Signer != d.ID || len(k.Sealed) == 0 || len(k.Sealed) > 4096 ||
				!ed25519.Verify(d.SignKey, wire.WrappedKeySigned(e.team, k), k.Sig) {
				return false
			}
			delete(want, k.Device)
		}
		return len(want) == 0
	}
	return true
}

// equalDevice compares two devices field by field.
func equalDevice(a, b *wire.Device) bool {
	return a != nil && b != nil && a.ID == b.ID && a.Name == b.Name && a.Member == b.Member && bytes.Equal(a.SignKey, b.SignKey) && a.Box == b.Box
}

// requestSeeds are one input per route, each accepted as it is (or refused
// for its content), plus a few tamperings.
type requestSeed struct {
	route        uint8
	body         []byte
	header       uint8
	value, since string
}

func requestSeeds(e *env) []requestSeed {
	now := e.clock.Now()
	inv := wire.Invite{ID: "abcdefabcdefabcdefabcdefabcdefab", Role: wire.RoleWriter, Expires: now.Add(24 * time.Hour).UTC().Truncate(time.Second)}
	k := wire.WrappedKey{Device: newcomer.ID, Epoch: 1, Sealed: []byte("opaque"), Signer: e.admin.ID}
	k.Sig = ed25519.Sign(e.admin.key, wire.WrappedKeySigned(e.team, &k))
	push := pushSeeds(e)
	const newTeam = "0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f"
	// The log's next entries: a new key epoch, wrapped to every device
	// (opaque bytes: the server never opens them), and a role change the
	// writer signs.
	epoch, keys, _ := e.epochEntry(e.admin)
	slices.SortFunc(keys, func(a, b wire.WrappedKey) int { return strings.Compare(a.Device, b.Device) })
	byWriter := e.roleEntry(e.writer, e.reader.Member, wire.RoleWriter)
	return []requestSeed{
		{uint8(0), body(e.t, wire.CreateTeam{Team: newTeam, Name: "fuzz", Device: newcomer.Device, Log: *genesisEntry(newTeam, "fuzz", newcomer, fixedLogTime)}), uint8(0), "", ""},
		{uint8(1), body(e.t, wire.Join{Team: e.team, Invite: inv.ID, Device: newcomer.Device, Binding: make([]byte, 32)}), uint8(0), "", ""},
		{uint8(2), []byte(nil), uint8(0), "", "0"},
		{uint8(2), []byte(nil), uint8(0), "", "-1"},
		{uint8(3), push[0], uint8(0), "", ""},
		{uint8(3), push[1], uint8(2), "+" + strconv.FormatInt(now.Unix(), 10), ""},
		{uint8(3), push[1], uint8(3), "0123456789abcdef0123456789abcdef", ""},
		{uint8(4), []byte(nil), uint8(1), "0123456789ABCDEF0123456789ABCDEF", ""},
		{uint8(5), []byte(nil), uint8(4), "AAAA", ""},
		{uint8(6), body(e.t, inv), uint8(0), "", ""},
		{uint8(7), []byte(nil), uint8(0), "", ""},
		{uint8(8), body(e.t, wire.Approve{Invite: inv.ID, Device: newcomer.ID, Key: k, Entry: *e.addEntry(e.admin, newcomer, wire.RoleWriter)}), uint8(0), "", ""},
		{uint8(9), push[0], uint8(0), "", ""},
		{uint8(10), []byte(nil), uint8(0), "", "0"},
		{uint8(10), []byte(nil), uint8(0), "", "x"},
		{uint8(12), []byte(nil), uint8(0), "", "0"},
		{uint8(11), body(e.t, wire.AppendLog{Entry: *epoch, Keys: keys}), uint8(0), "", ""},
		{uint8(11), body(e.t, wire.AppendLog{Entry: *epoch, Keys: keys}), uint8(0), "", ""},
		{uint8(13), body(e.t, wire.AppendLog{Entry: *byWriter}), uint8(0), "", ""},
	}
}

func FuzzServeRequest(f *testing.F) {
	e := fixedTeam(f, fuzzOptions)
	for _, s := range requestSeeds(e) {
		f.Add(s.route, s.body, s.header, s.value, s.since)
	}
	f.Fuzz(func(t *testing.T, ri uint8, b []byte, hi uint8, value, since string) {
		e.clock.Add(time.Millisecond) // old nonces get forgotten
		route := fuzzRoutes[int(ri)%len(fuzzRoutes)]
		tamper := fuzzHeaders[int(hi)%len(fuzzHeaders)]
		target := route.path
		if route.method == "GET" {
			target += "?since=" + url.QueryEscape(since)
		}
		d := route.signer(e)
		ok := wellFormed(t, e, route, d, b, e.clock.Now())
		w, r := e.serve(d, route.method, target, b, tamper, value)
		code := w.Code
		if code >= 500 {
			t.Fatalf("%s %s: %d %s", route.method, target, code, w.Body)
		}
		if code/100 != 2 {
			var we wire.Error
			if wire.Decode(w.Body.Bytes(), &we) != nil || we.Error == "" || w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("%s %s: %d with a body that is no JSON error: %q", route.method, target, code, w.Body)
			}
		}
		switch code {
		case 200, 201, 202, 400, 401, 403, 404, 409, 413:
		default:
			t.Fatalf("%s %s: status %d %s", route.method, target, code, w.Body)
		}
		same := sameAuth(tamper, value, r.Header)
		if !same && code/100 == 2 {
			t.Fatalf("%s %s: %d with header %s changed to %q", route.method, target, code, tamper, value)
		}
		// A request whose authentication no longer holds is refused as
		// unauthenticated; a self-signed one may first be refused for a
		// body that names no valid device.
		if !same && code != http.StatusUnauthorized && !(route.selfSigned && code == http.StatusBadRequest) {
			t.Fatalf("%s %s: %d with header %s changed to %q, want 401", route.method, target, code, tamper, value)
		}
		if code/100 == 2 && !ok {
			t.Fatalf("%s %s: %d for a body the protocol refuses: %q", route.method, target, code, b)
		}
		if route.method == "GET" && same && code/100 != 2 {
			// A member's GET is refused only for a since that is no
			// sequence number.
			n, err := strconv.ParseInt(since, 10, 64)
			if route.path == "/v1/members" || route.path == "/v1/key" || (err == nil && n >= 0) || code != http.StatusBadRequest {
				t.Fatalf("GET %s by %s: %d %s", target, d.Name, code, w.Body)
			}
		}
	})
}

// TestFuzzSeeds checks that the seeds reach where they are meant to: the
// handlers behind authentication, with both answers.
func TestFuzzSeeds(t *testing.T) {
	e := fixedTeam(t, fuzzOptions)
	want := []int{201, 404, 200, 400, 200, 200, 401, 401, 401, 201, 200, 409, 403,
		200, 400, 200, 200, 409, 403}
	for i, s := range requestSeeds(e) {
		route := fuzzRoutes[s.route]
		target := route.path
		if route.method == "GET" {
			target += "?since=" + url.QueryEscape(s.since)
		}
		w, _ := e.serve(route.signer(e), route.method, target, s.body, fuzzHeaders[s.header], s.value)
		if w.Code != want[i] {
			t.Errorf("request seed %d (%s %s): %d %s, want %d", i, route.method, target, w.Code, w.Body, want[i])
		}
	}
	e = fixedTeam(t, fuzzOptions)
	for i, s := range pushSeeds(e) {
		w, _ := e.serve(e.writer, "POST", "/v1/push", s, "", "")
		if _, ok := wellFormedPush(e.team, e.writer, s); (w.Code == http.StatusOK) != ok || (i < 5) != ok {
			t.Errorf("push seed %d: %d %s (well-formed: %v)", i, w.Code, w.Body, ok)
		}
	}
}
