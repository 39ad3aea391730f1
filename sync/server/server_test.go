package server_test

// The harness in this file runs a real server (server.New on a SQLite file
// in t.TempDir(), behind httptest.NewServer on 127.0.0.1) and talks to it
// over HTTP with requests signed the way sync/client's conn.do signs them.
// Tests build a team of an admin, a writer and a reader by the protocol
// itself: create, invite, join, approve with a real age-wrapped key.

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"
	_ "github.com/mattn/go-sqlite3" // database/sql driver "sqlite3", to reach the server's file directly

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// clock is the server's clock (server.Options.Now) and the clock the test
// signs requests with, moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// lockedBuffer collects the server's slog output from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// device is a device's public identity with its private keys.
type device struct {
	wire.Device
	key ed25519.PrivateKey
	box *age.X25519Identity
}

func newDevice(t testing.TB, name, member string) *device {
	t.Helper()
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	box, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return &device{Device: wire.Device{ID: wire.NewID(), Name: name, Member: member, SignKey: pub, Box: box.Recipient().String()}, key: key, box: box}
}

// fixedDevice is a device with keys derived from name: the same on every
// run, so that fuzz seeds on disk can hold valid signatures. Its box key
// only looks like an age recipient (the server never uses it).
func fixedDevice(name, member string) *device {
	h := sha256.Sum256([]byte("hush fuzz device " + name))
	key := ed25519.NewKeyFromSeed(h[:])
	return &device{Device: wire.Device{ID: hex.EncodeToString(h[:16]), Name: name, Member: member,
		SignKey: key.Public().(ed25519.PublicKey), Box: "age1" + strings.Repeat("q", 54) + hex.EncodeToString(h[16:18])}, key: key}
}

// env is one running server and, once newTeam made it, its team.
type env struct {
	t     testing.TB
	db    string
	st    store.Store
	srv   *server.Server
	hs    *httptest.Server
	clock *clock
	logs  *lockedBuffer
	opts  server.Options

	team    string
	teamKey []byte // the team key at epoch 1, as the admin's client holds it
	admin   *device
	writer  *device
	reader  *device
	// invite secrets by invite id, as the admin's client keeps them
	secrets map[string][]byte
	roles   map[string]string // the role of each invite

	// The membership log as the team's clients verified it: every entry
	// the server took, and the state they lead to.
	members *wire.Membership
	entries []wire.LogEntry
	keys    map[int64][]byte // the team key of each epoch (1: teamKey)
	// logTime, when set, is every entry's time (fixedTeam: the same
	// signatures on every run); else the clock's.
	logTime time.Time
}

// newEnv starts a server on a fresh SQLite file. Logger and Now in o are
// filled in (a text log into e.logs, and e.clock).
func newEnv(t testing.TB, o server.Options) *env {
	t.Helper()
	e := &env{t: t, db: filepath.Join(t.TempDir(), "server.db"), clock: &clock{t: time.Now().Truncate(time.Second)}, logs: &lockedBuffer{},
		secrets: map[string][]byte{}, roles: map[string]string{}}
	e.start(o)
	t.Cleanup(e.stop)
	return e
}

