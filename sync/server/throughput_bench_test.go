//go:build unix

package server_test

// BenchmarkServerThroughput measures the team server alone: a real server
// on a real store (a SQLite file, and a throw-away PostgreSQL when one is
// installed: pgtest), with N devices of one team, each on its own
// keep-alive connection, sending requests at once. Run it with
//
//	go test -run '^$' -bench ServerThroughput -benchtime 4000x ./sync/server/
//
// The team is built through the protocol against an in-process server;
// then the server the load goes to is another process: this test binary
// run as server.Serve (what `hush server` runs: its http.Server, its
// connection limit) on the same store, on 127.0.0.1. So the server's CPU
// is measured apart from the load generator's, as on a real machine
// where the clients are elsewhere (on Linux, where /proc gives the
// server's CPU). HUSH_BENCH_INPROCESS=1 keeps the server in the
// benchmark's process instead (behind httptest), for -cpuprofile,
// -mutexprofile and -blockprofile to see it; HUSH_BENCH_SERVER_CPUPROFILE
// names a file for the server process's own CPU profile.
//
// Every request is signed, and every pushed record sealed and signed,
// before the timer starts: what is timed is the HTTP exchange and the
// server's work (finding the device, checking the request's signature and
// nonce, the record signatures of a push, the store, the audit log and the
// answer), not the devices' signing. Client and server still share the
// machine's cores. b.N is the number of operations over all devices; each
// run also stops after throughputLimit, so a slow machine ends the run
// with fewer operations instead of running for ever (signed requests are
// only good for wire.ClockSkew).
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
//     A pull asks from the head before the run less 10, as pull does, so
//     it also gets the records the devices pushed meanwhile: with 50
//     devices, some 10 + 50 records (a device that syncs as often as its
//     team pushes gets about as many). recs/pull says how many.
//
// Those are v1's requests, which only a team made by a hush from before
// the change chain still sends (a v1 push into a chained team is
// refused). Every team made since is chained (client.Create), and its
// devices push with POST /v2/push and pull with GET /v2/chain: the chain-
// operations are those requests, built as sync/client builds them (one
// entry per record, marked with its push and linked to its scope's last
// entry, signed on the head the device verified; the pull asks with
// pushes=1&links=1). A chain takes a push only at its head, so devices
// of one team pushing at once are all but one told they are behind and
// sign again (what a real client does, and what no pre-signed request
// can): for these operations each device is the writer of a chained team
// of its own (an admin and that device), on the same server and store,
// so N devices are N chains pushed at once. Each such team holds 200
// records written by its device, the last 50 pushed one at a time.
//   - chain-push: a device pushes a new version of one of its records
//     (one entry), the next of its last 50 in turn.
//   - chain-pull: the entries after its head less 10 (10 entries, their
//     10 records).
//   - chain-noop: a chained sync with nothing to do: the membership log
//     since its position (GET /v1/log) and the chain after its head.
//   - chain-mixed: chain-push and a pull in turn; a pull asks after the
//     device's head (its own pushes so far included) less 50: the last
//     50 entries, each of another record, with their 50 records — what a
//     device pulls in a team whose 50 devices each pushed once since its
//     last pull, as v1's mixed pulls bring 50–60. (The records are the
//     device's own, asked without mine=: the server sends them as it
//     would a teammate's.)
//
// The server process starts with no chain tail in memory
// (sync/store/tail.go): a team's first pull of a run reads SQL, and the
// pulls after it are served from the tail it leaves, as on a running
// server whose devices pull from recent positions.
//
// PostgreSQL runs durably, as a user's server (pgtest.Options.Durable:
// fsync, synchronous_commit and full_page_writes on);
// HUSH_BENCH_PG_FSYNC=off runs it as the tests do, with all three off.
//
// Reported: ops/s over the run (and req/s: a no-op is two requests),
// p50-ms and p99-ms of single operations, and CPU per operation (user and
// system), which moves much less than the rates when other programs share
// the machine: srv-cpu-us/op is the server process's, cli-cpu-us/op the
// load generator's (HTTP clients; their signing was done before), and
// cpu-us/op both together (with HUSH_BENCH_INPROCESS=1, only cpu-us/op:
// one process); pg-cpu-us/op is PostgreSQL's (all its processes), apart.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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
					for _, op := range []string{"push", "pull", "noop", "mixed", "chain-push", "chain-pull", "chain-noop", "chain-mixed"} {
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
		durable := os.Getenv("HUSH_BENCH_PG_FSYNC") != "off"
		s, skip, err := pgtest.ForTestWith(pgtest.Options{Durable: durable})
		if err != nil {
			b.Fatal(err)
		}
		benchPG, benchPGSkip = s, skip
		if s != nil {
			b.Logf("PostgreSQL durable (fsync, synchronous_commit, full_page_writes on): %v", s.Durable())
		}
	}
	if benchPG == nil {
		b.Skip(benchPGSkip)
	}
	return benchPG
}

