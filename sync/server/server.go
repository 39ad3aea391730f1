// Package server is hush's team server: an HTTP handler that authenticates
// every request by the device's Ed25519 signature, enforces roles, stores
// sealed records compare-and-set, brokers joins and wrapped keys, and keeps
// an audit log. It never holds a team key and never sees a name or value.
package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/internal/par"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/sync/wire"
)

// Options tune a Server; zero values take the defaults.
type Options struct {
	Logger *slog.Logger
	Now    func() time.Time
	// Rate and Burst bound requests per device (and, for unauthenticated
	// requests, per client address) in one server process.
	Rate  float64
	Burst int
	// BodyBudget bounds the bytes of request bodies the server holds at
	// once, over all requests (default 64 MiB): a request waits up to
	// BodyWait (default 10 s) for room, then is turned away (503). With
	// the small cap on strangers' bodies, this is what keeps a flood of
	// large bodies from taking the server's memory.
	BodyBudget int64
	BodyWait   time.Duration
	// Heartbeat is how often an idle watch stream carries a heartbeat
	// (default wire.WatchHeartbeat).
	Heartbeat time.Duration
	// WatchesPerDevice bounds the watch streams one device holds open at
	// once (default 8): each holds a connection, and one member must not
	// be able to take them all.
	WatchesPerDevice int
	// PullEntries is the entries of a GET /v2/chain page before it runs
	// on to the end of a push (default wire.MaxPullEntries; tests make
	// it small to see pages end at pushes).
	PullEntries int
}

func (s *Server) pullEntries() int {
	if s.opts.PullEntries > 0 {
		return min(s.opts.PullEntries, wire.MaxPullEntries)
	}
	return wire.MaxPullEntries
}

// One client address may hold at most a quarter of the body budget (and
// at least one largest body): one host cannot starve the others.
func (o *Options) addrShare() int64 { return max(o.BodyBudget/4, wire.MaxBody) }

// Server serves the sync protocol from a Store.
type Server struct {
	st       store.Store
	log      *slog.Logger
	now      func() time.Time
	opts     Options
	mux      *http.ServeMux
	metrics  *metrics
	audit    *auditor
	hub      *hub
	verified memberships // each team's verified membership (members.go)

	bodies *semaphore.Weighted
	held   map[string]int64 // body bytes held per client address, under mu

	// full is set when a write failed for lack of space and cleared by
	// the next write that succeeds: /healthz says "degraded" meanwhile.
	full atomic.Bool

	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	seen     map[string]time.Time
	expiry   map[string]time.Time // machine devices' expiry, under mu (machines.go)
}

// New returns a Server on st. Call Close to flush the audit log.
func New(st store.Store, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rate == 0 {
		o.Rate = 100
	}
	if o.Burst == 0 {
		o.Burst = 200
	}
	if o.BodyBudget == 0 {
		o.BodyBudget = DefaultBodyBudget
	}
	o.BodyBudget = max(o.BodyBudget, wire.MaxBody) // the largest request fits
	if o.BodyWait == 0 {
		o.BodyWait = 10 * time.Second
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.WatchesPerDevice == 0 {
		o.WatchesPerDevice = 8
	}
	s := &Server{st: st, log: o.Logger, now: o.Now, opts: o, mux: http.NewServeMux(), bodies: semaphore.NewWeighted(o.BodyBudget), held: map[string]int64{},
		metrics: newMetrics(), hub: newHub(), limiters: map[string]*rate.Limiter{}, seen: map[string]time.Time{}, expiry: map[string]time.Time{}}
	s.audit = newAuditor(st, o.Logger)
	s.route("GET /healthz", s.healthz)
	s.route("GET /metrics", s.metrics.serve)
	s.route("POST /v1/teams", s.selfSigned(s.createTeam))
	s.route("POST /v1/join", s.selfSigned(s.join))
	s.route("GET /v1/changes", s.authed(anyRole, s.changes))
	s.route("POST /v1/push", s.authed(writers, s.push))
	s.route("GET /v1/members", s.authed(anyRole, s.members))
	s.route("GET /v1/key", s.authed(pendingToo, s.key))
	s.route("GET /v1/keys", s.authed(anyRole, s.keys))
	s.route("POST /v1/invites", s.authed(admins, s.invite))
	s.route("GET /v1/joins", s.authed(admins, s.joins))
	s.route("POST /v1/joins/approve", s.authed(admins, s.approve))
	s.route("POST /v1/joins/refuse", s.authed(admins, s.refuse))
	s.route("GET /v1/log", s.authed(pendingToo, s.getLog))
	s.route("POST /v1/log", s.authed(admins, s.appendLog))
	s.route("GET /v1/audit", s.authed(admins, s.auditLog))
	s.route("GET /v1/watch", s.authed(anyRole, s.watch))
	s.route("GET /v2/chain", s.authed(anyRole, s.chain))
	s.route("POST /v2/push", s.authed(writers, s.chainPush))
	return s
}

func (s *Server) route(pattern string, h http.HandlerFunc) {
	if strings.HasPrefix(pattern, "POST ") {
		// Every write endpoint is a POST: one that succeeds shows the
		// store takes writes again.
		inner := h
		h = func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
			inner(sw, r)
			if sw.code/100 == 2 {
				s.full.Store(false)
			}
		}
	}
	s.mux.Handle(pattern, s.metrics.wrap(pattern, h))
}

