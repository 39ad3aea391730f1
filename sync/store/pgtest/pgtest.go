// Package pgtest starts a real, throw-away PostgreSQL server for tests: its
// own data folder under the system temp folder, listening only on
// 127.0.0.1 on a free port, gone when Stop is called. Nothing of a system
// cluster is touched.
//
// Set HUSH_TEST_PG_URL to a superuser URL to use a server you run yourself
// instead (each test still gets its own database).
//
// Tests run the server with fsync, synchronous_commit and
// full_page_writes off (a crash of the machine may lose or corrupt what
// it holds: nothing a test needs after it ends). Benchmarks that stand
// for a user's server start it with [Options.Durable], PostgreSQL's own
// defaults for all three.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Real reports whether HUSH_TEST_REAL=1: then a missing PostgreSQL is a
// test failure, not a skip.
func Real() bool { return os.Getenv("HUSH_TEST_REAL") == "1" }

// ErrMissing means no PostgreSQL server binaries were found.
var ErrMissing = errors.New("PostgreSQL is not installed (run scripts/install-test-deps.sh)")

// Server is a running PostgreSQL.
type Server struct {
	opts     Options
	dir      string // empty for an external server
	bin      string
	asUser   string // run pg_ctl as this user (root cannot run PostgreSQL)
	Port     int
	password string
	external *url.URL
	dbs      atomic.Int64
	watchdog *exec.Cmd // stops the cluster if this process dies without Stop
}

// SuperURL is a URL for the superuser "postgres" (password auth over TCP).
func (s *Server) SuperURL() string {
	if s.external != nil {
		return s.external.String()
	}
	return s.url("postgres", s.password, "postgres")
}

func (s *Server) url(userName, password, db string) string {
	host := "127.0.0.1:" + strconv.Itoa(s.Port)
	if s.external != nil {
		host = s.external.Host
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword(userName, password), Host: host, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// URLFor returns a URL for userName with password on database db.
func (s *Server) URLFor(userName, password, db string) string { return s.url(userName, password, db) }

// NewDatabase creates a fresh, empty database owned by a fresh login role
// and returns a URL for that role: tests never share tables.
func (s *Server) NewDatabase(ctx context.Context) (string, error) {
	n := s.dbs.Add(1)
	name := fmt.Sprintf("t%d_%d_%s", os.Getpid(), n, randHex(3))
	pass := randHex(12)
	conn, err := pgx.Connect(ctx, s.SuperURL())
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	for _, q := range []string{
		fmt.Sprintf(`CREATE ROLE %s LOGIN PASSWORD '%s'`, name, pass),
		fmt.Sprintf(`CREATE DATABASE %s OWNER %s`, name, name),
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return "", fmt.Errorf("pgtest: %s: %w", strings.Fields(q)[1], err)
		}
	}
	return s.url(name, pass, name), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// binDir finds initdb and pg_ctl: on PATH, or Debian's versioned folders.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", ErrMissing
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Options say how Start runs the server.
type Options struct {
	// Durable keeps fsync, synchronous_commit and full_page_writes on, as
	// a user's server runs: a transaction whose COMMIT returned is on disk.
	// Off (tests), PostgreSQL writes when it likes: faster, and nothing
	// survives a crash of the machine.
	Durable bool
	// Settings are more "name=value" server settings (passed as -c), such
	// as shared_preload_libraries=pg_stat_statements to profile.
	Settings []string
}

// Start initialises a new cluster and starts it (at most about 30 s),
// not durable: see [Options].
func Start() (*Server, error) { return StartWith(Options{}) }

// StartWith is Start with options.
func StartWith(o Options) (*Server, error) {
	if u := os.Getenv("HUSH_TEST_PG_URL"); u != "" {
		pu, err := url.Parse(u)
		if err != nil {
			return nil, fmt.Errorf("HUSH_TEST_PG_URL: %w", err)
		}
		return &Server{external: pu}, nil
	}
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, bin: bin, password: randHex(12)}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs a 'postgres' user: %w", err)
		}
		s.asUser = "postgres"
	}
	dir, err := os.MkdirTemp("", "hush-pgtest-")
	if err != nil {
		return nil, err
	}
	s.dir = dir
	fail := func(err error) (*Server, error) {
		s.Stop()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "pw"), []byte(s.password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sock"), 0o700); err != nil {
		return fail(err)
	}
	if s.asUser != "" {
		if out, err := exec.Command("chown", "-R", s.asUser, dir).CombinedOutput(); err != nil {
			return fail(fmt.Errorf("pgtest: chown: %v: %s", err, out))
		}
	}
	initdb := []string{"-D", filepath.Join(dir, "data"), "-U", "postgres",
		"--pwfile=" + filepath.Join(dir, "pw"), "--auth-local=trust", "--auth-host=scram-sha-256",
		"-E", "UTF8", "--locale=C.UTF-8"}
	if !o.Durable {
		initdb = append(initdb, "-N") // no sync of the new cluster's files
	}
	if out, err := s.command(filepath.Join(bin, "initdb"), initdb...).CombinedOutput(); err != nil {
		return fail(fmt.Errorf("pgtest: initdb: %v\n%s", err, out))
	}
	var lastErr error
	for try := 0; try < 5; try++ {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		s.Port = port
		out, err := s.command(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(dir, "data"),
			"-l", filepath.Join(dir, "server.log"), "-w", "-t", "30", "-o", s.serverOpts(), "start").CombinedOutput()
		if err == nil {
			s.watch()
			return s, s.waitReady()
		}
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		lastErr = fmt.Errorf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	return fail(lastErr)
}

