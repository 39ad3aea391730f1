package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
	"github.com/hush-secrets/hush/vault"
)

// The lying server of the malicious-server suite (malicious_*_test.go): the
// real server (sync/server on a SQLite sync/store) behind a proxy on
// 127.0.0.1 that forwards every request and can answer in the server's
// place, or rewrite its answer, per endpoint. What no hook touches stays
// real. The proxy also records every request the clients send, so a test
// can look at what a client told the server.

// mExchange is one request through the proxy and its answer.
type mExchange struct {
	Method, Path, Query string
	Header              http.Header
	Device              string // the Hush-Device header: who asked
	Body                []byte // what the client sent
	Status              int
	Resp                []byte // what the client got
}

func (x *mExchange) endpoint() string { return x.Method + " " + x.Path }

// A before hook may answer in the server's place (it sets Status and Resp
// and returns true); an after hook may rewrite a 2xx answer.
type (
	mBefore func(x *mExchange) bool
	mAfter  func(x *mExchange)
)

type mProxy struct {
	t      testing.TB
	url    string // what clients talk to
	target string // the real server
	store  store.Store
	hc     *http.Client

	mu     sync.Mutex
	before map[string]mBefore
	after  map[string]mAfter
	log    []*mExchange
}

func newMProxy(t testing.TB) *mProxy { return newMProxyOpts(t, server.Options{}) }

// newMProxyOpts is newMProxy with the server's options o (its rate limit
// always out of the way).
func newMProxyOpts(t testing.TB, o server.Options) *mProxy {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	o.Rate, o.Burst = 1e6, 1e6
	srv := server.New(st, o)
	real := httptest.NewServer(srv)
	tr := &http.Transport{}
	p := &mProxy{t: t, target: real.URL, store: st, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		before: map[string]mBefore{}, after: map[string]mAfter{}}
	front := httptest.NewServer(p)
	p.url = front.URL
	t.Cleanup(func() {
		front.Close()
		tr.CloseIdleConnections()
		real.Close()
		srv.Close()
		st.Close()
	})
	return p
}

func (p *mProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	x := &mExchange{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(),
		Device: r.Header.Get(wire.HeaderDevice), Body: body}
	p.mu.Lock()
	before, after := p.before[x.endpoint()], p.after[x.endpoint()]
	p.mu.Unlock()
	if before == nil || !before(x) {
		x.Status, x.Resp, err = p.forward(r.Context(), r.Method, r.URL.RequestURI(), r.Header, body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		if after != nil && x.Status/100 == 2 {
			after(x)
		}
	}
	p.mu.Lock()
	p.log = append(p.log, x)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(x.Status)
	w.Write(x.Resp)
}

// forward sends a request to the real server as it is (a replay, too).
func (p *mProxy) forward(ctx context.Context, method, uri string, h http.Header, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, p.target+uri, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header = h.Clone()
	resp, err := p.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// onBefore and onAfter set (or with nil, clear) the hook of an endpoint,
// "GET /v1/changes".
func (p *mProxy) onBefore(endpoint string, h mBefore) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.before, endpoint)
	} else {
		p.before[endpoint] = h
	}
}

func (p *mProxy) onAfter(endpoint string, h mAfter) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if h == nil {
		delete(p.after, endpoint)
	} else {
		p.after[endpoint] = h
	}
}

// honest removes every hook.
func (p *mProxy) honest() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.before)
	clear(p.after)
}

// mark is a position in the exchange log; since returns what came after.
func (p *mProxy) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

func (p *mProxy) since(mark int) []*mExchange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log[mark:])
}

// sent lists the exchanges to one endpoint after mark, by device ("" for
// any).
func (p *mProxy) sent(mark int, endpoint, device string) []*mExchange {
	var out []*mExchange
	for _, x := range p.since(mark) {
		if x.endpoint() == endpoint && (device == "" || x.Device == device) {
			out = append(out, x)
		}
	}
	return out
}

// lastResp is the newest 2xx answer one device got from an endpoint.
func (p *mProxy) lastResp(endpoint, device string) []byte {
	xs := p.sent(0, endpoint, device)
	for i := len(xs) - 1; i >= 0; i-- {
		if xs[i].Status/100 == 2 {
			return xs[i].Resp
		}
	}
	p.t.Fatalf("no answer to %s for device %s yet", endpoint, device)
	return nil
}