// ServeHTTP serves one request. Unknown paths get 404 like any other
// refusal: a JSON error.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern == "" {
		fail(w, http.StatusNotFound, "no such endpoint")
		return
	}
	h.ServeHTTP(w, r)
}

// Close ends the watch streams and flushes the audit log.
func (s *Server) Close() { s.hub.close(); s.audit.close() }

// EndWatches ends every watch stream (their devices reconnect): a server
// shutting down calls it first, since a stream never finishes by itself.
func (s *Server) EndWatches() { s.hub.close() }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.st.Device(ctx, "00000000000000000000000000000000"); err != nil && !errors.Is(err, store.ErrNotFound) {
		fail(w, http.StatusServiceUnavailable, "storage unavailable")
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	if s.full.Load() {
		// Reads still work: a plain probe gets 200, so an orchestrator does
		// not take away what still works (or restart a server whose disk
		// a restart does not free); ?strict=1 gets 503 for a monitor that
		// looks only at the status.
		if r.URL.Query().Get("strict") != "" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		io.WriteString(w, "degraded: the disk is full: writes fail (HTTP 507) until space is freed\n")
		return
	}
	io.WriteString(w, "ok\n")
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(wire.Error{Error: msg})
}

// reply answers v as JSON, in one write with its length: a pull's
// answer of tens of records, encoded straight into the connection's
// buffer, went out in chunks, a write each.
func reply(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(w, http.StatusInternalServerError, "internal error")
		return
	}
	replyJSON(w, code, b)
}

// replyJSON answers with b, a JSON value, as reply does.
func replyJSON(w http.ResponseWriter, code int, b []byte) {
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}

// internal answers a storage failure without its details (logged instead).
// A write refused for lack of space is said as such (507), and /healthz
// reports it until a write succeeds again.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	if store.IsFull(err) {
		s.full.Store(true)
		fail(w, http.StatusInsufficientStorage, DiskFull)
		return
	}
	fail(w, http.StatusInternalServerError, "internal error")
}

// refusal is how an endpoint answers one sentinel error of the store.
type refusal struct {
	err  error
	code int
	msg  string
}

// The refusals more than one endpoint gives.
var (
	logMoved   = refusal{store.ErrConflict, http.StatusConflict, "the membership log has moved on: sync and try again"}
	notWaiting = refusal{store.ErrState, http.StatusConflict, "that device is not waiting for approval"}
)

// refused answers a write's store error: a sentinel the endpoint expects
// with its own status and message, any other error as internal. It
// returns false, having answered nothing, when err is nil.
func (s *Server) refused(w http.ResponseWriter, r *http.Request, err error, expected ...refusal) bool {
	if err == nil {
		return false
	}
	for _, x := range expected {
		if errors.Is(err, x.err) {
			fail(w, x.code, x.msg)
			return true
		}
	}
	s.internal(w, r, err)
	return true
}

// DiskFull is the error a write gets when the server's storage is full.
const DiskFull = "the team server's disk is full"

func (s *Server) limiter(key string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[key]
	if !ok {
		if len(s.limiters) > 100000 {
			clear(s.limiters) // bounded memory; a reset only forgives
		}
		l = rate.NewLimiter(rate.Limit(s.opts.Rate), s.opts.Burst)
		s.limiters[key] = l
	}
	return l
}

// DefaultBodyBudget is Options.BodyBudget's default.
const DefaultBodyBudget = 64 << 20

