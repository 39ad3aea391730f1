package runsession

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
)

func TestPrepareRefusesWhatCannotBeDoneAsUsage(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(envFile, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := run.Request{NoProject: true, Env: map[string]string{}, Command: []string{"true"}}
	for _, c := range []struct {
		name string
		r    Request
		want string
	}{
		{"nothing", Request{Request: base}, "nothing to inject"},
		{"watch without the vault", Request{Request: withEnvFile(base, envFile), Watch: "restart", WatchSignal: "TERM", WatchGrace: time.Second}, "--watch follows secrets from the vault"},
		{"token and dynamic", Request{Request: base, Dynamic: []string{"DB=db/prod"}, Token: "HUSH_TOKEN"}, "do not work with a machine token (HUSH_TOKEN)"},
		{"bad binding", Request{Request: base, Dynamic: []string{"db/prod"}}, "VAR=NAME"},
	} {
		_, err := Prepare(c.r)
		if !usage.Is(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a usage error with %q", c.name, err, c.want)
		}
	}
	p, err := Prepare(Request{Request: withEnvFile(base, envFile)})
	if err != nil || p.NeedsVault || p.Mode.Watch != nil {
		t.Fatalf("an env file without references: %+v, %v", p, err)
	}
	p, err = Prepare(Request{Request: base, Dynamic: []string{"DB=db/prod"}, Mask: true})
	if err != nil || !p.NeedsVault || len(p.Mode.Bindings) != 1 || !p.Mode.Mask {
		t.Fatalf("a --dynamic binding: %+v, %v", p, err)
	}
}

func withEnvFile(r run.Request, path string) run.Request {
	r.EnvFile = path
	return r
}