func (e *env) start(o server.Options) {
	e.t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.Now == nil {
		o.Now = e.clock.Now
	}
	e.opts = o
	st, err := store.Open(context.Background(), e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	e.st = st
	e.srv = server.New(st, o)
	e.hs = httptest.NewServer(e.srv)
}

// stop shuts the server down like `hush server` does: HTTP first, then the
// audit log, then the store. Safe to call twice.
func (e *env) stop() {
	if e.hs == nil {
		return
	}
	e.hs.Close()
	e.srv.Close()
	if err := e.st.Close(); err != nil {
		e.t.Errorf("closing the store: %v", err)
	}
	e.hs, e.srv, e.st = nil, nil, nil
}

// restart stops the server and starts a new one on the same file with o.
func (e *env) restart(o server.Options) {
	e.t.Helper()
	e.stop()
	e.start(o)
}

// newTeam starts a server and builds a team through the protocol: an
// admin (creator), a writer and a reader, both approved.
func newTeam(t testing.TB, o server.Options) *env {
	t.Helper()
	e := newEnv(t, o)
	e.createTeam()
	e.writer = e.member(wire.RoleWriter, "build-box", "wes")
	e.reader = e.member(wire.RoleReader, "phone", "rita")
	return e
}

// fixedTeam is newTeam with the team id, the devices' keys and the team
// key the same on every run (see fixedDevice).
func fixedTeam(t testing.TB, o server.Options) *env {
	t.Helper()
	e := newEnv(t, o)
	e.team = fixedTeamID
	e.logTime = fixedLogTime
	e.admin = fixedDevice("admin-laptop", "ann")
	e.teamKey = bytes.Repeat([]byte{7}, crypto.KeySize)
	e.createTeam()
	e.writer = fixedDevice("build-box", "wes")
	inv := e.invite(wire.RoleWriter)
	e.call(e.writer, "POST", "/v1/join", e.joinBody(inv, e.writer)).want(t, http.StatusAccepted, "")
	e.approve(inv, e.writer)
	e.reader = fixedDevice("phone", "rita")
	inv = e.invite(wire.RoleReader)
	e.call(e.reader, "POST", "/v1/join", e.joinBody(inv, e.reader)).want(t, http.StatusAccepted, "")
	e.approve(inv, e.reader)
	return e
}

const fixedTeamID = "f022e5f022e5f022e5f022e5f022e5f0"

// fixedLogTime is the time of a fixedTeam's log entries.
var fixedLogTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// createTeam creates e.team (made up if empty) with e.admin (made up if
// nil) as its first device, and the membership log's first entry.
func (e *env) createTeam() {
	e.t.Helper()
	e.createTeamChained(false)
}

// createTeamChained is createTeam; with chain, the team's changes are a
// signed chain from the start, as every team client.Create makes.
func (e *env) createTeamChained(chain bool) {
	e.t.Helper()
	if e.team == "" {
		e.team = wire.NewID()
	}
	if e.admin == nil {
		e.admin = newDevice(e.t, "admin-laptop", "ann")
	}
	if e.teamKey == nil {
		k, err := crypto.Random(crypto.KeySize)
		if err != nil {
			e.t.Fatal(err)
		}
		e.teamKey = k
	}
	e.keys = map[int64][]byte{1: e.teamKey}
	e.members, e.entries = wire.NewMembership(e.team), nil
	g := e.genesis(e.admin, "acme")
	e.call(e.admin, "POST", "/v1/teams", wire.CreateTeam{Team: e.team, Name: "acme", Device: e.admin.Device, Log: *g, Chain: chain}).want(e.t, http.StatusCreated, "")
	e.took(g)
}

// entryTime is the time a new log entry carries.
func (e *env) entryTime() time.Time {
	if !e.logTime.IsZero() {
		return e.logTime
	}
	return e.clock.Now().UTC()
}

// genesis is the log's first entry: team e.team named name, created by d
// and signed by it.
func (e *env) genesis(d *device, name string) *wire.LogEntry {
	return genesisEntry(e.team, name, d, e.entryTime())
}

// genesisEntry is the first entry of team's log, created by d at time at.
func genesisEntry(team, name string, d *device, at time.Time) *wire.LogEntry {
	dev := d.Device
	g := &wire.LogEntry{Seq: 1, Time: at, Kind: wire.LogCreate, Team: team, Name: name, Device: &dev, Role: wire.RoleAdmin}
	g.Sign(d.ID, d.key)
	return g
}

// next is the log's next entry of kind, unsigned: as a client makes it,
// from the membership it verified.
func (e *env) next(kind string) *wire.LogEntry {
	return &wire.LogEntry{Seq: e.members.Seq + 1, Prev: bytes.Clone(e.members.Head), Time: e.entryTime(), Kind: kind, Team: e.team}
}

// took applies an entry the server accepted to the verified membership.
func (e *env) took(le *wire.LogEntry) {
	e.t.Helper()
	if err := e.members.Apply(le); err != nil {
		e.t.Fatalf("the server took an entry a client refuses: %v", err)
	}
	e.entries = append(e.entries, *le)
}

// addEntry is the next entry, adding d with role, signed by signer.
func (e *env) addEntry(signer, d *device, role string) *wire.LogEntry {
	le := e.next(wire.LogAdd)
	dev := d.Device
	le.Device, le.Role = &dev, role
	le.Sign(signer.ID, signer.key)
	return le
}

// roleEntry is the next entry, giving member role, signed by signer.
func (e *env) roleEntry(signer *device, member, role string) *wire.LogEntry {
	le := e.next(wire.LogRole)
	le.Member, le.Role = member, role
	le.Sign(signer.ID, signer.key)
	return le
}

// removeEntry is the next entry, removing device d, signed by signer.
func (e *env) removeEntry(signer, d *device) *wire.LogEntry {
	le := e.next(wire.LogRemove)
	le.Target = d.ID
	le.Sign(signer.ID, signer.key)
	return le
}

// epochEntry is the next entry, starting the next key epoch, signed by
// signer, with a fresh key wrapped by signer to every active device.
func (e *env) epochEntry(signer *device) (*wire.LogEntry, []wire.WrappedKey, []byte) {
	e.t.Helper()
	key, err := crypto.Random(crypto.KeySize)
	if err != nil {
		e.t.Fatal(err)
	}
	le := e.next(wire.LogEpoch)
	le.Epoch = e.members.Epoch + 1
	le.Sign(signer.ID, signer.key)
	var keys []wire.WrappedKey
	for _, d := range e.members.Devices {
		if d.Active {
			keys = append(keys, e.wrapKey(signer, &d.Device, le.Epoch, key))
		}
	}
	return le, keys, key
}

// appendLog sends an entry as d (POST /v1/log); what the server takes is
// applied to the verified membership.
func (e *env) appendLog(d *device, le *wire.LogEntry, keys []wire.WrappedKey) response {
	e.t.Helper()
	r := e.call(d, "POST", "/v1/log", wire.AppendLog{Entry: *le, Keys: keys})
	if r.code == http.StatusOK {
		e.took(le)
	}
	return r
}

// setRole, remove and rotate make the change as admin and expect it taken.
func (e *env) setRole(admin *device, member, role string) {
	e.t.Helper()
	e.appendLog(admin, e.roleEntry(admin, member, role), nil).want(e.t, http.StatusOK, "")
}

func (e *env) remove(admin, d *device) {
	e.t.Helper()
	e.appendLog(admin, e.removeEntry(admin, d), nil).want(e.t, http.StatusOK, "")
}

func (e *env) rotate(admin *device) {
	e.t.Helper()
	le, keys, key := e.epochEntry(admin)
	e.appendLog(admin, le, keys).want(e.t, http.StatusOK, "")
	e.keys[le.Epoch] = key
}

// invite makes an invite for role as the admin and returns its id.
func (e *env) invite(role string) string {
	e.t.Helper()
	id := wire.NewID()
	secret, _ := crypto.Random(32)
	e.secrets[id] = secret
	if e.roles == nil {
		e.roles = map[string]string{}
	}
	e.roles[id] = role
	e.call(e.admin, "POST", "/v1/invites", wire.Invite{ID: id, Role: role, Expires: e.clock.Now().Add(time.Hour).UTC()}).want(e.t, http.StatusCreated, "")
	return id
}

// joinBody is a join of d with invite inv, bound to the invite's secret.
func (e *env) joinBody(inv string, d *device) wire.Join {
	m := hmac.New(sha256.New, e.secrets[inv])
	m.Write(wire.JoinBinding(e.team, inv, &d.Device))
	return wire.Join{Team: e.team, Invite: inv, Device: d.Device, Binding: m.Sum(nil)}
}

// join registers a new pending device with invite inv.
func (e *env) join(inv, name, member string) *device {
	e.t.Helper()
	d := newDevice(e.t, name, member)
	e.call(d, "POST", "/v1/join", e.joinBody(inv, d)).want(e.t, http.StatusAccepted, "")
	return d
}

// wrappedKey wraps the team key of the current epoch to d with age and
// signs it as signer.
func (e *env) wrappedKey(signer, d *device) wire.WrappedKey {
	e.t.Helper()
	return e.wrapKey(signer, &d.Device, e.members.Epoch, e.keys[e.members.Epoch])
}

// wrapKey wraps key (of epoch) to d as the client does. A fixedDevice has
// no real age recipient: its key is opaque bytes.
func (e *env) wrapKey(signer *device, d *wire.Device, epoch int64, key []byte) wire.WrappedKey {
	e.t.Helper()
	var buf bytes.Buffer
	if rcp, err := age.ParseX25519Recipient(d.Box); err != nil {
		fmt.Fprintf(&buf, "opaque wrapped key for %s at epoch %d", d.ID, epoch)
	} else {
		grant, _ := json.Marshal(wire.KeyGrant{Team: e.team, Device: d.ID, Epoch: epoch, Key: key})
		w, err := age.Encrypt(&buf, rcp)
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(grant)
		if err := w.Close(); err != nil {
			e.t.Fatal(err)
		}
	}
	k := wire.WrappedKey{Device: d.ID, Epoch: epoch, Sealed: buf.Bytes(), Signer: signer.ID}
	k.Sig = ed25519.Sign(signer.key, wire.WrappedKeySigned(e.team, &k))
	return k
}

// approval is what an admin's client sends to approve d, which joined
// with invite inv: the key wrapped to it and the entry that adds it with
// the invite's role, both signed by admin.
func (e *env) approval(admin *device, inv string, d *device) wire.Approve {
	e.t.Helper()
	return wire.Approve{Invite: inv, Device: d.ID, Key: e.wrappedKey(admin, d), Entry: *e.addEntry(admin, d, e.roles[inv])}
}

func (e *env) approve(inv string, d *device) {
	e.t.Helper()
	a := e.approval(e.admin, inv, d)
	e.call(e.admin, "POST", "/v1/joins/approve", a).want(e.t, http.StatusOK, "")
	e.took(&a.Entry)
}

// member invites, joins and approves a device with role.
func (e *env) member(role, name, member string) *device {
	e.t.Helper()
	inv := e.invite(role)
	d := e.join(inv, name, member)
	e.approve(inv, d)
	return d
}

// seal seals plaintext as the client does for record id at version, under
// the key of epoch.
func (e *env) seal(id string, version, epoch int64, plaintext []byte) []byte {
	e.t.Helper()
	k, err := crypto.KeyFromBytes(e.keys[epoch])
	if err != nil {
		e.t.Fatal(err)
	}
	sealed, err := crypto.Seal(k.Subkey([]byte(e.team), "hush/v1/team-records"), plaintext, wire.RecordAD(e.team, id, version, epoch))
	if err != nil {
		e.t.Fatal(err)
	}
	return sealed
}

// record is a record of d's at version, sealed and signed at the team's
// current key epoch and log position.
func (e *env) record(d *device, id string, version int64) wire.Record {
	return e.recordAt(d, id, version, e.members.Epoch, e.members.Seq)
}

// recordAt is a record of d's written at key epoch and log position seq.
func (e *env) recordAt(d *device, id string, version, epoch, seq int64) wire.Record {
	r := wire.Record{ID: id, Version: version, Epoch: epoch, LogSeq: seq, Sealed: e.seal(id, version, epoch, []byte("payload of "+id)), Author: d.ID}
	r.Sig = ed25519.Sign(d.key, wire.RecordSigned(e.team, &r))
	return r
}

// resign signs r again as d (after a test changed it).
func (e *env) resign(d *device, r *wire.Record) {
	r.Sig = ed25519.Sign(d.key, wire.RecordSigned(e.team, r))
}

// signRequest sets the four authentication headers: device dev signs with
// key over (method, uri, body, unix, nonce).
func signRequest(h http.Header, key ed25519.PrivateKey, dev, method, uri string, body []byte, unix int64, nonce string) {
	sig := ed25519.Sign(key, wire.RequestSigned(method, uri, body, unix, nonce, dev))
	h.Set(wire.HeaderDevice, dev)
	h.Set(wire.HeaderTime, strconv.FormatInt(unix, 10))
	h.Set(wire.HeaderNonce, nonce)
	h.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
}

// request builds an unsigned request to the server.
func (e *env) request(method, path string, body []byte) *http.Request {
	e.t.Helper()
	r, err := http.NewRequest(method, e.hs.URL+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/json")
	return r
}

// signed builds a request signed by d like the client does, at the
// clock's time with a fresh nonce.
func (e *env) signed(d *device, method, path string, body []byte) *http.Request {
	e.t.Helper()
	r := e.request(method, path, body)
	signRequest(r.Header, d.key, d.ID, method, r.URL.RequestURI(), body, e.clock.Now().Unix(), wire.NewID())
	return r
}

// response is a server's answer.
type response struct {
	code int
	body []byte
	hdr  http.Header
	desc string // method and path, for messages
}

// send sends r and reads the whole answer. A request body can be sent
// once: build a new request (or copy the headers) to send it again.
func (e *env) send(r *http.Request) response {
	e.t.Helper()
	resp, err := e.hs.Client().Do(r)
	if err != nil {
		e.t.Fatalf("%s %s: %v", r.Method, r.URL.RequestURI(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{code: resp.StatusCode, body: b, hdr: resp.Header, desc: r.Method + " " + r.URL.RequestURI()}
}

// body encodes v as a request body: nil is none, []byte and string are
// sent as they are, anything else as JSON.
func body(t testing.TB, v any) []byte {
	switch x := v.(type) {
	case nil:
		return nil
	case []byte:
		return x
	case string:
		return []byte(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// call sends a correctly signed request with body v as d.
func (e *env) call(d *device, method, path string, v any) response {
	e.t.Helper()
	return e.send(e.signed(d, method, path, body(e.t, v)))
}

// want checks the status and, for a refusal, that the body is a JSON
// wire.Error whose message starts with msg.
func (r response) want(t testing.TB, code int, msg string) response {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: status %d, want %d; body %s", r.desc, r.code, code, r.body)
	}
	if code/100 != 2 {
		if ct := r.hdr.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: refusal with Content-Type %q, want application/json", r.desc, ct)
		}
		var we wire.Error
		if err := wire.Decode(r.body, &we); err != nil || we.Error == "" {
			t.Fatalf("%s: refusal body %q is not a JSON error (%v)", r.desc, r.body, err)
		}
		if !strings.HasPrefix(we.Error, msg) {
			t.Fatalf("%s: error %q, want one starting with %q", r.desc, we.Error, msg)
		}
	}
	return r
}

// decode reads a 2xx answer into v.
func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("%s: answer %q: %v", r.desc, r.body, err)
	}
}

// push pushes records as d and returns the answer (200 expected).
func (e *env) push(d *device, rs ...wire.Record) wire.PushResponse {
	e.t.Helper()
	var pr wire.PushResponse
	e.call(d, "POST", "/v1/push", wire.Push{Records: rs}).want(e.t, http.StatusOK, "").decode(e.t, &pr)
	return pr
}

// changes pulls everything as d.
func (e *env) changes(d *device) wire.Changes {
	e.t.Helper()
	var c wire.Changes
	e.call(d, "GET", "/v1/changes?since=0", nil).want(e.t, http.StatusOK, "").decode(e.t, &c)
	return c
}

// dump is the server's stored state: every table a request could change,
// read straight from the SQLite file, except the request nonces, the audit
// log and the devices' last-seen times (which any signed request may move).
func (e *env) dump() string {
	e.t.Helper()
	db, err := sql.Open("sqlite3", "file:"+e.db+"?mode=ro&_busy_timeout=10000")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var out strings.Builder
	for _, q := range []string{
		`SELECT id, name, seq, epoch, log_seq FROM teams ORDER BY id`,
		`SELECT team, seq, hex(entry) FROM log ORDER BY team, seq`,
		`SELECT id, team, name, member, hex(sign_key), box, role, state, invite, hex(binding), joined FROM devices ORDER BY id`,
		`SELECT id, team, role, expires, by_device, used FROM invites ORDER BY id`,
		`SELECT team, id, version, epoch, hex(sealed), author, hex(sig), seq, log_seq FROM records ORDER BY team, id`,
		`SELECT team, device, epoch, hex(sealed), signer, hex(sig) FROM wrapped_keys ORDER BY device, epoch`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			e.t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		fmt.Fprintln(&out, q)
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				e.t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(&out, "%v|", v)
			}
			out.WriteString("\n")
		}
		if err := rows.Err(); err != nil {
			e.t.Fatal(err)
		}
		rows.Close()
	}
	return out.String()
}

// snapshot is what "nothing changed" compares: the stored state, and the
// team as a legit device sees it over HTTP (head, records, members, the
// membership log).
type snapshot struct {
	dump    string
	changes string
	members string
	log     string
}

func (e *env) snapshot() snapshot {
	e.t.Helper()
	s := snapshot{dump: e.dump()}
	if e.admin != nil {
		c := e.changes(e.admin)
		b, _ := json.Marshal(c)
		s.changes = string(b)
		var ms []wire.Member
		e.call(e.admin, "GET", "/v1/members", nil).want(e.t, http.StatusOK, "").decode(e.t, &ms)
		for i := range ms {
			ms[i].LastSeen = time.Time{}
		}
		b, _ = json.Marshal(ms)
		s.members = string(b)
		s.log = string(e.call(e.admin, "GET", "/v1/log?since=0", nil).want(e.t, http.StatusOK, "").body)
	}
	return s
}

// unchanged fails the test if the state differs from before.
func (e *env) unchanged(before snapshot, what string) {
	e.t.Helper()
	after := e.snapshot()
	if after.dump != before.dump {
		e.t.Errorf("%s changed the stored state:\nbefore:\n%s\nafter:\n%s", what, before.dump, after.dump)
	}
	if after.changes != before.changes {
		e.t.Errorf("%s changed GET /v1/changes:\nbefore: %s\nafter:  %s", what, before.changes, after.changes)
	}
	if after.members != before.members {
		e.t.Errorf("%s changed GET /v1/members:\nbefore: %s\nafter:  %s", what, before.members, after.members)
	}
	if after.log != before.log {
		e.t.Errorf("%s changed GET /v1/log:\nbefore: %s\nafter:  %s", what, before.log, after.log)
	}
}

// events waits (up to 30 s: the audit log is written in batches) until the
// team's audit log has an event for which ok holds, and returns the log.
func (e *env) events(ok func(store.Event) bool) []store.Event {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		evs, err := e.st.Events(context.Background(), e.team, time.Time{})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, ev := range evs {
			if ok(ev) {
				return evs
			}
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("no such audit event; the log: %+v", evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTeamSetup(t *testing.T) {
	e := newTeam(t, server.Options{})
	var ms []wire.Member
	e.call(e.reader, "GET", "/v1/members", nil).want(t, http.StatusOK, "").decode(t, &ms)
	got := map[string]string{}
	for _, m := range ms {
		got[m.ID] = m.Role + "/" + m.State
	}
	want := map[string]string{e.admin.ID: "admin/active", e.writer.ID: "writer/active", e.reader.ID: "reader/active"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("members %v, want %v", got, want)
	}
	// The reader's wrapped key opens with its own age identity, to the grant
	// the admin wrapped.
	var k wire.WrappedKey
	e.call(e.reader, "GET", "/v1/key", nil).want(t, http.StatusOK, "").decode(t, &k)
	r, err := age.Decrypt(bytes.NewReader(k.Sealed), e.reader.box)
	if err != nil {
		t.Fatal(err)
	}
	var g wire.KeyGrant
	if err := json.NewDecoder(r).Decode(&g); err != nil || g.Device != e.reader.ID || !bytes.Equal(g.Key, e.teamKey) {
		t.Fatalf("grant %+v, %v", g, err)
	}
}

func TestHealthzMetricsAndUnknownPaths(t *testing.T) {
	e := newTeam(t, server.Options{})

	r := e.send(e.request("GET", "/healthz", nil))
	if r.code != http.StatusOK || string(r.body) != "ok\n" {
		t.Fatalf("/healthz: %d %q", r.code, r.body)
	}

	for _, c := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/v2/changes"},
		{"POST", "/v1/pushes"},
		{"GET", "/v1/push"},        // wrong method
		{"DELETE", "/v1/members"},  // wrong method
		{"GET", "/metrics/extra"},  // no prefix matches
		{"POST", "/v1/teams/../x"}, // not a route, cleaned or not
	} {
		req := e.request(c.method, c.path, nil)
		e.send(req).want(t, http.StatusNotFound, "no such endpoint")
	}
	// A signed request to an unknown path is no different.
	e.call(e.admin, "POST", "/v1/remove", "{}").want(t, http.StatusNotFound, "no such endpoint")

	// Some statuses on the push route: 200, 401 (twice), 400, 403.
	e.push(e.writer, e.record(e.writer, wire.NewID(), 1))
	e.send(e.request("POST", "/v1/push", []byte("{}"))).want(t, http.StatusUnauthorized, "unauthenticated")
	e.send(e.request("POST", "/v1/push", nil)).want(t, http.StatusUnauthorized, "unauthenticated")
	e.call(e.writer, "POST", "/v1/push", "{").want(t, http.StatusBadRequest, "malformed request")
	e.call(e.reader, "POST", "/v1/push", wire.Push{Records: []wire.Record{e.record(e.reader, wire.NewID(), 1)}}).want(t, http.StatusForbidden, "a reader cannot")

	m := e.send(e.request("GET", "/metrics", nil))
	if m.code != http.StatusOK {
		t.Fatalf("/metrics: %d", m.code)
	}
	text := string(m.body)
	for _, line := range []string{
		"# TYPE hush_requests_total counter",
		`hush_requests_total{route="POST /v1/push",code="200"} 1`,
		`hush_requests_total{route="POST /v1/push",code="401"} 2`,
		`hush_requests_total{route="POST /v1/push",code="400"} 1`,
		`hush_requests_total{route="POST /v1/push",code="403"} 1`,
		`hush_requests_total{route="POST /v1/teams",code="201"} 1`,
		`hush_requests_total{route="POST /v1/join",code="202"} 2`,
		`hush_requests_total{route="GET /healthz",code="200"} 1`,
		`hush_request_duration_seconds_count{route="POST /v1/push"} 5`,
		"hush_uptime_seconds ",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %q:\n%s", line, text)
		}
	}
}

// TestRequestAfterClose: `hush server` closes the Server (the audit log)
// after http.Server.Shutdown, which gives up on slow requests after a
// while; a request still running then must not panic on the closed log.
func TestRequestAfterClose(t *testing.T) {
	e := newTeam(t, server.Options{})
	e.srv.Close()
	rec := e.record(e.writer, wire.NewID(), 1)
	e.call(e.writer, "POST", "/v1/push", wire.Push{Records: []wire.Record{rec}}).want(t, http.StatusOK, "")
	// The event is in the audit log all the same.
	e.events(func(ev store.Event) bool {
		return ev.Action == "push" && ev.Device == e.writer.ID && len(ev.Records) == 1 && ev.Records[0] == rec.ID
	})
	// Closing again (env.stop does) is no panic either.
}