// readBody reads a body of at most limit bytes, within the server's body
// budget: a declared length over the limit is refused before a byte is
// read, and the body is read into one buffer of its declared size. The
// caller calls release once done with the body.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) (body []byte, release func(), ok bool) {
	tooLarge := func() {
		fail(w, http.StatusRequestEntityTooLarge, "request body over "+strconv.FormatInt(limit, 10)+" bytes")
	}
	if r.ContentLength > limit {
		tooLarge()
		return nil, nil, false
	}
	if r.ContentLength == 0 {
		// No body (most GETs): nothing to hold, so no budget to take (it
		// was a lock and a timer on every pull).
		return nil, func() {}, true
	}
	n := limit
	if r.ContentLength >= 0 {
		n = r.ContentLength
	}
	busy := func() { fail(w, http.StatusServiceUnavailable, "the server is busy: try again in a moment") }
	addr := clientAddr(r)
	s.mu.Lock()
	over := s.held[addr]+n > s.opts.addrShare()
	if !over {
		s.held[addr] += n
	}
	s.mu.Unlock()
	if over {
		busy()
		return nil, nil, false
	}
	unhold := func() {
		s.mu.Lock()
		if s.held[addr] -= n; s.held[addr] <= 0 {
			delete(s.held, addr)
		}
		s.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opts.BodyWait)
	err := s.bodies.Acquire(ctx, n)
	cancel()
	if err != nil {
		unhold()
		busy()
		return nil, nil, false
	}
	release = func() { s.bodies.Release(n); unhold() }
	if r.ContentLength >= 0 {
		body = make([]byte, n)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	}
	if err != nil {
		release()
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			tooLarge()
		} else {
			fail(w, http.StatusBadRequest, "unreadable request body")
		}
		return nil, nil, false
	}
	return body, release, true
}

// signedRequest is a request's authentication headers, parsed.
type signedRequest struct {
	device, nonce string
	unix          int64
	sig           []byte
}

const unauthenticated = "unauthenticated"

func parseAuth(r *http.Request) (*signedRequest, string) {
	sr := &signedRequest{device: r.Header.Get(wire.HeaderDevice), nonce: r.Header.Get(wire.HeaderNonce)}
	if !wire.ValidID(sr.device) || !wire.NonceValid(sr.nonce) {
		return nil, unauthenticated
	}
	var err error
	if sr.unix, err = strconv.ParseInt(r.Header.Get(wire.HeaderTime), 10, 64); err != nil {
		return nil, unauthenticated
	}
	if sr.sig, err = base64.StdEncoding.DecodeString(r.Header.Get(wire.HeaderSignature)); err != nil || len(sr.sig) != ed25519.SignatureSize {
		return nil, unauthenticated
	}
	return sr, ""
}

// verify checks the signature, the time window and the nonce, in that
// order: an unsigned request never costs a nonce write. With a limit key,
// a bad signature counts against the client's address (stranger) and a
// good one against the limit key's budget.
func (s *Server) verify(w http.ResponseWriter, r *http.Request, sr *signedRequest, key ed25519.PublicKey, body []byte, limit string) bool {
	now := s.now()
	if !crypto.VerifyEd25519(key, wire.RequestSigned(r.Method, r.URL.RequestURI(), body, sr.unix, sr.nonce, sr.device), sr.sig) {
		if limit != "" {
			s.stranger(w, r)
		} else {
			fail(w, http.StatusUnauthorized, unauthenticated)
		}
		return false
	}
	if limit != "" && !s.limiter(limit).Allow() {
		fail(w, http.StatusTooManyRequests, "too many requests")
		return false
	}
	t := time.Unix(sr.unix, 0)
	if t.Before(now.Add(-wire.ClockSkew)) || t.After(now.Add(wire.ClockSkew)) {
		fail(w, http.StatusUnauthorized, "request time is outside the allowed window: check this device's clock")
		return false
	}
	if err := s.st.UseNonce(r.Context(), sr.device, sr.nonce, now, now.Add(-2*wire.ClockSkew)); err != nil {
		if errors.Is(err, store.ErrReplay) {
			fail(w, http.StatusUnauthorized, "replayed request")
		} else {
			s.internal(w, r, err)
		}
		return false
	}
	return true
}

// stranger refuses a request that does not authenticate as a device. It
// counts against the client's address, not against the device the
// request names: whoever knows a device id must not be able to spend that
// device's budget and lock it out.
func (s *Server) stranger(w http.ResponseWriter, r *http.Request) {
	if !s.limiter("addr:" + clientAddr(r)).Allow() {
		fail(w, http.StatusTooManyRequests, "too many requests")
		return
	}
	fail(w, http.StatusUnauthorized, unauthenticated)
}