// wrappedKeys is every team key a client sent the server, wrapped to a
// device: in approvals and in new epochs.
func (p *mProxy) wrappedKeys() []wire.WrappedKey {
	var out []wire.WrappedKey
	for _, x := range p.since(0) {
		switch x.endpoint() {
		case "POST /v1/joins/approve":
			var a wire.Approve
			if json.Unmarshal(x.Body, &a) == nil {
				out = append(out, a.Key)
			}
		case "POST /v1/log":
			var a wire.AppendLog
			if json.Unmarshal(x.Body, &a) == nil {
				out = append(out, a.Keys...)
			}
		}
	}
	return out
}

// records is every record a client pushed or was sent, by id, version and
// epoch: the material a lying server has to work with.
func (p *mProxy) records() map[string]wire.Record {
	out := map[string]wire.Record{}
	add := func(r wire.Record) { out[recKey(r.ID, r.Version, r.Epoch)] = r }
	for _, x := range p.since(0) {
		switch x.endpoint() {
		case "POST /v1/push":
			var req wire.Push
			if json.Unmarshal(x.Body, &req) == nil {
				for _, r := range req.Records {
					add(r)
				}
			}
		case "GET /v1/changes":
			var ch wire.Changes
			if json.Unmarshal(x.Resp, &ch) == nil {
				for _, r := range ch.Records {
					add(r)
				}
			}
		case "POST /v2/push":
			var req wire.ChainPush
			if json.Unmarshal(x.Body, &req) == nil {
				for _, r := range req.Records {
					add(r)
				}
			}
		case "GET /v2/chain":
			var pg wire.ChainPage
			if json.Unmarshal(x.Resp, &pg) == nil {
				for _, r := range pg.Records {
					add(r)
				}
			}
		}
	}
	return out
}

func recKey(id string, version, epoch int64) string {
	return fmt.Sprintf("%s/v%d/e%d", id, version, epoch)
}

// record is one captured record; the test fails if the proxy never saw it.
func (p *mProxy) record(t testing.TB, id string, version, epoch int64) wire.Record {
	t.Helper()
	r, ok := p.records()[recKey(id, version, epoch)]
	if !ok {
		t.Fatalf("the proxy never saw record %s", recKey(id, version, epoch))
	}
	return r
}

// fullLog is the team's real membership log, as the server stores it.
func (p *mProxy) fullLog(t testing.TB, team string) []wire.LogEntry {
	t.Helper()
	raw, _, err := p.store.Log(context.Background(), team, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]wire.LogEntry, len(raw))
	for i, b := range raw {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// rewrite decodes an answer as T, lets f change it, and encodes it again.
// Hooks run on the proxy's goroutines: failures are Errorf, not Fatal.
func rewrite[T any](t testing.TB, x *mExchange, f func(*T)) {
	var v T
	if err := json.Unmarshal(x.Resp, &v); err != nil {
		t.Errorf("proxy: %s answer does not decode: %v", x.endpoint(), err)
		return
	}
	f(&v)
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("proxy: %v", err)
		return
	}
	x.Resp = b
}

// answer makes the proxy answer in the server's place.
func answer(x *mExchange, status int, v any) bool {
	x.Status = status
	x.Resp, _ = json.Marshal(v)
	return true
}

// ---- the team the attacks run against ----

var mKDF = crypto.KDFParams{MemoryKiB: 19 * 1024, Passes: 2, Lanes: 1}

// mDev is one device of the team: its vault and its team state.
type mDev struct {
	name string
	v    *vault.Vault
	st   *State
	// v1: the device syncs as a hush before the change chain did.
	v1 bool
	// unmarked: the device pushes without push marks, as a hush before
	// them did.
	unmarked bool
	// unlinked: the device pushes without scope links, as a hush before
	// them did.
	unlinked bool
}

func (d *mDev) id() string { return d.st.Device.ID }

// team runs f on d's team as one command would (Open, f, Close). The
// vault first holds d.st (a test may have changed it, as a lying past
// would have), and d.st is then what the Team holds.
func (d *mDev) team(f func(t *Team) error) error {
	if d.st != nil {
		if err := d.st.save(d.v); err != nil {
			return err
		}
	}
	t, err := Open(mctx, d.v)
	if err != nil {
		return err
	}
	defer t.Close()
	t.legacy, t.unmarked, t.unlinked = d.v1, d.unmarked, d.unlinked
	err = f(t)
	d.st = t.st
	return err
}

