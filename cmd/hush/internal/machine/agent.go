package machine

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/addrfile"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

// AgentOptions configure `hush agent`.
type AgentOptions struct {
	Token    *client.Token
	Auth     []byte // the bearer token every request must carry
	Listen   string // host:port
	Interval time.Duration
	// TLSCert and TLSKey serve HTTPS; without them, only a loopback
	// address is served unless Insecure.
	TLSCert, TLSKey string
	Insecure        bool
	Logger          *slog.Logger
	// Ready, when set, is called with the listening address once the first
	// sync worked and requests are served.
	Ready func(addr string)
	// AddrFile, when set, gets the agent's URL (http:// or https://) at
	// the same time, for scripts.
	AddrFile string
}

// PrepareAgent is `hush agent`'s setup before NewAgent: the machine token
// (HUSH_TOKEN or tokenFile; neither is a usage error), the bearer token
// its clients send (authFile, else HUSH_AGENT_AUTH_TOKEN), the address
// checked, and a warning through warn when secrets would cross the
// network in clear.
func PrepareAgent(getenv func(string) string, tokenFile, authFile string, o AgentOptions, warn func(format string, args ...any)) (*Agent, error) {
	if Source(getenv, tokenFile) == "" {
		return nil, usage.Errorf("the agent needs a machine token: set HUSH_TOKEN or give --token-file (see `hush team invite --machine`)")
	}
	tok, err := Load(getenv, tokenFile)
	if err != nil {
		return nil, err
	}
	auth := []byte(strings.TrimSpace(getenv("HUSH_AGENT_AUTH_TOKEN")))
	if authFile != "" {
		if auth, err = ReadSecretFile(authFile); err != nil {
			return nil, err
		}
	}
	if len(auth) == 0 {
		return nil, usage.Errorf("the agent needs a bearer token for its clients: --auth-token-file FILE or HUSH_AGENT_AUTH_TOKEN")
	}
	if err := CheckListen(o.Listen, o.TLSCert != "", o.Insecure); err != nil {
		return nil, usage.Wrap(err)
	}
	if o.Insecure && o.TLSCert == "" {
		warn("warning: --insecure-listen: secrets and the bearer token cross the network in clear unless something in front encrypts them")
	}
	o.Token, o.Auth = tok, auth
	return NewAgent(o)
}

// ErrNonLoopback: plain HTTP was asked for on an address others reach.
var ErrNonLoopback = errors.New("refusing to serve secrets over plain HTTP on an address other machines can reach")

// CheckListen refuses plain HTTP on a non-loopback address unless the
// operator said so.
func CheckListen(addr string, haveTLS, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %v (want HOST:PORT, like 127.0.0.1:8200)", addr, err)
	}
	if haveTLS || insecure || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%w (%s): give --tls-cert and --tls-key, or --insecure-listen behind something that encrypts", ErrNonLoopback, addr)
}

// Agent keeps a machine's view of its team in memory and serves it.
//
// It holds two views, each a memory vault with its own Team: requests
// read one while a sync brings the other up to date, and a sync that
// worked swaps them. So a sync waiting on a slow or silent server never
// holds up a request: the agent answers from what it verified last.
type Agent struct {
	o AgentOptions

	syncMu sync.Mutex // one sync at a time; owns spare
	spare  *view

	mu      sync.Mutex // serve and the fields below; a vault has one user at a time
	serve   *view      // nil until the first sync worked
	lastOK  time.Time
	lastErr error
	gone    error // removed or expired: nothing is served any more
	syncs   chan struct{}
	// stopWatch ends the watch stream once the machine is gone (an
	// expired machine's stream would be retried for nothing).
	stopWatch context.CancelFunc
}