func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// selfSigned wraps the two endpoints a device calls before the server knows
// it (creating a team, joining): the request is signed by the key in its
// own body, which proves the sender holds it.
func (s *Server) selfSigned(h func(w http.ResponseWriter, r *http.Request, d *wire.Device, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.limiter("addr:" + clientAddr(r)).Allow() {
			fail(w, http.StatusTooManyRequests, "too many requests")
			return
		}
		body, release, ok := s.readBody(w, r, wire.MaxSelfSignedBody)
		if !ok {
			return
		}
		defer release()
		sr, msg := parseAuth(r)
		if sr == nil {
			fail(w, http.StatusUnauthorized, msg)
			return
		}
		var probe struct {
			Device wire.Device `json:"device"`
		}
		if err := json.Unmarshal(body, &probe); err != nil {
			fail(w, http.StatusBadRequest, "malformed request")
			return
		}
		if err := probe.Device.Check(); err != nil {
			fail(w, http.StatusBadRequest, err.Error())
			return
		}
		if probe.Device.ID != sr.device {
			fail(w, http.StatusUnauthorized, unauthenticated)
			return
		}
		if !s.verify(w, r, sr, probe.Device.SignKey, body, "") {
			return
		}
		h(w, r, &probe.Device, body)
	}
}

// Role requirements of authenticated endpoints.
type need int

const (
	anyRole    need = iota // any active device
	pendingToo             // pending devices too (to fetch their key)
	writers
	admins
)

func (s *Server) authed(n need, h func(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		// Headers and the device first: a stranger's body is never read,
		// so it cannot make the server buffer megabytes.
		sr, _ := parseAuth(r)
		if sr == nil {
			s.stranger(w, r)
			return
		}
		dev, err := s.st.Device(r.Context(), sr.device)
		if errors.Is(err, store.ErrNotFound) {
			s.stranger(w, r)
			return
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
		// A removed device is a stranger: the same answer as a bad signature.
		if dev.State == store.Removed {
			s.stranger(w, r)
			return
		}
		limit := int64(wire.MaxBody)
		if r.Method == http.MethodGet {
			limit = wire.MaxQueryBody
		}
		body, release, ok := s.readBody(w, r, limit)
		if !ok {
			return
		}
		defer release()
		// The device's own budget is spent only once its signature checks
		// out (see stranger).
		if !s.verify(w, r, sr, dev.SignKey, body, "dev:"+dev.ID) {
			return
		}
		if s.expired(w, r, dev) {
			return
		}
		s.touch(r.Context(), dev.ID)
		switch {
		case dev.State == store.Pending && n != pendingToo:
			fail(w, http.StatusForbidden, "this device is waiting for an admin to approve it")
			return
		case n == writers && !wire.CanWrite(dev.Role):
			// A reader on the root may hold a writer grant on a scope:
			// checkScopes then takes only its records of such scopes.
			writes, ok := s.writesAScope(w, r, dev)
			if !ok {
				return
			}
			if !writes {
				s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "push", Result: "denied: " + dev.Role})
				fail(w, http.StatusForbidden, "a "+dev.Role+" cannot change secrets")
				return
			}
		case n == admins && dev.Role != wire.RoleAdmin:
			fail(w, http.StatusForbidden, "only an admin can do this")
			return
		}
		h(w, r, dev, body)
	}
}

// touch records last-seen at most once a minute per device and process.
func (s *Server) touch(ctx context.Context, device string) {
	now := s.now()
	s.mu.Lock()
	last := s.seen[device]
	if now.Sub(last) < time.Minute {
		s.mu.Unlock()
		return
	}
	if len(s.seen) > 100000 {
		clear(s.seen)
	}
	s.seen[device] = now
	s.mu.Unlock()
	if err := s.st.Seen(ctx, device, now); err != nil {
		s.log.Warn("last-seen not recorded", "device", device, "err", err)
	}
}

func (s *Server) createTeam(w http.ResponseWriter, r *http.Request, d *wire.Device, body []byte) {
	req, ok := decode[wire.CreateTeam](w, body)
	if !ok {
		return
	}
	if !wire.ValidID(req.Team) || len(req.Name) == 0 || len(req.Name) > 64 {
		fail(w, http.StatusBadRequest, "team id must be 32 hex digits and its name 1-64 characters")
		return
	}
	// The log's first entry must create exactly this team and device.
	m := wire.NewMembership(req.Team)
	if err := m.Apply(&req.Log); err != nil || req.Log.Kind != wire.LogCreate || req.Log.Name != req.Name ||
		!sameDevice(req.Log.Device, d) {
		fail(w, http.StatusBadRequest, "the membership log must start with this team's creation, signed by this device")
		return
	}
	genesis, _ := json.Marshal(&req.Log)
	create := s.st.CreateTeam
	if req.Chain {
		create = s.st.CreateChainedTeam
	}
	err := create(r.Context(), req.Team, req.Name, *d, genesis, s.now())
	if s.refused(w, r, err, refusal{store.ErrExists, http.StatusConflict, "team or device id already in use"}) {
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: req.Team, Device: d.ID, Action: "create", Result: "ok"})
	s.log.Info("team created", "team", req.Team, "device", d.ID)
	reply(w, http.StatusCreated, struct{}{})
}

