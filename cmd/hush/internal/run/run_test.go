package run

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

// fakeVault is an in-memory Source: each name maps to its versions, the
// last being the current one.
type fakeVault struct {
	secrets map[string][]string
	dynamic map[string]bool // names of dynamic sources
	calls   int
}

func newFakeVault(kv ...string) *fakeVault {
	v := &fakeVault{secrets: map[string][]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		v.secrets[kv[i]] = append(v.secrets[kv[i]], kv[i+1])
	}
	return v
}

func (v *fakeVault) secret(name string, n int) *vault.Secret {
	vs := v.secrets[name]
	s := &vault.Secret{Name: name, Version: n, Head: len(vs), Value: []byte(vs[n-1])}
	if v.dynamic[name] {
		s.Type, s.Dynamic = vault.TypeDynamicPostgres, &vault.DynamicSource{Template: "GRANT r TO {{name}}", TTL: 1}
	}
	return s
}

func (v *fakeVault) Children(folder string) ([]*vault.Secret, error) {
	v.calls++
	var out []*vault.Secret
	for name, vs := range v.secrets {
		if vault.Folder(name) == folder {
			out = append(out, v.secret(name, len(vs)))
		}
	}
	slices.SortFunc(out, func(a, b *vault.Secret) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (v *fakeVault) GetVersion(name string, n int) (*vault.Secret, error) {
	v.calls++
	vs, ok := v.secrets[name]
	if !ok {
		return nil, errors.New("secret " + name + " not found")
	}
	if n == 0 {
		n = len(vs)
	}
	if n > len(vs) {
		return nil, errors.New("no such version")
	}
	return v.secret(name, n), nil
}

// shell is an executable the tests can name as the command.
const shell = "/bin/sh"

func build(t *testing.T, src Source, o Options) *Plan {
	t.Helper()
	if o.Command == nil {
		o.Command = []string{shell, "-c", "true"}
	}
	p, err := Build(src, o)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return p
}

func buildErr(t *testing.T, src Source, o Options) error {
	t.Helper()
	if o.Command == nil {
		o.Command = []string{shell, "-c", "true"}
	}
	p, err := Build(src, o)
	if err == nil {
		t.Fatalf("Build succeeded with env %q, want an error", p.Env)
	}
	return err
}

// lookup returns the value of k in a KEY=VALUE list, and whether it is set.
func lookup(env []string, k string) (string, bool) {
	for _, kv := range env {
		if key, v, _ := strings.Cut(kv, "="); key == k {
			return v, true
		}
	}
	return "", false
}

func wantVar(t *testing.T, env []string, k, want string) {
	t.Helper()
	got, ok := lookup(env, k)
	if !ok {
		t.Errorf("%s is not set; env %q", k, env)
	} else if got != want {
		t.Errorf("%s=%q, want %q", k, got, want)
	}
}

func wantErrContains(t *testing.T, err error, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not mention %q", err, p)
		}
	}
}

func TestBuildInjectsFolderByLastSegment(t *testing.T) {
	v := newFakeVault("app/dev/DB_URL", "postgres://dev", "app/dev/API_KEY", "k-123", "app/dev/sub/DEEP", "no", "app/OTHER", "no")
	p := build(t, v, Options{From: []string{"app/dev"}})
	wantVar(t, p.Env, "DB_URL", "postgres://dev")
	wantVar(t, p.Env, "API_KEY", "k-123")
	for _, k := range []string{"DEEP", "OTHER", "app/dev/DB_URL"} {
		if _, ok := lookup(p.Env, k); ok {
			t.Errorf("%s is set: only secrets directly in the folder are injected", k)
		}
	}
}

func TestBuildFolderWithTrailingSlash(t *testing.T) {
	v := newFakeVault("app/dev/TOKEN", "t0k3n")
	p := build(t, v, Options{From: []string{"app/dev/"}})
	wantVar(t, p.Env, "TOKEN", "t0k3n")
}

func TestBuildLaterFromWins(t *testing.T) {
	v := newFakeVault("app/common/DB", "common-db", "app/common/LOG", "info", "app/dev/DB", "dev-db")
	p := build(t, v, Options{From: []string{"app/common", "app/dev"}})
	wantVar(t, p.Env, "DB", "dev-db")
	wantVar(t, p.Env, "LOG", "info")
	p = build(t, v, Options{From: []string{"app/dev", "app/common"}})
	wantVar(t, p.Env, "DB", "common-db")
}

