package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hush-secrets/hush/sync/addrfile"
	"github.com/hush-secrets/hush/sync/store"
)

// Errors of a [Config] that cannot be served.
var (
	ErrListen    = errors.New("the listen address is not HOST:PORT")
	ErrPlainHTTP = errors.New("refusing plain HTTP on an address that is not loopback")
)

// Config is a team server process: where it listens, its TLS key pair,
// its store, its log.
type Config struct {
	Listen   string // HOST:PORT
	DB       string // a SQLite path or a postgres:// URL (see store.Open)
	CertFile string // TLS certificate chain (PEM); "" with KeyFile "" for plain HTTP
	KeyFile  string
	// Insecure allows plain HTTP on an address other than loopback, for a
	// server behind a TLS-terminating proxy.
	Insecure bool
	// AddrFile, when set, receives the server's URL once it listens.
	AddrFile string
	Log      *slog.Logger
	Rate     float64 // requests per second per device; the burst is twice that
	MaxConns int     // connections open at once, more wait (0: DefaultMaxConns)
}

// Serve runs a server until ctx ends, then finishes the requests in flight
// (for up to 30 s). It refuses plain HTTP off loopback unless Insecure,
// and then logs a warning.
func Serve(ctx context.Context, c Config) error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrListen, c.Listen)
	}
	ip := net.ParseIP(host)
	loopback := host == "localhost" || (ip != nil && ip.IsLoopback())
	if c.CertFile == "" && !loopback {
		if !c.Insecure {
			return fmt.Errorf("%w (%s)", ErrPlainHTTP, c.Listen)
		}
		c.Log.Warn("INSECURE: serving plain HTTP on a non-loopback address; requests are signed, but anyone on the path sees who syncs when")
	}
	openCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	st, err := store.Open(openCtx, c.DB)
	cancel()
	if err != nil {
		return err
	}
	defer st.Close()
	srv := New(st, Options{Logger: c.Log, Rate: c.Rate, Burst: int(2 * c.Rate)})
	defer srv.Close()
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	if c.MaxConns <= 0 {
		c.MaxConns = DefaultMaxConns
	}
	ln = LimitListener(ln, c.MaxConns)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10,
		ErrorLog: slog.NewLogLogger(c.Log.Handler(), slog.LevelWarn)}
	scheme := "http"
	if c.CertFile != "" {
		kp, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("TLS certificate: %w", err)
		}
		hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{kp}}
		ln = tls.NewListener(ln, hs.TLSConfig)
		scheme = "https"
	}
	addr := ln.Addr().String()
	if c.AddrFile != "" {
		if err := addrfile.Write(c.AddrFile, scheme+"://"+addr); err != nil {
			ln.Close()
			return err
		}
	}
	c.Log.Info("hush server listening", "url", scheme+"://"+addr, "db", store.Describe(c.DB))
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	c.Log.Info("shutting down: finishing requests in flight")
	srv.EndWatches() // a watch stream never finishes by itself
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	c.Log.Info("stopped")
	return nil
}