func (s *Server) join(w http.ResponseWriter, r *http.Request, d *wire.Device, body []byte) {
	req, ok := decode[wire.Join](w, body)
	if !ok {
		return
	}
	if !wire.ValidID(req.Team) || !wire.ValidID(req.Invite) || len(req.Binding) != 32 {
		fail(w, http.StatusBadRequest, "join needs a team id, an invite id and a 32-byte binding")
		return
	}
	err := s.st.Join(r.Context(), req.Team, req.Invite, *d, req.Binding, s.now())
	if s.refused(w, r, err,
		refusal{store.ErrNotFound, http.StatusNotFound, "invite not found, already used or expired"},
		refusal{store.ErrExists, http.StatusConflict, "device id already in use"}) {
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: req.Team, Device: d.ID, Action: "join", Result: "pending"})
	reply(w, http.StatusAccepted, struct{}{})
}

func (s *Server) changes(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	since, ok := sinceParam(w, r, "a sequence number")
	if !ok {
		return
	}
	c, logSeq, err := s.st.ChangesWithLog(r.Context(), dev.Team, since, wire.MaxPullRecords)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	// Who holds which scope as of the records' snapshot (or later).
	m, ok := s.membershipAt(w, r, dev.Team, logSeq)
	if !ok {
		return
	}
	c.Records = heldRecords(m, dev.ID, c.Records)
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "pull", Records: ids(c.Records), Result: "ok"})
	reply(w, http.StatusOK, c)
}

func ids(rs []wire.Record) []string {
	out := make([]string, len(rs))
	for i := range rs {
		out[i] = rs[i].ID
	}
	return out
}

func (s *Server) push(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.Push](w, body)
	if !ok {
		return
	}
	if len(req.Records) == 0 || len(req.Records) > wire.MaxPushRecords {
		fail(w, http.StatusBadRequest, "a push carries 1 to "+strconv.Itoa(wire.MaxPushRecords)+" records")
		return
	}
	seen := map[string]bool{}
	for i := range req.Records {
		if msg := checkPushed(&req.Records[i], seen); msg != "" {
			fail(w, http.StatusBadRequest, msg)
			return
		}
	}
	// Authorship is the signer's: a device cannot push in another's name.
	if err := par.Do(len(req.Records), func(i int) error {
		rec := &req.Records[i]
		if rec.Author != dev.ID || !crypto.VerifyEd25519(dev.SignKey, wire.RecordSigned(dev.Team, rec), rec.Sig) {
			return errors.New("record " + rec.ID + " is not signed by this device")
		}
		return nil
	}); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	// The records are checked against the log at the position they were
	// written at, when every one names the same: the store takes them
	// only if that is still the log's length when it commits (else they
	// are stale), so that is the membership they are taken under.
	logSeq := req.Records[0].LogSeq
	for i := range req.Records {
		if req.Records[i].LogSeq != logSeq {
			logSeq = -1
		}
	}
	m, ok := s.membershipAt(w, r, dev.Team, logSeq)
	if !ok {
		return
	}
	for i := range req.Records {
		if req.Records[i].Scope != "" {
			fail(w, http.StatusBadRequest, "records of folder scopes go through the change chain (POST /v2/push)")
			return
		}
	}
	if _, ok := checkScopes(w, m, dev, req.Records); !ok {
		return
	}
	results, head, err := s.st.Push(r.Context(), dev.Team, req.Records)
	if errors.Is(err, store.ErrChained) {
		// An old client must not write records outside the chain.
		s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "push", Records: ids(req.Records), Result: "refused: v1"})
		fail(w, http.StatusUpgradeRequired, ErrV1Push)
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	byStatus := map[string][]string{}
	for _, res := range results {
		byStatus[res.Status] = append(byStatus[res.Status], res.ID)
	}
	now := s.now()
	for _, status := range []string{wire.PushOK, wire.PushConflict, wire.PushStale} {
		if ids := byStatus[status]; len(ids) > 0 {
			s.audit.log(store.Event{Time: now, Team: dev.Team, Device: dev.ID, Action: "push", Records: ids, Result: status})
		}
	}
	if len(byStatus[wire.PushOK]) > 0 {
		s.hub.publish(dev.Team, head)
	}
	reply(w, http.StatusOK, wire.PushResponse{Results: results, Head: head})
}

func (s *Server) members(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	ds, err := s.st.Devices(r.Context(), dev.Team)
	out, ok := wireRows(s, w, r, ds, err, func(d store.Device) (wire.Member, error) {
		return wire.Member{Device: d.Device, Role: d.Role, State: d.State, Joined: d.Joined, LastSeen: d.LastSeen}, nil
	})
	if ok {
		reply(w, http.StatusOK, out)
	}
}