func TestBuildSecretsOverrideInherited(t *testing.T) {
	v := newFakeVault("app/dev/DB", "from-vault")
	p := build(t, v, Options{From: []string{"app/dev"}, Parent: []string{"DB=from-shell", "HOME=/home/u"}})
	wantVar(t, p.Env, "DB", "from-vault")
	wantVar(t, p.Env, "HOME", "/home/u")
}

func TestBuildPreserveEnvKeepsInherited(t *testing.T) {
	v := newFakeVault("app/dev/DB", "from-vault", "app/dev/NEW", "new-value")
	p := build(t, v, Options{From: []string{"app/dev"}, PreserveEnv: true, Parent: []string{"DB=from-shell"}})
	wantVar(t, p.Env, "DB", "from-shell")
	wantVar(t, p.Env, "NEW", "new-value")
	// An env-file line counts as inherited too.
	p = build(t, v, Options{From: []string{"app/dev"}, PreserveEnv: true, EnvFile: []byte("DB=from-file\n")})
	wantVar(t, p.Env, "DB", "from-file")
}

func TestBuildDropsHushPassphrases(t *testing.T) {
	v := newFakeVault("app/dev/X", "xvalue")
	p := build(t, v, Options{
		From:    []string{"app/dev"},
		Parent:  []string{"HUSH_PASSPHRASE=correct horse", "HUSH_NEW_PASSPHRASE=battery staple", "HUSH_VAULT=team"},
		EnvFile: []byte("PLAIN=1\n"),
	})
	for _, k := range []string{"HUSH_PASSPHRASE", "HUSH_NEW_PASSPHRASE"} {
		if _, ok := lookup(p.Env, k); ok {
			t.Errorf("%s reaches the child", k)
		}
	}
	for _, kv := range p.Env {
		if strings.Contains(kv, "correct horse") || strings.Contains(kv, "battery staple") {
			t.Errorf("a passphrase reaches the child: %q", kv)
		}
	}
	wantVar(t, p.Env, "HUSH_VAULT", "team")
}

func TestBuildMarksChildAndSortsEnv(t *testing.T) {
	v := newFakeVault("app/dev/MIDDLE", "mmmm", "app/dev/AAA", "aaaa")
	p := build(t, v, Options{From: []string{"app/dev"}, Parent: []string{"ZED=1", "HUSH_RUN=0", "B=2", "=junk", "noequals"}})
	wantVar(t, p.Env, "HUSH_RUN", "1")
	if !slices.IsSorted(p.Env) {
		t.Errorf("Env is not sorted: %q", p.Env)
	}
	want := []string{"AAA=aaaa", "B=2", "HUSH_RUN=1", "MIDDLE=mmmm", "ZED=1"}
	if !slices.Equal(p.Env, want) {
		t.Errorf("Env = %q, want %q", p.Env, want)
	}
}

func TestBuildWithoutVault(t *testing.T) {
	p := build(t, nil, Options{Parent: []string{"A=1"}, EnvFile: []byte("B=2\n")})
	want := []string{"A=1", "B=2", "HUSH_RUN=1"}
	if !slices.Equal(p.Env, want) {
		t.Errorf("Env = %q, want %q", p.Env, want)
	}
	if len(p.Secrets) != 0 {
		t.Errorf("Secrets = %q, want none", p.Secrets)
	}
	if p.Path != shell || !slices.Equal(p.Argv, []string{shell, "-c", "true"}) {
		t.Errorf("Path %q Argv %q", p.Path, p.Argv)
	}
}

func TestBuildResolvesReferences(t *testing.T) {
	v := newFakeVault("app/prod/DB", "db-v1", "app/prod/DB", "db-v2", "app/prod/DB", "db-v3", "TOKEN", "tok-root")
	p := build(t, v, Options{
		Parent:  []string{"DB=hush://app/prod/DB", "OLD_DB=hush://app/prod/DB?version=1", "PLAIN=hello"},
		EnvFile: []byte("# comment\nFROM_FILE=hush://TOKEN\nV2=\"hush://app/prod/DB?version=2\"\nLITERAL=plain value\n"),
	})
	wantVar(t, p.Env, "DB", "db-v3")
	wantVar(t, p.Env, "OLD_DB", "db-v1")
	wantVar(t, p.Env, "V2", "db-v2")
	wantVar(t, p.Env, "FROM_FILE", "tok-root")
	wantVar(t, p.Env, "LITERAL", "plain value")
	wantVar(t, p.Env, "PLAIN", "hello")
	for _, s := range []string{"db-v3", "db-v1", "db-v2", "tok-root"} {
		if !slices.ContainsFunc(p.Secrets, func(b []byte) bool { return string(b) == s }) {
			t.Errorf("Secrets %q lacks resolved value %q", p.Secrets, s)
		}
	}
}

