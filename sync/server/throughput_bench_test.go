//go:build unix

package server_test

// BenchmarkServerThroughput measures the team server alone: a real server
// (server.New behind httptest on 127.0.0.1) on a real store (a SQLite
// file, and a throw-away PostgreSQL when one is installed: pgtest), with
// N devices of one team, each on its own keep-alive connection, sending
// requests at once. Run it with
//
//	go test -run '^$' -bench ServerThroughput -benchtime 4000x ./sync/server/
//
// Every request is signed, and every pushed record sealed and signed,
// before the timer starts: what is timed is the HTTP exchange and the
// server's work (finding the device, checking the request's signature and
// nonce, the record signatures of a push, the store, the audit log and the
// answer), not the devices' signing. Client and server still share the
// machine's cores (the HTTP client's side of each exchange is in the
// figures). b.N is the number of operations over all devices; each run
// also stops after throughputLimit, so a slow machine ends the run with
// fewer operations instead of running for ever (signed requests are only
// good for wire.ClockSkew).
//
// Operations:
//   - push: a device pushes a new version of its own record (POST /v1/push,
//     one record): what one changed secret costs the server.
//   - pull: a device pulls the team's last 10 changes (GET
//     /v1/changes?since=HEAD-10).
//   - noop: a sync with nothing to do, as a v1 client makes it: the
//     membership log since its position (GET /v1/log) and the changes
//     since the head it has (GET /v1/changes), one after the other; the
//     latency is the pair's.
//   - mixed: pushes and pulls in turn (issue 18's load: half and half).
//
// Reported: ops/s over the run (and req/s: a no-op is two requests),
// p50-ms and p99-ms of single operations, and cpu-us/op: the process's
// CPU time (server and the HTTP clients, user and system) per operation,
// which moves much less than the rates when other programs share the
// machine.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hush-secrets/hush/sync/server"
	"github.com/hush-secrets/hush/sync/store/pgtest"
	"github.com/hush-secrets/hush/sync/wire"
)

// throughputLimit bounds one run's time (a request is signed for
// wire.ClockSkew, 90 s).
const throughputLimit = 60 * time.Second

func BenchmarkServerThroughput(b *testing.B) {
	b.Cleanup(stopBenchPostgres)
	backends := []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return filepath.Join(b.TempDir(), "server.db") }},
		{"postgres", func(b *testing.B) string {
			pg := benchPostgres(b)
			dsn, err := pg.NewDatabase(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			return dsn
		}},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			for _, devices := range []int{1, 10, 50} {
				b.Run(fmt.Sprintf("devices=%d", devices), func(b *testing.B) {
					bt := newBenchTeam(b, be.dsn(b), devices)
					for _, op := range []string{"push", "pull", "noop", "mixed"} {
						b.Run(op, func(b *testing.B) { bt.run(b, op) })
					}
				})
			}
		})
	}
}

var (
	benchPGMu   sync.Mutex
	benchPG     *pgtest.Server
	benchPGSkip string
)

// benchPostgres is one PostgreSQL for the run (stopBenchPostgres stops it when
// the top-level benchmark ends), or skips without one (fails under
// HUSH_TEST_REAL=1).
func benchPostgres(b *testing.B) *pgtest.Server {
	b.Helper()
	benchPGMu.Lock()
	defer benchPGMu.Unlock()
	if benchPG == nil && benchPGSkip == "" {
		s, skip, err := pgtest.ForTest()
		if err != nil {
			b.Fatal(err)
		}
		benchPG, benchPGSkip = s, skip
	}
	if benchPG == nil {
		b.Skip(benchPGSkip)
	}
	return benchPG
}

func stopBenchPostgres() {
	benchPGMu.Lock()
	defer benchPGMu.Unlock()
	if benchPG != nil {
		benchPG.Stop()
	}
	benchPG, benchPGSkip = nil, ""
}

// benchTeam is a running server with a team of devices, all writers.
type benchTeam struct {
	e    *env
	devs []*benchDevice
}

// benchDevice is a device of the team with its own connection and its
// own record, at version.
type benchDevice struct {
	*device
	client  *http.Client
	record  string
	version int64
}