func (s *Server) key(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	k, err := s.st.WrappedKey(r.Context(), dev.ID)
	if s.refused(w, r, err, refusal{store.ErrNotFound, http.StatusNotFound, "no key for this device yet: an admin has to approve it (hush sync on an admin's device)"}) {
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "key", Result: "ok"})
	reply(w, http.StatusOK, k)
}

// keys answers a device's newest wrapped key of each scope its member
// holds now, from the verified log: the key of a scope it lost is not
// sent, whatever the store holds.
func (s *Server) keys(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	m, ok := s.membership(w, r, dev.Team)
	if !ok {
		return
	}
	ks, err := s.st.WrappedKeys(r.Context(), dev.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	out := wire.Keys{Keys: []wire.WrappedKey{}}
	for _, k := range ks {
		if m.Holds(dev.ID, k.Scope) {
			out.Keys = append(out.Keys, k)
		}
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "keys", Result: "ok"})
	reply(w, http.StatusOK, out)
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.Invite](w, body)
	if !ok {
		return
	}
	now := s.now()
	if !wire.ValidID(req.ID) || !wire.ValidRole(req.Role) || !req.Expires.After(now) || req.Expires.After(now.Add(31*24*time.Hour)) {
		fail(w, http.StatusBadRequest, "an invite needs an id, a role (admin, writer, reader) and an expiry within 31 days")
		return
	}
	err := s.st.CreateInvite(r.Context(), store.Invite{ID: req.ID, Team: dev.Team, Role: req.Role, Expires: req.Expires, By: dev.ID})
	if s.refused(w, r, err, refusal{store.ErrExists, http.StatusConflict, "invite id already in use"}) {
		return
	}
	s.audit.log(store.Event{Time: now, Team: dev.Team, Device: dev.ID, Action: "invite", Records: []string{req.ID}, Result: req.Role})
	reply(w, http.StatusCreated, struct{}{})
}

func (s *Server) joins(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	ds, err := s.st.PendingJoins(r.Context(), dev.Team)
	out, ok := wireRows(s, w, r, ds, err, func(d store.Device) (wire.PendingJoin, error) {
		return wire.PendingJoin{Join: wire.Join{Team: d.Team, Invite: d.Invite, Device: d.Device, Binding: d.Binding}, Role: d.Role, Created: d.Joined}, nil
	})
	if ok {
		reply(w, http.StatusOK, out)
	}
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.Approve](w, body)
	if !ok {
		return
	}
	k := &req.Key
	if !wire.ValidID(req.Device) || k.Device != req.Device || !wrappedBy(dev, k) {
		fail(w, http.StatusBadRequest, "the wrapped key must be for the device approved and signed by this admin device")
		return
	}
	// The device must have joined with the invite the admin checked, and
	// still be waiting.
	if joiner, err := s.st.Device(r.Context(), req.Device); err != nil || joiner.Team != dev.Team || joiner.Invite != req.Invite || joiner.State != store.Pending {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.internal(w, r, err)
			return
		}
		fail(w, http.StatusConflict, "that device is not waiting for approval with this invite")
		return
	}
	// The log entry must add exactly the pending device, with its invite's
	// role, signed by this admin, as the log's next entry.
	joiner, _ := s.st.Device(r.Context(), req.Device)
	m, ok := s.membershipToChange(w, r, dev.Team)
	if !ok {
		return
	}
	e := &req.Entry
	if e.Signer != dev.ID || (e.Kind != wire.LogAdd && e.Kind != wire.LogMachine) || joiner == nil || !sameDevice(e.Device, &joiner.Device) || e.Role != joiner.Role {
		fail(w, http.StatusBadRequest, "the log entry must add the device approved, with its invitation's role, signed by this admin device")
		return
	}
	if err := m.Apply(e); err != nil {
		s.refuseEntry(w, m, e, err)
		return
	}
	// The key must be of the team's current epoch: the joiner refuses any
	// other, and would stay without a key. With folder scopes, the device
	// gets the key of each scope it holds (the root's first, if it holds
	// the root; then by scope id), at its current epoch, and no other.
	want := m.HeldScopes(req.Device)
	keys := append([]wire.WrappedKey{*k}, req.Keys...)
	if len(keys) != len(want) {
		fail(w, http.StatusBadRequest, "the wrapped keys must be one for each scope the device gets")
		return
	}
	for i := range keys {
		ep, _ := m.ScopeEpoch(want[i])
		if keys[i].Scope != want[i] || keys[i].Epoch != ep || keys[i].Device != req.Device || !wrappedBy(dev, &keys[i]) {
			if want[i] == "" {
				fail(w, http.StatusBadRequest, "the wrapped key must be for the team's current key epoch")
			} else {
				fail(w, http.StatusBadRequest, "the wrapped keys must be one for each scope the device gets, at its current epoch")
			}
			return
		}
	}
	entry, _ := json.Marshal(e)
	err := s.st.Approve(r.Context(), dev.Team, req.Device, *k, &store.Entry{Seq: e.Seq, JSON: entry})
	if s.refused(w, r, err, notWaiting, logMoved) {
		return
	}
	// (Not in the approval's transaction: a failure here leaves the
	// machine without some scope's key, which its sync says.)
	for _, x := range req.Keys {
		if err := s.st.PutWrappedKey(r.Context(), dev.Team, x); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "approve", Records: []string{req.Device}, Result: "ok"})
	s.log.Info("device approved", "team", dev.Team, "device", req.Device, "by", dev.ID)
	reply(w, http.StatusOK, struct{}{})
}

