package dynamic

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "test.db"), []byte("correct horse"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func addSource(t testing.TB, v *vault.Vault, name, adminURL, tmpl string, ttl time.Duration) *Source {
	t.Helper()
	typ := vault.TypeDynamicPostgres
	if _, err := v.Set(name, []byte(adminURL), vault.Update{Type: &typ, Dynamic: &vault.DynamicSource{Template: tmpl, TTL: ttl}}); err != nil {
		t.Fatal(err)
	}
	s, err := v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	src, err := NewSource(s)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

type auditLog []string

func (a *auditLog) record(action string, names []string, detail string, err error) {
	res := "ok"
	if err != nil {
		res = err.Error()
	}
	*a = append(*a, action+" "+strings.Join(names, ",")+" "+detail+" "+res)
}

func newManager(v *vault.Vault, log *auditLog) *Manager {
	m := NewManager(v)
	m.ConnectTimeout = 3 * time.Second
	m.Record = log.record
	return m
}

func TestGrantAndRelease(t *testing.T) {
	f := newFixture(t, true)
	v := newVault(t)
	var log auditLog
	m := newManager(v, &log)
	src := addSource(t, v, "db/prod", f.adminURL, "GRANT SELECT ON allowed TO {{name}}", time.Hour)
	ctx := context.Background()
	g, err := m.Grant(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	g2, err := m.Grant(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if g.Login.Role == g2.Login.Role || g.Login.Password == g2.Login.Password {
		t.Fatal("two grants gave the same login")
	}
	leases, err := v.Leases()
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != 2 || leases[0].State != vault.LeaseActive || leases[0].Role != g.Login.Role ||
		!leases[0].Expires.Equal(g.Login.Expires) || leases[0].PID != os.Getpid() || leases[0].AdminURL != f.adminURL {
		t.Fatalf("recorded leases %+v", leases)
	}
	if stale, why := m.Stale(leases[0], time.Now()); stale {
		t.Errorf("own lease is stale: %s", why)
	}
	for _, gr := range []*Grant{g, g2} {
		if err := m.Release(ctx, gr.Lease); err != nil {
			t.Fatal(err)
		}
		if hushRoles(t)[gr.Login.Role] {
			t.Errorf("role %s left after Release", gr.Login.Role)
		}
	}
	if leases, _ := v.Leases(); len(leases) != 0 {
		t.Errorf("leases left: %+v", leases)
	}
	want := []string{"lease db/prod," + g.Login.Role + " ", "lease db/prod," + g2.Login.Role + " ", "lease-drop db/prod," + g.Login.Role + "  ok", "lease-drop db/prod," + g2.Login.Role + "  ok"}
	if len(log) != 4 {
		t.Fatalf("audit %q", log)
	}
	for i, w := range want {
		if !strings.HasPrefix(log[i], w) {
			t.Errorf("audit %d = %q, want %q...", i, log[i], w)
		}
	}
	if !strings.Contains(log[0], "expires ") || strings.Contains(strings.Join(log, "\n"), g.Login.Password) {
		t.Errorf("audit %q", log)
	}
	u, _ := url.Parse(f.adminURL)
	pw, _ := u.User.Password()
	if strings.Contains(strings.Join(log, "\n"), pw) {
		t.Error("the audit holds the admin password")
	}
}

func TestGrantFailureLeavesNothing(t *testing.T) {
	f := newFixture(t, true)
	v := newVault(t)
	var log auditLog
	m := newManager(v, &log)
	before := hushRoles(t)
	ctx := context.Background()
	bad := addSource(t, v, "db/bad", f.adminURL, "GRANT SELECT ON allowed TO {{name}}; GRANT no_such_role TO {{name}}", time.Hour)
	if _, err := m.Grant(ctx, bad); !errors.Is(err, ErrTemplate) {
		t.Fatalf("err = %v", err)
	}
	u, _ := url.Parse(f.adminURL)
	u.Host = "127.0.0.1:1"
	down := addSource(t, v, "db/down", u.String(), "GRANT SELECT ON allowed TO {{name}}", time.Hour)
	if _, err := m.Grant(ctx, down); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
	if leases, _ := v.Leases(); len(leases) != 0 {
		t.Errorf("failed grants left leases: %+v", leases)
	}
	noNewRoles(t, before)
	if len(log) != 2 || !strings.Contains(log[0], "no_such_role") || !strings.Contains(log[1], "connection refused") {
		t.Errorf("audit %q", log)
	}
}

// deadPID returns the pid of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

func TestCleanupDropsOnlyLeftovers(t *testing.T) {
	f := newFixture(t, true)
	v := newVault(t)
	var log auditLog
	m := newManager(v, &log)
	src := addSource(t, v, "db/prod", f.adminURL, "GRANT SELECT ON allowed TO {{name}}", time.Hour)
	ctx := context.Background()
	grant := func(change func(l *vault.Lease)) *vault.Lease {
		g, err := m.Grant(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		change(g.Lease)
		if err := v.PutLease(g.Lease); err != nil {
			t.Fatal(err)
		}
		return g.Lease
	}
	parent := os.Getppid()
	parentStart, _ := processStart(parent)
	deadHush := grant(func(l *vault.Lease) { l.PID = deadPID(t) })
	reusedPID := grant(func(l *vault.Lease) { l.PID, l.PIDStart = parent, parentStart+1 })
	running := grant(func(l *vault.Lease) { l.PID, l.PIDStart = parent, parentStart })
	runningExpired := grant(func(l *vault.Lease) {
		l.PID, l.PIDStart, l.Expires = parent, parentStart, time.Now().Add(-time.Hour)
	})
	elsewhereExpired := grant(func(l *vault.Lease) { l.Host, l.Expires = "another-machine", time.Now().Add(-time.Minute) })
	elsewhere := grant(func(l *vault.Lease) { l.Host = "another-machine" })
	creating := grant(func(l *vault.Lease) { l.State, l.PID = vault.LeaseCreating, deadPID(t) })

	out, err := m.Cleanup(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	dropped := map[string]string{}
	for _, o := range out {
		if o.Err != nil {
			t.Errorf("cleanup of %s: %v", o.Lease.Role, o.Err)
		}
		dropped[o.Lease.Role] = o.Reason
	}
	for _, l := range []*vault.Lease{deadHush, reusedPID, elsewhereExpired, creating} {
		if _, ok := dropped[l.Role]; !ok || hushRoles(t)[l.Role] {
			t.Errorf("left-over lease %+v was not dropped", l)
		}
	}
	for _, l := range []*vault.Lease{running, runningExpired, elsewhere} {
		if _, ok := dropped[l.Role]; ok || !hushRoles(t)[l.Role] {
			t.Errorf("lease %+v of a running hush was dropped", l)
		}
	}
	if !strings.Contains(dropped[deadHush.Role], "is gone") || !strings.Contains(dropped[elsewhereExpired.Role], "expired") {
		t.Errorf("reasons %q", dropped)
	}
	leases, _ := v.Leases()
	if len(leases) != 3 {
		t.Errorf("%d leases left, want 3", len(leases))
	}
	// Everything, whoever holds it (revoke --all).
	out, err = m.Cleanup(ctx, func(*vault.Lease) (bool, string) { return true, "revoked" })
	if err != nil || len(out) != 3 {
		t.Fatalf("%d, %v", len(out), err)
	}
	if leases, _ := v.Leases(); len(leases) != 0 {
		t.Errorf("leases left: %+v", leases)
	}
}

func TestReleaseFailureKeepsLeaseAndRetries(t *testing.T) {
	f := newFixture(t, true)
	v := newVault(t)
	var log auditLog
	m := newManager(v, &log)
	src := addSource(t, v, "db/prod", f.adminURL, "GRANT SELECT ON allowed TO {{name}}", time.Hour)
	ctx := context.Background()
	g, err := m.Grant(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	// The recorded admin URL stops working: the lease stays, with the error.
	good := g.Lease.AdminURL
	u, _ := url.Parse(good)
	u.Host = "127.0.0.1:1"
	g.Lease.AdminURL = u.String()
	if err := m.Release(ctx, g.Lease); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v", err)
	}
	leases, _ := v.Leases()
	if len(leases) != 1 || !strings.Contains(leases[0].LastError, "connection refused") || !hushRoles(t)[g.Login.Role] {
		t.Fatalf("after a failed release: %+v", leases)
	}
	// The admin password was changed since the lease: the source's current
	// URL, read from the vault, is used for the same server.
	u, _ = url.Parse(good)
	u.User = url.UserPassword(u.User.Username(), "an-old-password")
	leases[0].AdminURL = u.String()
	if err := v.PutLease(leases[0]); err != nil {
		t.Fatal(err)
	}
	out, err := m.Cleanup(ctx, func(*vault.Lease) (bool, string) { return true, "test" })
	if err != nil || len(out) != 1 || out[0].Err != nil {
		t.Fatalf("cleanup: %+v, %v", out, err)
	}
	if hushRoles(t)[g.Login.Role] {
		t.Error("role left")
	}
	if leases, _ := v.Leases(); len(leases) != 0 {
		t.Errorf("leases left: %+v", leases)
	}
}

func TestNewSourceRefusesOtherSecrets(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("app/DB", []byte("postgres://a:b@h/d"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	s, _ := v.Get("app/DB")
	if _, err := NewSource(s); err == nil || !strings.Contains(err.Error(), "not a dynamic source") {
		t.Fatalf("err = %v", err)
	}
}

// The views of `dynamic ls`, `dynamic leases` and `dynamic forget`, which
// need no database: sources with their lease counts, leases with whether
// they are left over, and forgetting one.
func TestSourcesLeasesAndForget(t *testing.T) {
	v := newVault(t)
	addSource(t, v, "db/a", "postgres://admin:pw@127.0.0.1:1/app", "GRANT x TO {{name}}", time.Hour)
	addSource(t, v, "db/b", "postgres://admin:pw@127.0.0.1:1/app", "GRANT x TO {{name}}", time.Hour)
	if _, err := v.Set("app/PLAIN", []byte("x"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	var log auditLog
	m := newManager(v, &log)
	now := time.Now()
	mine := &vault.Lease{Source: "db/a", State: vault.LeaseActive, Role: "hush_0000000000000001", Server: "127.0.0.1:1",
		AdminURL: "postgres://admin:pw@127.0.0.1:1/app", Created: now, Expires: now.Add(time.Hour), Host: m.host, PID: m.pid, PIDStart: m.start}
	gone := *mine
	gone.Role, gone.PID, gone.ID = "hush_0000000000000002", 1<<22+1, ""
	for _, l := range []*vault.Lease{mine, &gone} {
		if err := v.PutLease(l); err != nil {
			t.Fatal(err)
		}
	}
	srcs, err := m.Sources()
	if err != nil || len(srcs) != 2 || srcs[0].Name != "db/a" || srcs[0].Leases != 2 || srcs[1].Leases != 0 {
		t.Fatalf("sources: %+v, %v", srcs, err)
	}
	ls, err := m.Leases(now)
	if err != nil || len(ls) != 2 {
		t.Fatalf("leases: %+v, %v", ls, err)
	}
	for _, l := range ls {
		if want := l.Role == gone.Role; l.LeftOver != want {
			t.Errorf("%s: left over %v (%s), want %v", l.Role, l.LeftOver, l.Why, want)
		}
	}
	l, err := m.Forget(gone.Role)
	if err != nil || l.Role != gone.Role {
		t.Fatalf("forget: %+v, %v", l, err)
	}
	if _, err := m.Forget(gone.Role); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("forget again: %v", err)
	}
	if srcs, _ := m.Sources(); srcs[0].Leases != 1 {
		t.Errorf("after forget: %+v", srcs)
	}
	if len(log) != 1 || !strings.HasPrefix(log[0], "lease-forget db/a,"+gone.Role) {
		t.Errorf("audit: %q", log)
	}
}

func BenchmarkGrantAndRelease(b *testing.B) {
	f := newFixture(b, true)
	v := newVault(b)
	m := NewManager(v)
	src := addSource(b, v, "db/prod", f.adminURL, "GRANT SELECT ON allowed TO {{name}}", time.Hour)
	ctx := context.Background()
	for b.Loop() {
		g, err := m.Grant(ctx, src)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Release(ctx, g.Lease); err != nil {
			b.Fatal(err)
		}
	}
}
