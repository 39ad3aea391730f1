package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/sync/server"
)

// benchServeEnv, set to a store's dsn, makes the test binary a team
// server (server.Serve, as `hush server` runs it) on 127.0.0.1 instead of
// running tests: BenchmarkServerThroughput starts one so that the server's
// CPU is its own process's, apart from the load generator's. It writes
// its URL to the file named by benchAddrEnv and stops when its standard
// input ends.
const (
	benchServeEnv = "HUSH_BENCH_SERVE"
	benchAddrEnv  = "HUSH_BENCH_ADDR"
)

func TestMain(m *testing.M) {
	if dsn := os.Getenv(benchServeEnv); dsn != "" {
		os.Exit(benchServe(dsn))
	}
	os.Exit(m.Run())
}

func benchServe(dsn string) int {
	if path := os.Getenv("HUSH_BENCH_SERVER_CPUPROFILE"); path != "" {
		// The server process's own CPU profile (the benchmark's
		// -cpuprofile sees only the load generator).
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench server:", err)
			return 1
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		io.Copy(io.Discard, os.Stdin) // the benchmark closes it when done
		cancel()
	}()
	err := server.Serve(ctx, server.Config{Listen: "127.0.0.1:0", DB: dsn, AddrFile: os.Getenv(benchAddrEnv),
		Log: slog.New(slog.DiscardHandler), Rate: 1e6})
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench server:", err)
		return 1
	}
	return 0
}