// NewAgent makes an agent; Run starts it.
func NewAgent(o AgentOptions) (*Agent, error) {
	if len(o.Auth) < 16 {
		return nil, errors.New("the agent's bearer token must be at least 16 characters (make one with `hush generate --bytes 32`)")
	}
	if o.Interval <= 0 {
		o.Interval = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := CheckListen(o.Listen, o.TLSCert != "", o.Insecure); err != nil {
		return nil, err
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return nil, errors.New("give both --tls-cert and --tls-key")
	}
	a := &Agent{o: o, syncs: make(chan struct{}, 1)}
	var err error
	if a.spare, err = newView(o.Token); err != nil {
		return nil, err
	}
	return a, nil
}

// view is one memory vault and the Team that syncs it.
type view struct {
	v *vault.Vault
	t *client.Team
	// held is what the log verified by the view's last sync let this
	// machine read (nil: never synced, so it holds no record).
	held *client.Held
}

func newView(tok *client.Token) (*view, error) {
	v, err := vault.CreateMemory()
	if err != nil {
		return nil, err
	}
	t, err := client.OpenToken(v, tok)
	if err != nil {
		v.Close()
		return nil, err
	}
	return &view{v: v, t: t}, nil
}

func (w *view) close() {
	if w != nil && w.v != nil {
		w.v.Close()
		w.v = nil
	}
}

// Run syncs once (failing if that fails), then listens, re-syncs every
// Interval and whenever the server says the team changed, until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	defer a.close()
	if err := a.sync(ctx); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.o.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(a.o.Logger.Handler(), slog.LevelWarn)}
	if a.o.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.o.TLSCert, a.o.TLSKey)
		if err != nil {
			ln.Close()
			return fmt.Errorf("failed to load the TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	a.o.Logger.Info("hush agent listening", "addr", ln.Addr().String(), "machine", a.o.Token.Name, "tls", a.o.TLSCert != "")
	if a.o.AddrFile != "" {
		scheme := "http://"
		if a.o.TLSCert != "" {
			scheme = "https://"
		}
		if err := addrfile.Write(a.o.AddrFile, scheme+ln.Addr().String()); err != nil {
			a.o.Logger.Warn("could not write --addr-file", "err", err)
		}
	}
	if a.o.Ready != nil {
		a.o.Ready(ln.Addr().String())
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	a.mu.Lock()
	a.stopWatch = stopWatch
	a.mu.Unlock()
	go a.watch(watchCtx)
	tick := time.NewTicker(a.o.Interval)
	defer tick.Stop()
	// A sync at the machine's expiry (the token says when; the sync
	// checks the signed log's date) drops everything then, not at the
	// next interval.
	expiry := time.NewTimer(time.Until(a.o.Token.Expires))
	defer expiry.Stop()
	for {
		select {
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
			return nil
		case err := <-served:
			return err
		case <-tick.C:
		case <-a.syncs:
		case <-expiry.C:
		}
		if err := a.sync(ctx); err != nil && ctx.Err() == nil {
			a.o.Logger.Warn("sync failed", "err", err)
		}
	}
}

// watch turns the server's "the team changed" events into syncs. An
// event is only a reason to look: the sync verifies everything.
func (a *Agent) watch(ctx context.Context) {
	a.syncMu.Lock()
	w, err := a.spare.t.Watcher()
	a.syncMu.Unlock()
	if err != nil {
		return
	}
	poke := func() {
		select {
		case a.syncs <- struct{}{}:
		default: // one is pending already
		}
	}
	err = w.Run(ctx, func(ev client.WatchEvent) {
		if ev.Kind == client.WatchHead {
			poke()
		}
	})
	if err != nil {
		// The server ended the stream for good (this machine removed):
		// a sync finds out why, now rather than at the next interval.
		poke()
	}
}

func (a *Agent) sync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	if a.spare == nil { // gone
		return ErrGone
	}
	// The spare view syncs while requests read the other one.
	rep, err := a.spare.t.Sync(ctx)
	var held *client.Held
	if err == nil {
		held, err = a.spare.t.State().Held()
	}
	if err == nil && a.spare.held != nil && held.Lost(a.spare.held) {
		// A scope was taken from this machine (an ungrant): the records
		// it pulled from it are still in this view. The view goes, and a
		// new one pulls only what the machine holds now.
		var now *client.Held
		if rep, now, err = a.fresh(ctx); err == nil {
			held = now
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil && held != nil && a.serve != nil && a.serve.held != nil && held.Lost(a.serve.held) {
		// The log says a scope was lost but no view without it could be
		// made: the view served keeps answering, for what is still held.
		a.serve.held = held
	}
	if err != nil {
		err = Explain(err, a.o.Token)
		a.lastErr = err
		if errors.Is(err, ErrGone) {
			// The team ended this machine: what it held is dropped at once.
			a.gone = err
			a.serve.close()
			a.spare.close()
			a.serve, a.spare = nil, nil
			if a.stopWatch != nil {
				a.stopWatch()
			}
			a.o.Logger.Error("machine no longer in the team: serving nothing", "err", err)
		}
		return err
	}
	if note := SkippedNote(rep); note != "" {
		a.o.Logger.Warn(note)
	}
	// Each view refuses a server that goes back on what it saw; the one
	// synced now must also not be behind the one it replaces.
	if a.serve != nil {
		now, was := a.spare.t.State(), a.serve.t.State()
		if now.Members.Seq < was.Members.Seq || now.Head < was.Head {
			a.lastErr = &client.RollbackError{What: fmt.Sprintf("it shows membership log entry %d and change %d, but this agent has served %d and %d", now.Members.Seq, now.Head, was.Members.Seq, was.Head)}
			return a.lastErr
		}
	}
	a.lastOK, a.lastErr = time.Now(), nil
	a.spare.held = held
	if a.serve != nil && a.serve.held != nil && held.Lost(a.serve.held) {
		// The view served until now holds values of a scope this machine
		// lost: dropped now rather than at the next sync.
		a.serve.close()
		a.serve = nil
		a.o.Logger.Warn("a scope was taken from this machine: serving only its scopes", "scopes", strings.Join(held.Folders(), ", "))
	}
	if a.serve == nil { // the first sync: the second view starts empty
		if a.serve, err = newView(a.o.Token); err != nil {
			return err
		}
	}
	a.serve, a.spare = a.spare, a.serve
	if rep.LeftScopes > 0 {
		a.o.Logger.Info("secrets moved out of this machine's scopes by a teammate: no longer served", "secrets", rep.LeftScopes)
	}
	a.o.Logger.Info("synced", "pulled", rep.Pulled)
	return nil
}

// fresh replaces the spare view with a new one, synced from the token's
// pins: it holds only the records of the scopes the machine holds now.
func (a *Agent) fresh(ctx context.Context) (*client.Report, *client.Held, error) {
	a.spare.close()
	w, err := newView(a.o.Token)
	if err != nil {
		return nil, nil, err
	}
	a.spare = w
	rep, err := w.t.Sync(ctx)
	if err != nil {
		return nil, nil, err
	}
	held, err := w.t.State().Held()
	return rep, held, err
}

func (a *Agent) close() {
	a.syncMu.Lock()
	defer a.syncMu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.serve.close()
	a.spare.close()
	a.serve, a.spare = nil, nil
}

// Secret is the answer to GET /v1/secrets/NAME: what ESO's webhook
// provider reads with result.jsonPath "$.value". A value that is not
// UTF-8 text comes as value_base64 instead ("$.value_base64", with the
// ExternalSecret's decodingStrategy Base64).
type Secret struct {
	Value       *string `json:"value,omitempty"`
	ValueBase64 []byte  `json:"value_base64,omitempty"`
	Version     int     `json:"version"`
}

// Handler serves GET /v1/secrets/{name...} and GET /healthz.
func (a *Agent) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /v1/secrets/{name...}", a.secret)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		agentError(w, http.StatusNotFound, "not found: the agent serves GET /v1/secrets/NAME and GET /healthz")
	})
	return mux
}