func TestBuildEnvFileOverridesParent(t *testing.T) {
	p := build(t, nil, Options{Parent: []string{"A=parent"}, EnvFile: []byte("A=file\n")})
	wantVar(t, p.Env, "A", "file")
}

// The env-file expands ${A} to its own earlier keys, never to the
// inherited environment (docs/run.md).
func TestBuildEnvFileExpandsWithinTheFile(t *testing.T) {
	p := build(t, nil, Options{Parent: []string{"HOME=/home/x"}, EnvFile: []byte("A=x\nB=\"${A}-$HOME\"\n")})
	wantVar(t, p.Env, "B", "x-")
	wantVar(t, p.Env, "HOME", "/home/x")
}

func TestBuildUnknownReferenceNamesVariable(t *testing.T) {
	v := newFakeVault("app/prod/DB", "db")
	err := buildErr(t, v, Options{Parent: []string{"API_TOKEN=hush://app/prod/NOPE"}})
	wantErrContains(t, err, "API_TOKEN", "app/prod/NOPE")
	err = buildErr(t, v, Options{Parent: []string{"OLD=hush://app/prod/DB?version=7"}})
	wantErrContains(t, err, "OLD")
}

func TestBuildMalformedReferenceNamesVariable(t *testing.T) {
	v := newFakeVault("app/prod/DB", "db")
	for _, ref := range []string{"hush://app//DB", "hush://app/prod/DB?v=2", "hush://"} {
		err := buildErr(t, v, Options{Parent: []string{"MY_VAR=" + ref}})
		wantErrContains(t, err, "MY_VAR")
	}
	err := buildErr(t, v, Options{EnvFile: []byte("FILE_VAR=hush://a/b?version=0\n"), EnvFileName: ".env"})
	wantErrContains(t, err, "FILE_VAR")
}

func TestBuildReferenceWithoutVault(t *testing.T) {
	err := buildErr(t, nil, Options{Parent: []string{"DB=hush://app/prod/DB"}})
	wantErrContains(t, err, "DB", "vault")
}

func TestBuildEnvFileInvalidVariableName(t *testing.T) {
	for _, key := range []string{"my-key", "1ABC", "a.b"} {
		err := buildErr(t, nil, Options{EnvFile: []byte(key + "=value\n"), EnvFileName: "dev.env"})
		wantErrContains(t, err, "dev.env", key, "not a valid environment variable name")
	}
}

func TestBuildEnvFileSyntaxErrorNamesFile(t *testing.T) {
	err := buildErr(t, nil, Options{EnvFile: []byte("A=1\nno equals sign\n"), EnvFileName: "dev.env"})
	wantErrContains(t, err, "dev.env")
}

func TestBuildEmptyFolderIsAnError(t *testing.T) {
	v := newFakeVault("app/dev/sub/X", "deep-only", "app/prod/X", "x-prod")
	for _, f := range []string{"app/dev", "app/none"} {
		err := buildErr(t, v, Options{From: []string{"app/prod", f}})
		wantErrContains(t, err, f)
	}
}

func TestBuildBadFolderNameIsAnError(t *testing.T) {
	v := newFakeVault("app/dev/X", "xxxx")
	for _, f := range []string{"a//b", "../x", "a b"} {
		err := buildErr(t, v, Options{From: []string{f}})
		wantErrContains(t, err, f)
	}
}

func TestBuildSecretNameNotAVariableName(t *testing.T) {
	for _, name := range []string{"app/my-key", "app/1ST", "app/a.b"} {
		v := newFakeVault(name, "value1", "app/GOOD", "value2")
		err := buildErr(t, v, Options{From: []string{"app"}})
		wantErrContains(t, err, name, "not a valid environment variable name")
	}
}

func TestBuildNULValueIsAnError(t *testing.T) {
	const value = "bad\x00value"
	v := newFakeVault("app/dev/BIN", value, "app/ref/BIN", value)
	for _, o := range []Options{
		{From: []string{"app/dev"}},
		{Parent: []string{"X=hush://app/ref/BIN"}},
		{EnvFile: []byte(`X="bad\x00value"` + "\n"), EnvFileName: ".env"},
	} {
		err := buildErr(t, v, o)
		wantErrContains(t, err, "NUL")
		if strings.Contains(err.Error(), "bad") {
			t.Errorf("error %q shows the value", err)
		}
	}
}

