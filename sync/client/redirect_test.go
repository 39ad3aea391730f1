package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store"
	"github.com/hush-secrets/hush/vault"
)

// A redirect is not followed: every request goes only to the address the
// team was set up with, so a server (or whoever answers at its address)
// cannot send a device's signed requests, and over http its ids and
// ciphertexts in clear, elsewhere (outside attack attack25 #8: a 307 to a
// plain-http, non-loopback address was followed, the signed POST re-sent).
func TestRedirectsAreNotFollowed(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(st, server.Options{Rate: 1e6, Burst: 1e6})
	var reached atomic.Int64
	real := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { real.Close(); srv.Close(); st.Close() })
	target, _ := url.Parse(real.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var redirect atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if redirect.Load() {
			http.Redirect(w, r, real.URL+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	newVault := func(name string) *vault.Vault {
		v, err := vault.Create(filepath.Join(t.TempDir(), name+".db"), []byte("correct horse battery"),
			vault.CreateOptions{KDF: crypto.FloorKDF})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		return v
	}
	wantRedirectRefused := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "answered with a redirect to "+real.URL) || !strings.Contains(err.Error(), "does not follow redirects") {
			t.Fatalf("%s through a redirecting server: %v, want the redirect refused", what, err)
		}
	}

	// Creating a team: the signed POST is not re-sent to the redirect's target.
	redirect.Store(true)
	before := reached.Load()
	_, err = Create(ctx, newVault("first"), CreateOptions{Server: front.URL, Name: "acme", Device: "d1", Member: "m1"})
	wantRedirectRefused("team create", err)
	if n := reached.Load() - before; n != 0 {
		t.Fatalf("the redirect's target got %d requests", n)
	}

	// A team made through the front, which later redirects: a sync stops.
	redirect.Store(false)
	v := newVault("second")
	if _, err := Create(ctx, v, CreateOptions{Server: front.URL, Name: "acme", Device: "d2", Member: "m2"}); err != nil {
		t.Fatal(err)
	}
	redirect.Store(true)
	before = reached.Load()
	tm, err := Open(ctx, v)
	if err == nil {
		_, err = tm.Sync(ctx)
	}
	wantRedirectRefused("sync", err)
	if n := reached.Load() - before; n != 0 {
		t.Fatalf("the redirect's target got %d requests", n)
	}

	// A watch stops for good and says why, instead of retrying the
	// server as unreachable.
	if tm == nil {
		t.Fatal("the team did not open")
	}
	w, err := tm.Watcher()
	if err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	var unreachable int
	err = w.Run(wctx, func(e WatchEvent) {
		if e.Kind == WatchUnreachable {
			unreachable++
		}
	})
	if !errors.Is(err, ErrWatchRefused) || unreachable != 0 {
		t.Fatalf("a watch through a redirect: %v after %d retries, want it refused at once", err, unreachable)
	}
	wantRedirectRefused("watch", err)
	if n := reached.Load() - before; n != 0 {
		t.Fatalf("the redirect's target got %d requests", n)
	}
}

// What a server chooses to say (an error's message, a redirect's
// address) is printed without the control characters a terminal would
// act on: a hostile server cannot write escape sequences into the
// person's terminal through hush's errors.
func TestServerTextIsPrintable(t *testing.T) {
	hostile := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":"refused\u001b]0;pwned\u0007\u001b[2J\u009b31m done"}`))
	}))
	t.Cleanup(hostile.Close)
	v, err := vault.Create(filepath.Join(t.TempDir(), "v.db"), []byte("correct horse battery"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	_, err = Create(context.Background(), v, CreateOptions{Server: hostile.URL, Name: "acme", Device: "d", Member: "m"})
	if err == nil || !strings.Contains(err.Error(), "refused?]0;pwned??[2J?31m done") {
		t.Fatalf("a server's message with control characters: %q", err)
	}
	if strings.ContainsFunc(err.Error(), func(r rune) bool { return r == 0x1b || r == 0x07 || r == 0x9b }) {
		t.Fatalf("control characters reached the message: %q", err)
	}
	if got := printable("http://x/\x1b[31m\xff"); got != "http://x/?[31m?" {
		t.Fatalf("printable = %q", got)
	}
}