func agentError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (a *Agent) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	return ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), a.o.Auth) == 1
}

func (a *Agent) secret(w http.ResponseWriter, r *http.Request) {
	if !a.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hush agent"`)
		agentError(w, http.StatusUnauthorized, "a valid bearer token is required")
		return
	}
	name := r.PathValue("name")
	if err := vault.ValidName(name); err != nil {
		agentError(w, http.StatusBadRequest, err.Error())
		return
	}
	version := 0
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			agentError(w, http.StatusBadRequest, "version must be a number from 1")
			return
		}
		version = n
	}
	a.mu.Lock()
	if a.gone != nil || a.serve == nil {
		msg := "the agent has not synced yet"
		if a.gone != nil {
			msg = a.gone.Error()
		}
		a.mu.Unlock()
		agentError(w, http.StatusServiceUnavailable, msg)
		return
	}
	// The verified log says which scopes this machine holds now (a grant
	// or an ungrant since the token was made), whatever the token named;
	// a view not synced yet has only the token's folders to go by.
	var refuse error
	if h := a.serve.held; h != nil {
		if !h.Name(name) {
			refuse = h.OutOfScope()
		}
	} else if tok := a.o.Token; tok != nil {
		refuse = client.InScopes(tok.Scopes, name, false)
	}
	if refuse != nil {
		a.mu.Unlock()
		agentError(w, http.StatusNotFound, refuse.Error()) // as any name it does not hold
		return
	}
	s, err := a.serve.v.GetVersion(name, version)
	if errors.Is(err, vault.ErrNotFound) && version > 0 {
		// Say whether the secret is there at another version: ESO's
		// "not found" should not read as a missing secret.
		if cur, cerr := a.serve.v.GetVersion(name, 0); cerr == nil {
			crypto.Wipe(cur.Value)
			a.mu.Unlock()
			agentError(w, http.StatusNotFound, fmt.Sprintf("no version %d of %s here: the agent holds version %d", version, name, cur.Version))
			return
		}
	}
	a.mu.Unlock()
	if errors.Is(err, vault.ErrNotFound) {
		agentError(w, http.StatusNotFound, "no secret "+name)
		return
	}
	if err != nil {
		a.o.Logger.Error("read failed", "name", name, "err", err)
		agentError(w, http.StatusInternalServerError, "the agent could not read the secret")
		return
	}
	defer crypto.Wipe(s.Value)
	if s.IsDynamic() {
		// A dynamic source's value is its PostgreSQL admin URL: never
		// handed to a program, as run --from and export never do; the
		// agent's clients (ESO, then pods) are programs (outside attack
		// attack25 #7).
		agentError(w, http.StatusForbidden, DynamicRefused(name))
		return
	}
	out := Secret{Version: s.Version}
	if utf8.Valid(s.Value) {
		v := string(s.Value)
		out.Value = &v
	} else {
		out.ValueBase64 = s.Value
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(out)
}