func TestBuildSecretsHoldEveryInjectedValue(t *testing.T) {
	v := newFakeVault("app/common/DB", "common-db", "app/dev/DB", "dev-db", "app/dev/KEY", "dev-key", "REF", "ref-value")
	p := build(t, v, Options{
		From:        []string{"app/common", "app/dev"},
		Parent:      []string{"R=hush://REF", "KEY=mine"},
		PreserveEnv: true,
	})
	for _, s := range []string{"common-db", "dev-db", "dev-key", "ref-value"} {
		if !slices.ContainsFunc(p.Secrets, func(b []byte) bool { return string(b) == s }) {
			t.Errorf("Secrets %q lacks %q", p.Secrets, s)
		}
	}
	// Every value in the environment that came from the vault is masked.
	for _, kv := range p.Env {
		_, val, _ := strings.Cut(kv, "=")
		for name, vs := range v.secrets {
			if val == vs[len(vs)-1] && !slices.ContainsFunc(p.Secrets, func(b []byte) bool { return bytes.Equal(b, []byte(val)) }) {
				t.Errorf("%s (value of %s) is in the environment but not in Secrets", kv, name)
			}
		}
	}
}

// executable writes a script into a fresh folder and returns both.
func executable(t *testing.T, name string, mode os.FileMode) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestBuildFindsCommandInChildPATH(t *testing.T) {
	dir, path := executable(t, "hush-test-tool", 0o755)
	empty := t.TempDir()
	p := build(t, nil, Options{Parent: []string{"PATH=" + empty + ":" + dir}, Command: []string{"hush-test-tool", "arg"}})
	if p.Path != path {
		t.Errorf("Path = %q, want %q", p.Path, path)
	}
	if !slices.Equal(p.Argv, []string{"hush-test-tool", "arg"}) {
		t.Errorf("Argv = %q", p.Argv)
	}
}

func TestBuildUsesPATHFromVault(t *testing.T) {
	dir, path := executable(t, "hush-test-tool", 0o755)
	v := newFakeVault("app/dev/PATH", dir)
	p := build(t, v, Options{From: []string{"app/dev"}, Parent: []string{"PATH=/nonexistent"}, Command: []string{"hush-test-tool"}})
	if p.Path != path {
		t.Errorf("Path = %q, want %q (looked up in the child's PATH)", p.Path, path)
	}
}

