//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hush-secrets/hush/vault/keychain/keychaintest"

	"github.com/hush-secrets/hush/sync/store/pgtest"
)

// TestSyncScripts runs the team sync scripts in testdata/sync: real
// `hush server` processes on 127.0.0.1 and clients in separate HUSH_HOMEs,
// every one a separate process, as users would run them. Scripts marked
// [postgres] share one throw-away PostgreSQL (each gets its own database);
// without PostgreSQL they skip, unless HUSH_TEST_REAL=1.
func TestSyncScripts(t *testing.T) {
	pg := &pgOnce{}
	t.Cleanup(pg.stop)
	t.Run("tls", testServerTLS)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/sync",
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "postgres":
				s, err := pg.get()
				return s != nil, err
			case "tmpfs":
				return keychaintest.Real() || canMountTmpfs(), nil
			case "strace": // nocreate: under HUSH_TEST_REAL=1 a missing strace fails
				_, err := exec.LookPath("strace")
				return keychaintest.Real() || err == nil, nil
			}
			return false, errors.New("unknown condition " + strconv.Quote(cond))
		},
		Setup: func(env *testscript.Env) error {
			// Each client is a HUSH_HOME under $WORK (see `as`); the
			// default one is $WORK/home.
			env.Setenv("HUSH_HOME", filepath.Join(env.WorkDir, "home"))
			env.Setenv("HUSH_PASSPHRASE", "correct horse battery staple")
			env.Setenv("HUSH_NEW_PASSPHRASE", "correct horse battery staple")
			env.Setenv("GORACE", goraceNoExitSleep())
			env.Values[pgKey{}] = pg
			env.Values[proxyKey{}] = map[string]*proxy{}
			env.Values[liarKey{}] = map[string]*liar{}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"as":          cmdAs,
			"serverurl":   cmdServerURL,
			"tcpproxy":    cmdTCPProxy,
			"proxied":     cmdProxied,
			"pgdb":        cmdPGDB,
			"setvar":      cmdSetVar,
			"exits":       cmdExits,
			"noplain":     cmdNoPlain,
			"sqlexec":     cmdSQLExec,
			"waitfile":    cmdWaitFile,
			"sleep":       cmdSleep,
			"waitgrep":    cmdWaitGrepN,
			"tmpfs":       cmdTmpfs,
			"fill":        cmdFill,
			"httpget":     cmdHTTPGet,
			"watchliar":   cmdWatchLiar,
			"liarflood":   cmdLiarFlood,
			"liarpulls":   cmdLiarPulls,
			"liarswallow": cmdLiarSwallow,
			"liarhold":    cmdLiarHold,
			"liarheld":    cmdLiarHeld,
			"liarcut":     cmdLiarCut,
			"mangle":      cmdMangle,
			"nocreate":    cmdNoCreate,
			"eso":         cmdESO,
		},
	})
}

// goraceNoExitSleep is $GORACE plus atexit_sleep_ms=0: a binary built
// with -race otherwise sleeps a second before it exits, and these scripts
// run a few hundred hush processes.
func goraceNoExitSleep() string {
	return strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
}

// as NAME CMD ARGS... runs CMD (a program, or `exits N PROG ARGS...`) with
// HUSH_HOME=$WORK/NAME: NAME is one user's device. `! as` expects a
// non-zero exit.
func cmdAs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: as NAME CMD ARGS...")
	}
	old := ts.Getenv("HUSH_HOME")
	ts.Setenv("HUSH_HOME", filepath.Join(ts.Getenv("WORK"), args[0]))
	defer ts.Setenv("HUSH_HOME", old)
	if args[1] == "exits" {
		cmdExits(ts, neg, args[2:])
		return
	}
	err := ts.Exec(args[1], args[2:]...)
	var ee *exec.ExitError
	switch {
	case err != nil && !errors.As(err, &ee):
		ts.Fatalf("%v", err)
	case err != nil && !neg:
		ts.Fatalf("unexpected command failure: %v", err)
	case err == nil && neg:
		ts.Fatalf("unexpected command success")
	}
}

// setvar VAR FILE sets $VAR to FILE's content without surrounding space;
// FILE may be stdout or stderr, the last command's.
func cmdSetVar(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: setvar VAR FILE")
	}
	ts.Setenv(args[0], strings.TrimSpace(ts.ReadFile(args[1])))
}