// DynamicRefused is the agent's answer for a dynamic source.
func DynamicRefused(name string) string {
	return fmt.Sprintf("%s is a dynamic source: the agent never serves its admin URL (a program gets a login of its own with `hush run --dynamic VAR=%s`)", name, name)
}

// healthz: 200 "ok" while the last sync worked; 200 "degraded" while
// syncs fail but a verified view is served (the team server is down: the
// agent keeps answering); 503 once the machine was removed or expired,
// or while it holds no scope (an admin ungranted every one).
// Anyone may ask it (a probe carries no bearer), so it names neither the
// team server nor the machine, nor what failed: that is in the agent's
// log (stderr), where sync and its failures are written.
func (a *Agent) healthz(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	gone, lastErr, lastOK := a.gone, a.lastErr, a.lastOK
	empty := a.serve != nil && a.serve.held != nil && len(a.serve.held.Folders()) == 0
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case gone != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, Unhealthy)
	case empty:
		// Ungranted from every scope: it serves nothing (attack18 F5).
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, NothingHeld)
	case lastErr != nil:
		fmt.Fprintf(w, "degraded: the last sync failed (see the agent's log); serving what was verified %s ago\n", time.Since(lastOK).Round(time.Second))
	default:
		fmt.Fprintln(w, "ok")
	}
}

// Unhealthy is /healthz's whole answer once the agent serves nothing.
const Unhealthy = "unhealthy: cannot reach or verify the team server"

// NothingHeld is /healthz's answer while the machine holds no scope.
const NothingHeld = "unhealthy: this machine holds no scope of the team"