func TestBuildSkipsUnusablePATHEntries(t *testing.T) {
	plain, _ := executable(t, "hush-test-tool", 0o644)
	folder := t.TempDir()
	if err := os.Mkdir(filepath.Join(folder, "hush-test-tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir, path := executable(t, "hush-test-tool", 0o755)
	p := build(t, nil, Options{Parent: []string{"PATH=" + plain + ":" + folder + ":" + dir}, Command: []string{"hush-test-tool"}})
	if p.Path != path {
		t.Errorf("Path = %q, want %q", p.Path, path)
	}
}

func TestBuildCommandNotFound(t *testing.T) {
	dir, _ := executable(t, "other", 0o755)
	err := buildErr(t, nil, Options{Parent: []string{"PATH=" + dir}, Command: []string{"hush-no-such-command"}})
	wantErrContains(t, err, "command not found", "hush-no-such-command")
	// Not looked up in hush's own PATH: the child's has nothing.
	err = buildErr(t, nil, Options{Command: []string{"sh"}})
	wantErrContains(t, err, "command not found", "sh")
	err = buildErr(t, nil, Options{Command: []string{filepath.Join(dir, "missing")}})
	wantErrContains(t, err, "command not found")
}

func TestBuildCommandNotExecutable(t *testing.T) {
	_, path := executable(t, "script.sh", 0o644)
	err := buildErr(t, nil, Options{Command: []string{path}})
	wantErrContains(t, err, path, "not executable")
}

func TestBuildCommandIsAFolder(t *testing.T) {
	dir := t.TempDir()
	err := buildErr(t, nil, Options{Command: []string{dir}})
	wantErrContains(t, err, dir, "folder")
}

func TestBuildEmptyCommand(t *testing.T) {
	for _, cmd := range [][]string{nil, {}} {
		_, err := Build(nil, Options{Command: cmd})
		if err == nil {
			t.Fatalf("Build with command %q: no error", cmd)
		}
		wantErrContains(t, err, "no command")
	}
}

func TestNeedsVault(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		want bool
	}{
		{"nothing", Options{Parent: []string{"A=1"}}, false},
		{"plain env file", Options{EnvFile: []byte("A=1\nB=hush:/not-quite\n")}, false},
		{"from", Options{From: []string{"app/dev"}}, true},
		{"reference in parent", Options{Parent: []string{"A=hush://app/DB"}}, true},
		{"reference in env file", Options{EnvFile: []byte("A=hush://app/DB\n")}, true},
		{"reference only in a passphrase variable", Options{Parent: []string{"HUSH_PASSPHRASE=hush://x"}}, false},
	} {
		got, err := tc.o.NeedsVault()
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
		} else if got != tc.want {
			t.Errorf("%s: NeedsVault = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNeedsVaultBadEnvFile(t *testing.T) {
	o := Options{EnvFile: []byte("my-key=1\n"), EnvFileName: "x.env"}
	if _, err := o.NeedsVault(); err == nil {
		t.Fatal("no error for an env file Build refuses")
	}
}

func TestBuildDoesNotChangeOptions(t *testing.T) {
	parent := []string{"A=hush://REF", "HUSH_PASSPHRASE=pw"}
	cmd := []string{shell, "-c", "true"}
	v := newFakeVault("REF", "refvalue")
	p := build(t, v, Options{Parent: parent, Command: cmd})
	if parent[0] != "A=hush://REF" || parent[1] != "HUSH_PASSPHRASE=pw" {
		t.Errorf("Parent changed: %q", parent)
	}
	p.Argv[0] = "changed"
	if cmd[0] != shell {
		t.Error("Plan.Argv shares its array with Options.Command")
	}
}

// hush's own passphrase variables cannot be smuggled in through an env-file
// or a secret's name.
func TestBuildRefusesOwnVariables(t *testing.T) {
	exe := t.TempDir()
	o := Options{Parent: []string{"PATH=/usr/bin:/bin"}, Command: []string{"true"}, EnvFile: []byte("HUSH_PASSPHRASE=x\n"), EnvFileName: "t.env"}
	if _, err := Build(nil, o); err == nil || !strings.Contains(err.Error(), "HUSH_PASSPHRASE is hush's own") {
		t.Errorf("env-file HUSH_PASSPHRASE: %v", err)
	}
	_ = exe
}

func TestBuildNeverInjectsDynamicSources(t *testing.T) {
	v := newFakeVault("db/prod", "postgres://admin:ADMIN-PW@db/shop", "db/LOG", "info", "only/src", "postgres://admin:ADMIN-PW@db/x")
	v.dynamic = map[string]bool{"db/prod": true, "only/src": true}
	p := build(t, v, Options{From: []string{"db"}})
	wantVar(t, p.Env, "LOG", "info")
	if _, ok := lookup(p.Env, "prod"); ok || strings.Contains(strings.Join(p.Env, "\n"), "ADMIN-PW") {
		t.Errorf("a dynamic source was injected: %q", p.Env)
	}
	if !slices.Equal(p.Skipped, []string{"db/prod"}) || slices.Contains(p.Names, "db/prod") {
		t.Errorf("skipped %q, names %q", p.Skipped, p.Names)
	}
	err := buildErr(t, v, Options{From: []string{"only"}})
	wantErrContains(t, err, "only dynamic sources", "--dynamic")
	err = buildErr(t, v, Options{Parent: []string{"DB=hush://db/prod"}})
	wantErrContains(t, err, "DB refers to db/prod, a dynamic source", "--dynamic DB=db/prod")
	if strings.Contains(err.Error(), "ADMIN-PW") {
		t.Errorf("error shows the admin URL: %v", err)
	}
}

func TestPlanSetenv(t *testing.T) {
	v := newFakeVault("app/DB", "from-vault")
	p := build(t, v, Options{From: []string{"app"}, Parent: []string{"A=1"}})
	if err := p.Setenv("DB", "postgres://hush_1:pw@h/d"); err != nil {
		t.Fatal(err)
	}
	wantVar(t, p.Env, "DB", "postgres://hush_1:pw@h/d")
	wantVar(t, p.Env, "A", "1")
	if !slices.IsSorted(p.Env) || !slices.ContainsFunc(p.Secrets, func(b []byte) bool { return string(b) == "postgres://hush_1:pw@h/d" }) {
		t.Errorf("env %q, secrets %q", p.Env, p.Secrets)
	}
	for _, bad := range []string{"1X", "A-B", "", "HUSH_PASSPHRASE"} {
		if err := p.Setenv(bad, "v"); err == nil {
			t.Errorf("Setenv(%q) accepted", bad)
		}
	}
	if err := p.Setenv("X", "a\x00b"); err == nil {
		t.Error("a NUL accepted")
	}
}