func newBenchTeam(b *testing.B, dsn string, devices int) *benchTeam {
	b.Helper()
	e := &env{t: b, db: dsn, clock: &clock{t: time.Now().Truncate(time.Second)}, logs: &lockedBuffer{},
		secrets: map[string][]byte{}, roles: map[string]string{}}
	// The server's own clock; no request log (hush server logs no line
	// per request).
	e.start(server.Options{Rate: 1e6, Burst: 1e6, Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
	b.Cleanup(e.stop)
	e.createTeam()
	bt := &benchTeam{e: e}
	for i := range devices {
		d := e.member(wire.RoleWriter, "device-"+strconv.Itoa(i), "member-"+strconv.Itoa(i))
		bd := &benchDevice{device: d, record: wire.NewID(), version: 1,
			client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: throughputLimit}}
		b.Cleanup(bd.client.CloseIdleConnections)
		e.push(d, e.record(d, bd.record, 1))
		bt.devs = append(bt.devs, bd)
	}
	// A team of a few hundred secrets, so that a pull has ten to send.
	var rs []wire.Record
	for range 200 {
		rs = append(rs, e.record(e.admin, wire.NewID(), 1))
	}
	e.push(e.admin, rs...)
	return bt
}

// signedReq is a request signed ahead of time.
type signedReq struct {
	method, uri string
	body        []byte
	hdr         http.Header
	push        bool
}

func (bt *benchTeam) sign(d *device, method, uri string, body []byte) signedReq {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	signRequest(h, d.key, d.ID, method, uri, body, time.Now().Unix(), wire.NewID())
	return signedReq{method: method, uri: uri, body: body, hdr: h}
}

// head is the team's change sequence and log position now.
func (bt *benchTeam) head() (seq, logSeq int64) {
	c := bt.e.call(bt.e.admin, "GET", "/v1/changes?since=0", nil)
	var ch wire.Changes
	c.want(bt.e.t, http.StatusOK, "").decode(bt.e.t, &ch)
	return ch.Head, bt.e.members.Seq
}

// plan signs each device's share of n operations of kind op: a list of
// operations, each one or two requests.
func (bt *benchTeam) plan(op string, n int) [][][]signedReq {
	seq, logSeq := bt.head()
	plans := make([][][]signedReq, len(bt.devs))
	for i := range n {
		di := i % len(bt.devs)
		d := bt.devs[di]
		kind := op
		if op == "mixed" {
			kind = "push"
			if (i/len(bt.devs))%2 == 1 {
				kind = "pull"
			}
		}
		var reqs []signedReq
		switch kind {
		case "push":
			d.version++
			rec := bt.e.record(d.device, d.record, d.version)
			r := bt.sign(d.device, "POST", "/v1/push", body(bt.e.t, wire.Push{Records: []wire.Record{rec}}))
			r.push = true
			reqs = append(reqs, r)
		case "pull":
			reqs = append(reqs, bt.sign(d.device, "GET", "/v1/changes?since="+strconv.FormatInt(max(0, seq-10), 10), nil))
		case "noop":
			reqs = append(reqs,
				bt.sign(d.device, "GET", "/v1/log?since="+strconv.FormatInt(logSeq, 10), nil),
				bt.sign(d.device, "GET", "/v1/changes?since="+strconv.FormatInt(seq, 10), nil))
		}
		plans[di] = append(plans[di], reqs)
	}
	return plans
}

var okPush = []byte(`"status":"` + wire.PushOK + `"`)

// do sends one signed request on d's connection and reads the answer.
func (bt *benchTeam) do(d *benchDevice, r signedReq) error {
	req, err := http.NewRequest(r.method, bt.e.hs.URL+r.uri, bytes.NewReader(r.body))
	if err != nil {
		return err
	}
	req.Header = r.hdr
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", r.method, r.uri, resp.StatusCode, b)
	}
	if r.push && !bytes.Contains(b, okPush) {
		return fmt.Errorf("push not taken: %s", b)
	}
	return nil
}

func (bt *benchTeam) run(b *testing.B, op string) {
	parent := bt.e.t
	bt.e.t = b // the harness fails the benchmark that is running
	defer func() { bt.e.t = parent }()
	plans := bt.plan(op, b.N)
	var (
		mu      sync.Mutex
		lat     []time.Duration
		reqs    int
		firstEr error
		wg      sync.WaitGroup
	)
	deadline := time.Now().Add(throughputLimit)
	b.ResetTimer()
	cpu0 := processCPU(b)
	start := time.Now()
	for di, ops := range plans {
		d := bt.devs[di]
		wg.Go(func() {
			mine := make([]time.Duration, 0, len(ops))
			n := 0
			var err error
		loop:
			for _, o := range ops {
				if time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				for _, r := range o {
					if err = bt.do(d, r); err != nil {
						break loop
					}
					n++
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			reqs += n
			if err != nil && firstEr == nil {
				firstEr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU(b) - cpu0
	b.StopTimer()
	if firstEr != nil {
		b.Fatal(firstEr)
	}
	if len(lat) < b.N {
		b.Logf("stopped after %s: %d of %d operations", throughputLimit, len(lat), b.N)
	}
	if len(lat) == 0 {
		b.Fatalf("no operation finished within %s", throughputLimit)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(reqs)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(len(lat)), "cpu-us/op")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}

// processCPU is the CPU time this process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
