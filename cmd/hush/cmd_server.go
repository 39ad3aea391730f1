package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/server"
)

func (a *app) serverCommand() *cobra.Command {
	var (
		listen, db, cert, key, logFormat, addrFile string
		insecure                                   bool
		rps                                        float64
		maxConns                                   int
		memLimit                                   int64
	)
	cmd := &cobra.Command{
		Use:   "server [--listen ADDR] [--db PATH|postgres://...] [--tls-cert FILE --tls-key FILE]",
		Short: "run a team server: it stores only ciphertext",
		Long: `Run hush's team server. It keeps sealed records, public keys, wrapped keys,
roles and an audit log: never a passphrase, a team key, a name or a value.

  --db PATH            a SQLite file (default $HUSH_HOME/server/server.db):
                       zero setup, one server process
  --db postgres://...  PostgreSQL: any number of server processes on one
                       database, behind a load balancer

Plain HTTP is allowed only on a loopback address; elsewhere give
--tls-cert and --tls-key (or --insecure, behind a TLS-terminating proxy).
SIGTERM or Ctrl-C stops it after the requests in flight. /healthz and
/metrics (Prometheus) need no signature. See docs/sync.md.`,
		Example: `  hush server --listen 127.0.0.1:8443
  hush server --listen :8443 --tls-cert cert.pem --tls-key key.pem --db postgres://hush@db/hush`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var h slog.Handler = slog.NewTextHandler(a.stderr, nil)
			if logFormat == "json" {
				h = slog.NewJSONHandler(a.stderr, nil)
			} else if logFormat != "text" {
				return usage.Errorf("--log-format is text or json")
			}
			if (cert == "") != (key == "") {
				return usage.Errorf("--tls-cert and --tls-key go together")
			}
			if db == "" {
				home, err := a.Home()
				if err != nil {
					return err
				}
				db = filepath.Join(home, "server", "server.db")
			}
			if maxConns < 1 {
				return usage.Errorf("--max-conns is at least 1")
			}
			if memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
				// A soft ceiling: the collector works harder near it and
				// hands memory back to the system sooner after a flood.
				debug.SetMemoryLimit(memLimit << 20)
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
			defer stop()
			err := server.Serve(ctx, server.Config{Listen: listen, DB: db, CertFile: cert, KeyFile: key, Insecure: insecure,
				AddrFile: addrFile, Log: slog.New(h), Rate: rps, MaxConns: maxConns})
			switch {
			case errors.Is(err, server.ErrListen):
				return usage.Errorf("--listen %q is not HOST:PORT", listen)
			case errors.Is(err, server.ErrPlainHTTP):
				return usage.Errorf("refusing plain HTTP on %s: it is not a loopback address. Give --tls-cert and --tls-key, or --insecure if a TLS proxy is in front", listen)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8443", "`HOST:PORT` to listen on")
	f.StringVar(&db, "db", "", "SQLite `PATH` or postgres:// URL (default $HUSH_HOME/server/server.db)")
	f.StringVar(&cert, "tls-cert", "", "TLS certificate chain `FILE` (PEM)")
	f.StringVar(&key, "tls-key", "", "TLS private key `FILE` (PEM)")
	f.BoolVar(&insecure, "insecure", false, "allow plain HTTP on a non-loopback address")
	f.StringVar(&logFormat, "log-format", "text", "log lines as text or json")
	f.StringVar(&addrFile, "addr-file", "", "write the server's URL to `FILE` once listening (for scripts)")
	f.Float64Var(&rps, "rate", 100, "requests per second allowed per device")
	f.IntVar(&maxConns, "max-conns", server.DefaultMaxConns, "connections open at once; more wait")
	f.Int64Var(&memLimit, "memory-limit", 256, "soft memory ceiling in `MiB` (0: none; GOMEMLIMIT overrides)")
	return cmd
}