func sameDevice(a, b *wire.Device) bool {
	return a != nil && b != nil && a.ID == b.ID && a.Name == b.Name && a.Member == b.Member &&
		bytes.Equal(a.SignKey, b.SignKey) && a.Box == b.Box
}

func (s *Server) refuseEntry(w http.ResponseWriter, m *wire.Membership, e *wire.LogEntry, err error) {
	if e.Seq != m.Seq+1 {
		fail(w, logMoved.code, logMoved.msg)
		return
	}
	fail(w, http.StatusBadRequest, err.Error())
}

func (s *Server) getLog(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	since, ok := sinceParam(w, r, "a log position")
	if !ok {
		return
	}
	entries, head, err := s.st.Log(r.Context(), dev.Team, since)
	if es, ok := wireRows(s, w, r, entries, err, logEntry); ok {
		reply(w, http.StatusOK, wire.Log{Entries: es, Head: head})
	}
}

// appendLog takes a role change, a removal, a new key epoch with the key
// wrapped to every device that remains, or a grant or ungrant of a scope
// with its key wrapped to the devices that get it.
func (s *Server) appendLog(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.AppendLog](w, body)
	if !ok {
		return
	}
	e := &req.Entry
	if e.Signer != dev.ID || (e.Kind != wire.LogRole && e.Kind != wire.LogRemove && e.Kind != wire.LogEpoch && e.Kind != wire.LogGrant && e.Kind != wire.LogUngrant) {
		fail(w, http.StatusBadRequest, "an appended entry is a role change, a removal, a new epoch, a grant or an ungrant, signed by this admin device")
		return
	}
	if (e.Kind == wire.LogRole || e.Kind == wire.LogRemove) && len(req.Keys) > 0 {
		fail(w, http.StatusBadRequest, "only a new epoch, a grant or an ungrant carries keys")
		return
	}
	m, ok := s.membershipToChange(w, r, dev.Team)
	if !ok {
		return
	}
	before := map[string]bool{}
	held := map[string]bool{} // devices that held the entry's scope before it
	for id, d := range m.Devices {
		before[id] = d.Active
		held[id] = m.Holds(id, e.Scope)
	}
	if err := m.Apply(e); err != nil {
		s.refuseEntry(w, m, e, err)
		return
	}
	c := store.Change{}
	switch e.Kind {
	case wire.LogRole:
		c.Member, c.Role = e.Member, e.Role
	case wire.LogRemove:
		for id, d := range m.Devices {
			if before[id] && !d.Active {
				c.Remove = append(c.Remove, id)
			}
		}
	}
	// The keys an entry carries: a new epoch of a scope (the root's:
	// epoch or ungrant of the root; a scope's: its epoch, its ungrant, the
	// grant that creates it) goes to every device that holds the scope
	// after it; a grant of a scope that existed, to the devices that get
	// it by this grant. Each key is wrapped once to each of them, by this
	// admin, for that scope and epoch, and to nobody else.
	want := map[string]bool{}
	newEpoch := e.Kind == wire.LogEpoch || e.Kind == wire.LogUngrant || (e.Kind == wire.LogGrant && e.Epoch == 1 && e.Scope != "" && m.Scopes[e.Scope].Created == e.Seq)
	epoch := e.Epoch
	if e.Kind == wire.LogGrant && e.Scope == "" {
		epoch = m.Epoch
	}
	if newEpoch || e.Kind == wire.LogGrant {
		for id, d := range m.Devices {
			if d.Active && m.Holds(id, e.Scope) && (newEpoch || !held[id]) {
				want[id] = true
			}
		}
	}
	badKeys := "an entry's key is wrapped once to each device that gets it, for its scope and epoch, signed by this admin device"
	if e.Kind == wire.LogEpoch && e.Scope == "" {
		badKeys = "a new epoch needs its key wrapped once to every device in the team, signed by this admin device"
	}
	for i := range req.Keys {
		k := &req.Keys[i]
		if !want[k.Device] || k.Scope != e.Scope || k.Epoch != epoch || !wrappedBy(dev, k) {
			fail(w, http.StatusBadRequest, badKeys)
			return
		}
		delete(want, k.Device)
	}
	if len(want) > 0 {
		fail(w, http.StatusBadRequest, badKeys)
		return
	}
	c.Keys = req.Keys
	if newEpoch && e.Scope == "" {
		c.Epoch = e.Epoch // the root's: the team's epoch
	}
	entry, _ := json.Marshal(e)
	err := s.st.AppendLog(r.Context(), dev.Team, e.Seq, entry, c)
	if s.refused(w, r, err, logMoved) {
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "log-" + e.Kind, Records: c.Remove, Result: "ok"})
	s.log.Info("membership changed", "team", dev.Team, "kind", e.Kind, "seq", e.Seq, "by", dev.ID)
	s.hub.remove(dev.Team, c.Remove)
	s.notify(r, dev.Team) // the log moved: watchers go and look
	reply(w, http.StatusOK, struct{}{})
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request, dev *store.Device, _ []byte) {
	since, ok := sinceParam(w, r, "unix seconds")
	if !ok {
		return
	}
	// time.Unix wraps around for seconds near the int64 limit: the year
	// 2262 is as late as any event can be.
	since = min(since, math.MaxInt64/int64(time.Second))
	evs, err := s.st.Events(r.Context(), dev.Team, time.Unix(since, 0))
	out, ok := wireRows(s, w, r, evs, err, func(e store.Event) (wire.AuditEvent, error) {
		return wire.AuditEvent{Time: e.Time, Device: e.Device, Action: e.Action, Records: e.Records, Result: e.Result}, nil
	})
	if ok {
		reply(w, http.StatusOK, out)
	}
}