// serverurl VAR FILE waits (at most 10 s) for a server's --addr-file and
// sets $VAR to its URL and $VAR_LISTEN to its HOST:PORT (to restart a
// server where its clients expect it).
func cmdServerURL(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: serverurl VAR FILE")
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(ts.MkAbs(args[1]))
		if err == nil && bytes.HasSuffix(b, []byte("\n")) {
			s := strings.TrimSpace(string(b))
			u, err := url.Parse(s)
			ts.Check(err)
			ts.Setenv(args[0], s)
			ts.Setenv(args[0]+"_LISTEN", u.Host)
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s: no server address within 10s", args[1])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// proxy is a TCP load balancer on 127.0.0.1: each new connection goes to
// the next backend, round robin, as a layer-4 balancer would do.
type proxy struct {
	ln       net.Listener
	backends []string
	next     atomic.Int64
	counts   []atomic.Int64
	mu       sync.Mutex
	conns    map[net.Conn]bool
	wg       sync.WaitGroup
}

type proxyKey struct{}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		i := int(p.next.Add(1)-1) % len(p.backends)
		b, err := net.DialTimeout("tcp", p.backends[i], 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.counts[i].Add(1)
		p.mu.Lock()
		p.conns[c], p.conns[b] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src)
			// Close both halves: the other direction ends too.
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(b, c)
		go pipe(c, b)
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// tcpproxy VAR URL... listens on a free loopback port and forwards each
// connection to the next server in turn; $VAR is its http:// URL. It
// stops at the end of the script.
func cmdTCPProxy(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: tcpproxy VAR URL...")
	}
	p := &proxy{conns: map[net.Conn]bool{}}
	for _, s := range args[1:] {
		u, err := url.Parse(s)
		ts.Check(err)
		if host := u.Hostname(); host != "127.0.0.1" && host != "localhost" {
			ts.Fatalf("tcpproxy forwards to loopback only, not %s", s)
		}
		p.backends = append(p.backends, u.Host)
	}
	p.counts = make([]atomic.Int64, len(p.backends))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	p.ln = ln
	p.wg.Add(1)
	go p.serve()
	ts.Defer(p.close)
	ts.Setenv(args[0], "http://"+ln.Addr().String())
	ts.Value(proxyKey{}).(map[string]*proxy)[args[0]] = p
}

// proxied VAR N: each server behind the proxy $VAR took at least N
// connections.
func cmdProxied(ts *testscript.TestScript, neg bool, args []string) {
	p := ts.Value(proxyKey{}).(map[string]*proxy)[args[0]]
	if p == nil {
		ts.Fatalf("no tcpproxy %s", args[0])
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	for i := range p.counts {
		got := p.counts[i].Load()
		ts.Logf("%s: %d connections", p.backends[i], got)
		if got < int64(n) {
			ts.Fatalf("server %s took %d connections, want at least %d", p.backends[i], got, n)
		}
	}
}

// pgOnce starts one PostgreSQL for all the scripts, when the first one
// asks for it.
type pgOnce struct {
	once   sync.Once
	s      *pgtest.Server
	err    error
	reason string
}

type pgKey struct{}

func (p *pgOnce) get() (*pgtest.Server, error) {
	p.once.Do(func() { p.s, p.reason, p.err = pgtest.ForTest() })
	return p.s, p.err
}

func (p *pgOnce) stop() {
	if p.s != nil {
		p.s.Stop()
	}
}

// pgdb [-tablespace SIZE] VAR creates a fresh database (and role) on the
// test PostgreSQL and sets $VAR to its URL. Use it after `[!postgres]
// skip`. With -tablespace, the database lives in a tablespace on a tmpfs
// of SIZE (e.g. 32m) of its own, a real disk that can really fill up
// (`fill $VAR_DISK`): mounting it needs root, so guard with [tmpfs] too.
// The tmpfs is outside $WORK, which the user PostgreSQL runs as cannot
// enter; the database, the tablespace and the tmpfs go when the script
// ends. The server must run on this machine (not HUSH_TEST_PG_URL's).
func cmdPGDB(ts *testscript.TestScript, neg bool, args []string) {
	size := ""
	if len(args) == 3 && args[0] == "-tablespace" {
		size, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: pgdb [-tablespace SIZE] VAR")
	}
	pg := ts.Value(pgKey{}).(*pgOnce)
	s, err := pg.get()
	ts.Check(err)
	if s == nil {
		ts.Fatalf("no PostgreSQL: %s", pg.reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := s.NewDatabase(ctx)
	ts.Check(err)
	if size != "" {
		ts.Setenv(args[0]+"_DISK", pgTablespace(ctx, ts, s.SuperURL(), u, size))
	}
	ts.Setenv(args[0], u)
}

// pgTablespace moves the database of dbURL into a new tablespace on a
// tmpfs of size and returns where the tmpfs is mounted.
func pgTablespace(ctx context.Context, ts *testscript.TestScript, superURL, dbURL, size string) string {
	pu, err := url.Parse(dbURL)
	ts.Check(err)
	db := strings.TrimPrefix(pu.Path, "/")
	conn, err := pgx.Connect(ctx, superURL)
	ts.Check(err)
	defer conn.Close(ctx)
	// The tablespace belongs to the user the server runs as: the owner of
	// its data folder.
	var dataDir string
	ts.Check(conn.QueryRow(ctx, "SHOW data_directory").Scan(&dataDir))
	fi, err := os.Stat(dataDir)
	if err != nil {
		ts.Fatalf("pgdb -tablespace needs the PostgreSQL server on this machine: %v", err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	disk, err := os.MkdirTemp("", "hush-pgdisk-")
	ts.Check(err)
	ts.Check(os.Chmod(disk, 0o755))
	opts := fmt.Sprintf("size=%s,mode=0700,uid=%d,gid=%d", size, st.Uid, st.Gid)
	if err := syscall.Mount("tmpfs", disk, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		os.Remove(disk)
		ts.Fatalf("cannot mount a tmpfs for the tablespace (run as root): %v", err)
	}
	space := filepath.Join(disk, "space")
	ts.Check(os.Mkdir(space, 0o700))
	ts.Check(os.Chown(space, int(st.Uid), int(st.Gid)))
	name := db + "_space"
	ts.Defer(func() {
		syscall.Unmount(disk, syscall.MNT_DETACH)
		os.Remove(disk)
	})
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLESPACE %s LOCATION '%s'`, name, space),
		fmt.Sprintf(`ALTER DATABASE %s SET TABLESPACE %s`, db, name),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			ts.Fatalf("pgdb: %s: %v", q, err)
		}
	}
	ts.Defer(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, superURL)
		if err != nil {
			ts.Logf("pgdb: dropping %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			fmt.Sprintf(`DROP DATABASE %s WITH (FORCE)`, db),
			fmt.Sprintf(`DROP TABLESPACE %s`, name),
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				ts.Logf("pgdb: %s: %v", q, err)
			}
		}
	})
	return disk
}

// testServerTLS: `hush server` with a certificate, a client that trusts it
// with --ca, one that does not, and plain HTTP refused off loopback.
func testServerTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	writeTestCert(t, certFile, keyFile)
	hushEnv := append(os.Environ(), "HUSH_TEST_AS=hush", "GORACE="+goraceNoExitSleep(), "HUSH_PASSPHRASE=correct horse battery staple",
		"HUSH_NEW_PASSPHRASE=correct horse battery staple")
	hush := func(home string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(hushEnv, "HUSH_HOME="+filepath.Join(dir, home))
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return string(out), cmd.ProcessState.ExitCode()
	}

	// Plain HTTP anywhere but loopback: refused before listening (usage, 2).
	out, code := hush("srv", "server", "--listen", "0.0.0.0:0", "--db", filepath.Join(dir, "refused.db"))
	if code != 2 || !strings.Contains(out, "refusing plain HTTP on 0.0.0.0:0: it is not a loopback address") || !strings.Contains(out, "--tls-cert") {
		t.Errorf("plain HTTP on 0.0.0.0: exit %d, output:\n%s", code, out)
	}
	out, code = hush("srv", "server", "--listen", "127.0.0.1:0", "--tls-cert", certFile)
	if code != 2 || !strings.Contains(out, "--tls-cert and --tls-key go together") {
		t.Errorf("--tls-cert alone: exit %d, output:\n%s", code, out)
	}

	addrFile := filepath.Join(dir, "addr")
	var logBuf bytes.Buffer
	srv := exec.Command(os.Args[0], "server", "--listen", "127.0.0.1:0", "--db", filepath.Join(dir, "srv.db"),
		"--tls-cert", certFile, "--tls-key", keyFile, "--addr-file", addrFile)
	srv.Env = append(hushEnv, "HUSH_HOME="+filepath.Join(dir, "srv"))
	srv.Stdout, srv.Stderr = &logBuf, &logBuf
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Wait() }()
	defer func() {
		if srv.ProcessState == nil {
			srv.Process.Kill()
			<-done
		}
	}()
	var serverURL string
	for deadline := time.Now().Add(30 * time.Second); ; {
		if b, err := os.ReadFile(addrFile); err == nil && bytes.HasSuffix(b, []byte("\n")) {
			serverURL = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no address file; server log:\n%s", logBuf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(serverURL, "https://127.0.0.1:") {
		t.Fatalf("server URL %q, want https://127.0.0.1:PORT", serverURL)
	}

	// A client that does not trust the certificate says so and keeps its
	// vault out of any team; with --ca it works.
	if out, code := hush("alice", "init", "--kdf-memory", "19", "--kdf-passes", "2"); code != 0 {
		t.Fatalf("init: %s", out)
	}
	hush("alice", "set", "app/TLS_KEY", "tls-value")
	// The client too: http only to loopback.
	out, code = hush("alice", "team", "create", "--server", "http://10.1.2.3:8443", "--name", "acme")
	if code != 1 || !strings.Contains(out, "plain http is allowed only to a loopback address; use https") {
		t.Errorf("team create on http://10.1.2.3: exit %d, output:\n%s", code, out)
	}
	out, code = hush("alice", "team", "create", "--server", serverURL, "--name", "acme", "--device", "alice-laptop")
	if code == 0 || !strings.Contains(out, "certificate") {
		t.Errorf("team create without --ca: exit %d, output:\n%s", code, out)
	}
	out, code = hush("alice", "team", "create", "--server", serverURL, "--name", "acme", "--device", "alice-laptop", "--ca", certFile)
	if code != 0 || !strings.Contains(out, "created team acme on "+serverURL) || !strings.Contains(out, "pushed 1 secret.") {
		t.Fatalf("team create --ca: exit %d, output:\n%s", code, out)
	}
	// The invite carries the https URL; the joiner brings the CA too.
	code1, _ := hush("alice", "team", "invite", "--role", "writer")
	invite := ""
	for _, l := range strings.Split(code1, "\n") {
		if strings.HasPrefix(l, "hush-invite-1.") {
			invite = l
		}
	}
	if invite == "" {
		t.Fatalf("no invite code in:\n%s", code1)
	}
	out, code = hush("bob", "team", "join", invite, "--name", "bob-laptop")
	if code == 0 || !strings.Contains(out, "certificate") {
		t.Errorf("team join without --ca: exit %d, output:\n%s", code, out)
	}
	if out, code = hush("bob", "team", "join", invite, "--name", "bob-laptop", "--ca", certFile); code != 0 {
		t.Fatalf("team join --ca: exit %d, output:\n%s", code, out)
	}
	if out, code = hush("alice", "sync"); code != 0 || !strings.Contains(out, "approved bob-laptop") {
		t.Fatalf("admin sync: exit %d, output:\n%s", code, out)
	}
	if out, code = hush("bob", "sync"); code != 0 || !strings.Contains(out, "received the team key") {
		t.Fatalf("member sync: exit %d, output:\n%s", code, out)
	}
	if out, code = hush("bob", "get", "app/TLS_KEY"); code != 0 || out != "tls-value" {
		t.Fatalf("bob get: exit %d, output:\n%s", code, out)
	}

	// SIGTERM: a graceful stop, said in the log, exit 0.
	srv.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("server after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("server still running 20s after SIGTERM")
	}
	if log := logBuf.String(); !strings.Contains(log, "msg=stopped") || strings.Contains(log, "tls-value") || strings.Contains(log, "TLS_KEY") {
		t.Errorf("server log after SIGTERM:\n%s", log)
	}
}

// writeTestCert writes a self-signed ECDSA certificate for 127.0.0.1 and
// localhost, and its key.
func writeTestCert(t *testing.T, certFile, keyFile string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "hush test server"},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
}