func (d *mDev) Sync(ctx context.Context) (rep *Report, err error) {
	err = d.team(func(t *Team) error { rep, err = t.Sync(ctx); return err })
	return rep, err
}

func (d *mDev) Approve(ctx context.Context) (as []Approval, err error) {
	err = d.team(func(t *Team) error { as, err = t.Approve(ctx); return err })
	return as, err
}

func (d *mDev) Invite(ctx context.Context, role string, ttl time.Duration) (inv *Invite, err error) {
	err = d.team(func(t *Team) error { inv, err = t.Invite(ctx, role, "", ttl); return err })
	return inv, err
}

func (d *mDev) Members(ctx context.Context) (ms []Member, err error) {
	err = d.team(func(t *Team) error { ms, err = t.Members(ctx); return err })
	return ms, err
}

func (d *mDev) SetRole(ctx context.Context, name, role string) error {
	return d.team(func(t *Team) error { _, err := t.SetRole(ctx, name, role); return err })
}

func (d *mDev) Remove(ctx context.Context, name string) (rm *Removal, err error) {
	err = d.team(func(t *Team) error { rm, err = t.Remove(ctx, name); return err })
	return rm, err
}

func (d *mDev) Rotate(ctx context.Context) (epoch int64, err error) {
	err = d.team(func(t *Team) error { epoch, err = t.Rotate(ctx); return err })
	return epoch, err
}

func (d *mDev) Verify(ctx context.Context) (fp *Fingerprint, err error) {
	err = d.team(func(t *Team) error { fp, err = t.Verify(ctx); return err })
	return fp, err
}

func (d *mDev) Resolve(ctx context.Context, name string, keep Keep) error {
	return d.team(func(t *Team) error { return t.Resolve(ctx, name, keep) })
}

func (d *mDev) Audit(ctx context.Context, since time.Time) (evs []AuditEvent, err error) {
	err = d.team(func(t *Team) error { evs, err = t.Audit(ctx, since); return err })
	return evs, err
}

// snapshot and restore copy the team state, to run one attack after
// another from the same starting point.
func (d *mDev) snapshot(t testing.TB) []byte {
	b, err := json.Marshal(d.st)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d *mDev) restore(t testing.TB, b []byte) {
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	d.st = &st
	if err := st.save(d.v); err != nil {
		t.Fatal(err)
	}
}

type mTeam struct {
	p     *mProxy
	admin *mDev
	bob   *mDev // a writer
	// v1: a team whose changes are not a chain, whose devices sync with
	// v1 (GET /v1/changes, POST /v1/push), as before the change chain:
	// the tests of the v1 path, which a team keeps until an admin's sync
	// starts its chain.
	v1 bool
}

