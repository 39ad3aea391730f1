package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/hush-secrets/hush/cmd/hush/internal/machine"
)

func (a *app) agentCommand() *cobra.Command {
	var (
		listen, authFile, cert, key, addrFile string
		interval                              time.Duration
		insecure                              bool
	)
	cmd := &cobra.Command{
		Use:   "agent [--token-file FILE] --auth-token-file FILE [--listen 127.0.0.1:8200]",
		Short: "serve a machine's secrets over HTTP, for the External Secrets Operator",
		Long: `Keep the secrets a machine token reads (HUSH_TOKEN or --token-file) in memory,
sync them every --interval and at once when the team server says the team
changed, and answer

  GET /v1/secrets/NAME[?version=N]  {"value": "...", "version": N}
  GET /healthz                      ok | degraded: ... (200), or 503 once the
                                    machine was removed or expired

A dynamic source's admin URL is never served (403): a program gets a
login of its own with hush run --dynamic.

Every secrets request needs "Authorization: Bearer TOKEN", the token in
--auth-token-file (or HUSH_AGENT_AUTH_TOKEN). This is what the External
Secrets Operator's webhook provider reads (docs/kubernetes.md). Plain HTTP
is served only on a loopback address: elsewhere give --tls-cert and
--tls-key, or --insecure-listen behind something that encrypts.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ag, err := machine.PrepareAgent(a.Getenv, a.TokenFile, authFile, machine.AgentOptions{Listen: listen, Interval: interval,
				TLSCert: cert, TLSKey: key, Insecure: insecure, Logger: slog.New(slog.NewTextHandler(a.stderr, nil)), AddrFile: addrFile}, a.notef)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return ag.Run(ctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8200", "serve on `HOST:PORT`")
	f.DurationVar(&interval, "interval", 30*time.Second, "sync this often (and at once when the team changes)")
	f.StringVar(&authFile, "auth-token-file", "", "the bearer token clients must send, in `FILE` (or HUSH_AGENT_AUTH_TOKEN)")
	f.StringVar(&cert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	f.StringVar(&key, "tls-key", "", "the certificate's key `FILE` (PEM)")
	f.BoolVar(&insecure, "insecure-listen", false, "allow plain HTTP on a non-loopback address")
	f.StringVar(&addrFile, "addr-file", "", "write the agent's URL to `FILE` once it serves (for scripts)")
	return cmd
}