// benchPGCPU is the CPU time of the PostgreSQL behind dsn so far (ok
// false for SQLite, or where it cannot be read).
func benchPGCPU(dsn string) (time.Duration, bool) {
	if !strings.HasPrefix(dsn, "postgres") {
		return 0, false
	}
	benchPGMu.Lock()
	defer benchPGMu.Unlock()
	return benchPG.CPU()
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
	// url is the server's; srv its process when it has one of its own
	// (else the server runs in this process, behind e.hs).
	url string
	srv *exec.Cmd
}

// benchDevice is a device of the team with its own connection and its
// own record, at version; chain is its chained team.
type benchDevice struct {
	*device
	client  *http.Client
	record  string
	version int64
	chain   *chainTeam
}

// chainTeam is a chained team on the same server whose one writer, w,
// pushes: what it pushed last (head, heads: the chain as its client
// verified it) and the records it writes in turn.
type chainTeam struct {
	e        *env
	w        *device
	head     wire.ChainCursor
	heads    wire.ScopeHeads
	turn     []string // the last 50 records it wrote, oldest first
	versions map[string]int64
	next     int // the next of turn to push
}

// chainTurn is how many records a chain team's device writes in turn, and
// so how many entries a chain-mixed pull gets.
const chainTurn = 50

// newChainTeam creates a chained team on e's server, as client.Create
// does, with an admin and one writer, which pushes 200 records: 150 in
// pushes of 10, then chainTurn one at a time.
func newChainTeam(e *env, i int) *chainTeam {
	e.t.Helper()
	f := &env{t: e.t, db: e.db, st: e.st, srv: e.srv, hs: e.hs, clock: e.clock, logs: e.logs, secrets: map[string][]byte{}, roles: map[string]string{}}
	f.createTeamChained(true)
	ct := &chainTeam{e: f, w: f.member(wire.RoleWriter, "device-"+strconv.Itoa(i), "member-"+strconv.Itoa(i)),
		heads: wire.ScopeHeads{}, versions: map[string]int64{}}
	var batch []wire.Record
	for j := range 200 {
		id := wire.NewID()
		ct.versions[id] = 1
		batch = append(batch, f.record(ct.w, id, 1))
		if j >= 200-chainTurn {
			ct.turn = append(ct.turn, id)
		}
		if len(batch) == 10 || j >= 200-chainTurn {
			ct.push(ct.sign(batch...))
			batch = nil
		}
	}
	return ct
}

// sign is the writer's push of recs on the head it holds, as
// sync/client signs it (marked, linked), and moves the head on: the
// caller sends it, and the server must take it.
func (ct *chainTeam) sign(recs ...wire.Record) wire.ChainPush {
	p, at, heads := ct.e.linkedPush(ct.w, ct.head, ct.heads, recs...)
	ct.head, ct.heads = at, heads
	return p
}

// push sends a push signed by sign through the in-process server.
func (ct *chainTeam) push(p wire.ChainPush) {
	ct.e.t.Helper()
	var res wire.ChainPushResponse
	ct.e.call(ct.w, "POST", "/v2/push", p).want(ct.e.t, http.StatusOK, "").decode(ct.e.t, &res)
	if res.Status != wire.PushOK || !res.Head.Equal(ct.head) {
		ct.e.t.Fatalf("chain push: %+v", res)
	}
}