// sinceParam reads a read endpoint's ?since= (a number from 0), or
// answers 400 saying it must be what.
func sinceParam(w http.ResponseWriter, r *http.Request, what string) (int64, bool) {
	since, err := strconv.ParseInt(r.URL.Query().Get("since"), 10, 64)
	if err != nil || since < 0 {
		fail(w, http.StatusBadRequest, "since must be "+what)
		return 0, false
	}
	return since, true
}

// wireRows is the shape every list endpoint shares: the rows fetched from
// the store (or the error fetching them), each turned into its wire form,
// as a list that is never null ([] when empty, as clients expect). On an
// error it has answered the request and returns false.
func wireRows[S, W any](s *Server, w http.ResponseWriter, r *http.Request, rows []S, err error, wireForm func(S) (W, error)) ([]W, bool) {
	if err != nil {
		s.internal(w, r, err)
		return nil, false
	}
	out := make([]W, 0, len(rows))
	for _, row := range rows {
		v, err := wireForm(row)
		if err != nil {
			s.internal(w, r, err)
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// decode reads a request body into a T, or answers 400.
func decode[T any](w http.ResponseWriter, body []byte) (*T, bool) {
	var v T
	if err := wire.Decode(body, &v); err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	return &v, true
}

// wrappedBy checks a wrapped key's shape and that the admin device signed
// it for the team.
func wrappedBy(admin *store.Device, k *wire.WrappedKey) bool {
	return k.Signer == admin.ID && k.Epoch >= 1 && len(k.Sealed) > 0 && len(k.Sealed) <= 4096 &&
		len(k.Sig) == ed25519.SignatureSize && crypto.VerifyEd25519(admin.SignKey, wire.WrappedKeySigned(admin.Team, k), k.Sig)
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, dev *store.Device, body []byte) {
	req, ok := decode[wire.Refuse](w, body)
	if !ok {
		return
	}
	if !wire.ValidID(req.Device) {
		fail(w, http.StatusBadRequest, "device id is not 32 hex digits")
		return
	}
	err := s.st.RefuseJoin(r.Context(), dev.Team, req.Device)
	if s.refused(w, r, err, notWaiting) {
		return
	}
	s.audit.log(store.Event{Time: s.now(), Team: dev.Team, Device: dev.ID, Action: "refuse", Records: []string{req.Device}, Result: "ok"})
	reply(w, http.StatusOK, struct{}{})
}

// checkPushed checks one pushed record's form and that the push names it
// once (seen), and clears the sequence number only the server assigns;
// it returns what to answer, or "".
func checkPushed(rec *wire.Record, seen map[string]bool) string {
	rec.Seq = 0
	if err := rec.Check(); err != nil {
		return err.Error()
	}
	if seen[rec.ID] {
		return "record " + rec.ID + " is in the push twice"
	}
	seen[rec.ID] = true
	return ""
}