// serverOpts are the postgres command line's settings.
func (s *Server) serverOpts() string {
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c max_connections=300", s.Port, filepath.Join(s.dir, "sock"))
	if s.opts.Durable {
		// Spelled out, whatever a packaged postgresql.conf says.
		opts += " -c fsync=on -c synchronous_commit=on -c full_page_writes=on"
	} else {
		opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for _, kv := range s.opts.Settings {
		opts += " -c " + kv
	}
	return opts
}

// Durable reports whether the server runs with fsync, synchronous_commit
// and full_page_writes on (a server of HUSH_TEST_PG_URL: whatever it was
// started with, unknown here, so false).
func (s *Server) Durable() bool { return s.external == nil && s.opts.Durable }

func (s *Server) waitReady() error {
	deadline := time.Now().Add(15 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.SuperURL())
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("pgtest: server did not accept connections: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) command(name string, args ...string) *exec.Cmd {
	if s.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", s.asUser, "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// watchdogScript waits for the process $1 to end, then stops the cluster
// in $3 with pg_ctl ($2, run as user $5 when set) and removes its folder
// ($4). A test binary killed by `go test -timeout`, a signal or a crash
// never runs Stop; without this its PostgreSQL would run on, holding
// memory and a port, until the machine restarts.
const watchdogScript = `while kill -0 "$1" 2>/dev/null; do sleep 1; done
if [ -n "$5" ]; then runuser -u "$5" -- "$2" -D "$3" -m immediate -w stop; else "$2" -D "$3" -m immediate -w stop; fi
rm -rf "$4"`

// watch starts the watchdog: a shell of its own process group (a Ctrl-C
// meant for the tests does not stop it early), outliving this process.
// Where there is no sh, there is no watchdog: Stop still works.
func (s *Server) watch() {
	sh, err := exec.LookPath("sh")
	if err != nil {
		return
	}
	w := exec.Command(sh, "-c", watchdogScript, "pgtest-watchdog", strconv.Itoa(os.Getpid()),
		filepath.Join(s.bin, "pg_ctl"), filepath.Join(s.dir, "data"), s.dir, s.asUser)
	w.SysProcAttr = detached()
	if w.Start() == nil {
		s.watchdog = w
		go w.Wait() // reaped when Stop kills it
	}
}

// Stop shuts the server down and removes its folder.
func (s *Server) Stop() {
	if s == nil || s.dir == "" {
		return
	}
	if s.watchdog != nil {
		s.watchdog.Process.Kill()
		s.watchdog = nil
	}
	if _, err := os.Stat(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
		s.command(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop").Run()
	}
	os.RemoveAll(s.dir)
}

// Kill stops the server at once, as a crash or an outage would; Restart
// brings the same cluster back on the same port.
func (s *Server) Kill() error {
	out, err := s.command(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: stop: %v: %s", err, out)
	}
	return nil
}

// Restart starts a server stopped by Kill again.
func (s *Server) Restart() error {
	out, err := s.command(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"),
		"-l", filepath.Join(s.dir, "server.log"), "-w", "-t", "30", "-o", s.serverOpts(), "start").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgtest: restart: %v: %s", err, out)
	}
	return s.waitReady()
}

// ForTest starts a server for a package's tests, or returns nil and a
// reason to skip. With HUSH_TEST_REAL=1 a missing PostgreSQL is an error.
func ForTest() (*Server, string, error) { return ForTestWith(Options{}) }

// ForTestWith is ForTest with options.
func ForTestWith(o Options) (*Server, string, error) {
	s, err := StartWith(o)
	if err == nil {
		return s, "", nil
	}
	if errors.Is(err, ErrMissing) && !Real() {
		return nil, err.Error(), nil
	}
	return nil, "", err
}

// CPU is the CPU time (user and system) the server's processes have used
// so far: the postmaster, its live children (backends, WAL writer,
// checkpointer...) and the children it has reaped. ok is false where it
// cannot be read: not Linux (/proc), or a server of HUSH_TEST_PG_URL.
// Benchmarks read it before and after a run, to put the database's CPU
// beside the server's.
func (s *Server) CPU() (cpu time.Duration, ok bool) {
	if s == nil || s.dir == "" {
		return 0, false
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0, false
	}
	f, ok := procStat(pid)
	if !ok {
		return 0, false
	}
	// utime, stime, cutime, cstime: fields 14-17 of the line, 12-15 after
	// the command's closing parenthesis (from the state on).
	ticks := f[11] + f[12] + f[13] + f[14]
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil || child == pid {
			continue
		}
		if c, ok := procStat(child); ok && c[1] == int64(pid) {
			ticks += c[11] + c[12]
		}
	}
	// USER_HZ is 100 on Linux.
	return time.Duration(ticks) * (time.Second / 100), true
}

// procStat is /proc/PID/stat's fields after the command, as numbers
// (the state, field 0, is 0): [1] is the parent's pid, [11] and [12]
// utime and stime, [13] and [14] those of reaped children.
func procStat(pid int) ([]int64, bool) {
	st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	i := strings.LastIndexByte(string(st), ')')
	if i < 0 {
		return nil, false
	}
	fs := strings.Fields(string(st[i+1:]))
	if len(fs) < 15 {
		return nil, false
	}
	out := make([]int64, 15)
	for j := 1; j < 15; j++ {
		out[j], _ = strconv.ParseInt(fs[j], 10, 64)
	}
	return out, true
}