// nextPush is the writer's push of a new version of the next record in
// turn.
func (ct *chainTeam) nextPush() wire.ChainPush {
	id := ct.turn[ct.next]
	ct.next = (ct.next + 1) % len(ct.turn)
	ct.versions[id]++
	return ct.sign(ct.e.record(ct.w, id, ct.versions[id]))
}

// chainQuery is sync/client's GET /v2/chain after pos.
func chainQuery(pos int64) string {
	return "/v2/chain?after=" + strconv.FormatInt(pos, 10) + "&" + wire.PullPushes + "=1&" + wire.PullLinks + "=1"
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
	for i, bd := range bt.devs {
		bd.chain = newChainTeam(e, i)
	}
	// A team of a few hundred secrets, so that a pull has ten to send.
	var rs []wire.Record
	for range 200 {
		rs = append(rs, e.record(e.admin, wire.NewID(), 1))
	}
	e.push(e.admin, rs...)
	bt.url = e.hs.URL
	// Apart where the server's CPU can be read (/proc: Linux).
	if _, err := os.Stat("/proc/self/stat"); err == nil && os.Getenv("HUSH_BENCH_INPROCESS") == "" {
		bt.serveApart(b, dsn)
	}
	return bt
}

// serveApart stops the in-process server and starts this test binary as
// a server process on the same store (see TestMain), for the load.
func (bt *benchTeam) serveApart(b *testing.B, dsn string) {
	b.Helper()
	bt.e.stop()
	addrFile := filepath.Join(b.TempDir(), "addr")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchServeEnv+"="+dsn, benchAddrEnv+"="+addrFile)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	b.Cleanup(func() {
		stdin.Close() // the server finishes what is in flight and stops
		select {
		case <-exited:
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			<-exited
		}
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if u, err := os.ReadFile(addrFile); err == nil && strings.HasSuffix(string(u), "\n") {
			bt.url = strings.TrimSpace(string(u))
			break
		}
		select {
		case err := <-exited:
			b.Fatalf("the server process ended before it listened: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			b.Fatal("the server process did not listen within a minute")
		}
	}
	bt.srv = cmd
}

// signedReq is a request signed ahead of time.
type signedReq struct {
	method, uri string
	body        []byte
	hdr         http.Header
	push, pull  bool
}

func (bt *benchTeam) sign(d *device, method, uri string, body []byte) signedReq {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	signRequest(h, d.key, d.ID, method, uri, body, time.Now().Unix(), wire.NewID())
	return signedReq{method: method, uri: uri, body: body, hdr: h}
}

// head is the team's change sequence and log position now.
func (bt *benchTeam) head() (seq, logSeq int64) {
	r := bt.sign(bt.e.admin, "GET", "/v1/changes?since=0", nil)
	b, err := bt.send(&http.Client{Timeout: time.Minute}, r)
	if err != nil {
		bt.e.t.Fatal(err)
	}
	var ch wire.Changes
	if err := json.Unmarshal(b, &ch); err != nil {
		bt.e.t.Fatal(err)
	}
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
		switch op {
		case "chain-mixed":
			kind = "chain-push"
			if (i/len(bt.devs))%2 == 1 {
				kind = "chain-pull50"
			}
		}
		ct := d.chain
		var reqs []signedReq
		switch kind {
		case "chain-push":
			r := bt.sign(ct.w, "POST", "/v2/push", body(bt.e.t, ct.nextPush()))
			r.push = true
			reqs = append(reqs, r)
		case "chain-pull", "chain-pull50":
			back := int64(10)
			if kind == "chain-pull50" {
				back = chainTurn
			}
			r := bt.sign(ct.w, "GET", chainQuery(max(0, ct.head.Pos-back)), nil)
			r.pull = true
			reqs = append(reqs, r)
		case "chain-noop":
			reqs = append(reqs,
				bt.sign(ct.w, "GET", "/v1/log?since="+strconv.FormatInt(ct.e.members.Seq, 10), nil),
				bt.sign(ct.w, "GET", chainQuery(ct.head.Pos), nil))
		case "push":
			d.version++
			rec := bt.e.record(d.device, d.record, d.version)
			r := bt.sign(d.device, "POST", "/v1/push", body(bt.e.t, wire.Push{Records: []wire.Record{rec}}))
			r.push = true
			reqs = append(reqs, r)
		case "pull":
			r := bt.sign(d.device, "GET", "/v1/changes?since="+strconv.FormatInt(max(0, seq-10), 10), nil)
			r.pull = true
			reqs = append(reqs, r)
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

// do sends one signed request on d's connection and reads the answer; it
// returns the records a pull got.
func (bt *benchTeam) do(d *benchDevice, r signedReq) (records int, err error) {
	b, err := bt.send(d.client, r)
	if err != nil {
		return 0, err
	}
	if r.push && !bytes.Contains(b, okPush) {
		return 0, fmt.Errorf("push not taken: %s", b)
	}
	if r.pull {
		records = bytes.Count(b, recordID)
	}
	return records, nil
}

// recordID starts each record of a pull's answer (and nothing else in it).
var recordID = []byte(`{"id":"`)

// send sends one signed request and reads a 200 answer.
func (bt *benchTeam) send(c *http.Client, r signedReq) ([]byte, error) {
	req, err := http.NewRequest(r.method, bt.url+r.uri, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	req.Header = r.hdr
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: status %d: %s", r.method, r.uri, resp.StatusCode, b)
	}
	return b, nil
}

func (bt *benchTeam) run(b *testing.B, op string) {
	parent := bt.e.t
	bt.e.t = b // the harness fails the benchmark that is running
	defer func() { bt.e.t = parent }()
	plans := bt.plan(op, b.N)
	var (
		mu          sync.Mutex
		lat         []time.Duration
		reqs        int
		pulls, recs int
		firstEr     error
		wg          sync.WaitGroup
	)
	deadline := time.Now().Add(throughputLimit)
	b.ResetTimer()
	cpu0, srv0 := processCPU(b), bt.serverCPU(b)
	pg0, pgOK := benchPGCPU(bt.e.db)
	start := time.Now()
	for di, ops := range plans {
		d := bt.devs[di]
		wg.Go(func() {
			mine := make([]time.Duration, 0, len(ops))
			n, np, nr := 0, 0, 0
			var err error
		loop:
			for _, o := range ops {
				if time.Now().After(deadline) {
					break
				}
				t0 := time.Now()
				for _, r := range o {
					var got int
					if got, err = bt.do(d, r); err != nil {
						break loop
					}
					n++
					if r.pull {
						np, nr = np+1, nr+got
					}
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			reqs += n
			pulls, recs = pulls+np, recs+nr
			if err != nil && firstEr == nil {
				firstEr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu, srv := processCPU(b)-cpu0, bt.serverCPU(b)-srv0
	pg1, _ := benchPGCPU(bt.e.db)
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
	perOp := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(len(lat)) }
	b.ReportMetric(perOp(cpu+srv), "cpu-us/op")
	if bt.srv != nil {
		b.ReportMetric(perOp(srv), "srv-cpu-us/op")
		b.ReportMetric(perOp(cpu), "cli-cpu-us/op")
	}
	if pgOK {
		b.ReportMetric(perOp(pg1-pg0), "pg-cpu-us/op")
	}
	if pulls > 0 {
		b.ReportMetric(float64(recs)/float64(pulls), "recs/pull")
	}
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

// serverCPU is the CPU time the server process has used, user and system
// (from /proc: Linux; 0 where the server runs in this process).
func (bt *benchTeam) serverCPU(b *testing.B) time.Duration {
	if bt.srv == nil {
		return 0
	}
	st, err := os.ReadFile("/proc/" + strconv.Itoa(bt.srv.Process.Pid) + "/stat")
	if err != nil {
		b.Fatalf("the server process's CPU time: %v", err)
	}
	// Fields after the command's closing parenthesis: state is the 3rd
	// field of the line, utime and stime the 14th and 15th, in clock
	// ticks (USER_HZ, 100 on Linux).
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("the server process's CPU time: %q", st)
	}
	var ticks int64
	for _, x := range f[11:13] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			b.Fatalf("the server process's CPU time: %q", st)
		}
		ticks += n
	}
	return time.Duration(ticks) * (time.Second / 100)
}