func mVault(t testing.TB) *vault.Vault {
	v, err := vault.Create(filepath.Join(t.TempDir(), "v.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: mKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// newMTeam: an admin with two secrets creates a team through the proxy,
// invites bob as a writer, bob joins, the admin approves with a sync, bob
// syncs: both hold the team key and both secrets.
func newMTeam(t testing.TB) *mTeam { return newMTeamOf(t, false) }

// newMTeamV1 is newMTeam for a v1 team (mTeam.v1).
func newMTeamV1(t testing.TB) *mTeam { return newMTeamOf(t, true) }

func newMTeamOf(t testing.TB, v1 bool) *mTeam { return newMTeamOpts(t, v1, server.Options{}) }

// newMTeamOpts is newMTeamOf on a server with options o; admin, when
// set, changes the admin's device before its first sync.
func newMTeamOpts(t testing.TB, v1 bool, o server.Options, admin ...func(*mDev)) *mTeam {
	t.Helper()
	ctx := context.Background()
	tm := &mTeam{p: newMProxyOpts(t, o), v1: v1}
	tm.admin = &mDev{name: "admin", v: mVault(t), v1: v1}
	mSet(t, tm.admin.v, "app/alpha", "alpha-1")
	mSet(t, tm.admin.v, "app/beta", "beta-1")
	var err error
	tm.admin.st, err = Create(ctx, tm.admin.v, CreateOptions{Server: tm.p.url, Name: "acme-team", Device: "admin-laptop", Member: "admin", legacy: v1})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range admin {
		f(tm.admin)
	}
	tm.bob = tm.add(t, "bob", wire.RoleWriter)
	return tm
}

// invite makes an invite and a device that joined with it, not approved.
func (tm *mTeam) invite(t testing.TB, name, role string) *mDev {
	t.Helper()
	ctx := context.Background()
	inv, err := tm.admin.Invite(ctx, role, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	d := &mDev{name: name, v: mVault(t), v1: tm.v1}
	if d.st, err = Join(ctx, d.v, inv, JoinOptions{Device: name + "-laptop", Member: name}); err != nil {
		t.Fatal(err)
	}
	return d
}

// add invites, joins, approves (the admin's sync) and syncs the new device.
func (tm *mTeam) add(t testing.TB, name, role string) *mDev {
	t.Helper()
	d := tm.invite(t, name, role)
	rep := tm.sync(t, tm.admin)
	if len(rep.Approvals) != 1 || rep.Approvals[0].Refused != "" {
		t.Fatalf("approving %s: %+v", name, rep.Approvals)
	}
	if rep := tm.sync(t, d); !rep.GotKey {
		t.Fatalf("%s got no key: %+v", name, rep)
	}
	return d
}

// sync is an honest sync that must work.
func (tm *mTeam) sync(t testing.TB, d *mDev) *Report {
	t.Helper()
	rep, err := d.Sync(context.Background())
	if err != nil {
		t.Fatalf("%s's sync: %v", d.name, err)
	}
	return rep
}

func mSet(t testing.TB, v *vault.Vault, name, value string) {
	t.Helper()
	if _, err := v.Set(name, []byte(value), vault.Update{}); err != nil {
		t.Fatal(err)
	}
}

func mGet(t testing.TB, v *vault.Vault, name string) string {
	t.Helper()
	s, err := v.Get(name)
	if err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return string(s.Value)
}

// mSecrets is a vault's content: name → value, note and tags.
func mSecrets(t testing.TB, v *vault.Vault) map[string]string {
	t.Helper()
	es, err := v.List("")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		s, err := v.Get(e.Name)
		if err != nil {
			t.Fatal(err)
		}
		exposed := ""
		if s.Exposed != nil {
			exposed = " exposed"
		}
		out[e.Name] = fmt.Sprintf("%s | note=%q tags=%q%s", s.Value, s.Note, s.Tags, exposed)
	}
	return out
}

func mSame(t testing.TB, what string, got, want map[string]string) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s changed:\n got  %v\n want %v", what, got, want)
	}
}

// mWantErr checks an error's text; target, when not nil, is also checked
// with errors.As.
func mWantErr(t testing.TB, err error, text string, target any) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want an error containing %q", text)
	}
	if !strings.Contains(err.Error(), text) {
		t.Fatalf("error %q; want it to contain %q", err, text)
	}
	if target != nil && !errors.As(err, target) {
		t.Fatalf("error %q is a %T, want %T", err, err, target)
	}
}

// ---- the attacker ----

// mEvil is the server's own identity: a signing key and an age identity
// it would like a team key wrapped to.
type mEvil struct {
	dev  wire.Device
	sign []byte // ed25519 seed
	box  *age.X25519Identity
}

func newMEvil(t testing.TB) *mEvil {
	st, err := newIdentity("evil-box", "mallory-server")
	if err != nil {
		t.Fatal(err)
	}
	box, err := age.ParseX25519Identity(st.BoxIdentity)
	if err != nil {
		t.Fatal(err)
	}
	return &mEvil{dev: st.Device, sign: st.SignSeed, box: box}
}

// noKeyFor: no team key any client sent through the proxy opens with the
// attacker's age identity, and every one is addressed to a device the
// team's real membership log added.
func (tm *mTeam) noKeyFor(t testing.TB, evil *mEvil) {
	t.Helper()
	ok := map[string]bool{}
	for _, e := range tm.p.fullLog(t, tm.admin.st.Team) {
		if e.Device != nil {
			ok[e.Device.ID] = true
		}
	}
	for _, wk := range tm.p.wrappedKeys() {
		if !ok[wk.Device] {
			t.Errorf("a client wrapped a team key for device %s, which is not in the team", wk.Device)
		}
		if _, err := age.Decrypt(bytes.NewReader(wk.Sealed), evil.box); err == nil {
			t.Errorf("a client wrapped a team key (epoch %d, for %s) that the attacker can open", wk.Epoch, wk.Device)
		}
	}
}

// devicesOf lists the device ids of a verified membership, sorted.
func devicesOf(m *wire.Membership) []string {
	var out []string
	for id := range m.Devices {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
