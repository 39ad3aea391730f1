package machine

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/usage"
	"github.com/hush-secrets/hush/sync/client"
	"github.com/hush-secrets/hush/vault"
)

func TestCheckListen(t *testing.T) {
	for _, c := range []struct {
		addr          string
		tls, insecure bool
		ok            bool
	}{
		{"127.0.0.1:8200", false, false, true},
		{"[::1]:8200", false, false, true},
		{"localhost:8200", false, false, true},
		{"0.0.0.0:8200", false, false, false},
		{":8200", false, false, false},
		{"10.0.0.5:8200", false, false, false},
		{"0.0.0.0:8200", true, false, true},
		{"0.0.0.0:8200", false, true, true},
		{"nonsense", true, true, false},
	} {
		err := CheckListen(c.addr, c.tls, c.insecure)
		if (err == nil) != c.ok {
			t.Errorf("%s tls=%v insecure=%v: %v", c.addr, c.tls, c.insecure, err)
		}
		if err != nil && c.addr != "nonsense" && !errors.Is(err, ErrNonLoopback) {
			t.Errorf("%s: %v", c.addr, err)
		}
	}
}

// The handler: bearer auth before anything, names and versions, a value
// that is not text as value_base64, and nothing served once the machine
// is gone.
func TestAgentHandler(t *testing.T) {
	v, err := vault.CreateMemory()
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	for _, val := range []string{"one", "two"} {
		if _, err := v.Set("app/prod/KEY", []byte(val), vault.Update{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Set("app/prod/BIN", []byte{0xff, 0x00}, vault.Update{}); err != nil {
		t.Fatal(err)
	}
	// A dynamic source: its admin URL, at every version, is refused.
	typ := vault.TypeDynamicPostgres
	src := &vault.DynamicSource{Template: "GRANT r TO {{name}}", TTL: time.Hour}
	if _, err := v.Set("app/prod/db", []byte("postgres://admin:ADMINPW1@127.0.0.1:5/db"), vault.Update{Type: &typ, Dynamic: src}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/prod/db", []byte("postgres://admin:ADMINPW2@127.0.0.1:5/db"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	a := &Agent{o: AgentOptions{Auth: []byte("0123456789abcdef-bearer")}, serve: &view{v: v}}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	get := func(path, bearer string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	good := "0123456789abcdef-bearer"
	for _, c := range []struct {
		path, bearer string
		code         int
		body         string
	}{
		{"/v1/secrets/app/prod/KEY", "", 401, "bearer token"},
		{"/v1/secrets/app/prod/KEY", "0123456789abcdef-bearex", 401, "bearer token"},
		{"/v1/secrets/app%2Fprod%2FNOPE", good, 404, "no secret app/prod/NOPE"},
		{"/v1/secrets/app/prod/KEY", good, 200, `{"value":"two","version":2}`},
		{"/v1/secrets/app%2Fprod%2FKEY", good, 200, `{"value":"two","version":2}`},
		{"/v1/secrets/app/prod/KEY?version=1", good, 200, `{"value":"one","version":1}`},
		{"/v1/secrets/app/prod/KEY?version=", good, 200, `{"value":"two","version":2}`},
		{"/v1/secrets/app/prod/KEY?version=x", good, 400, "version must be"},
		{"/v1/secrets/app/prod/KEY?version=7", good, 404, "no version 7 of app/prod/KEY here: the agent holds version 2"},
		{"/v1/secrets/app/prod/NOPE?version=7", good, 404, "no secret app/prod/NOPE"},
		{"/v1/secrets/app/prod/BIN", good, 200, `{"value_base64":"/wA=","version":1}`},
		{"/v1/secrets/app/prod/db", good, 403, "app/prod/db is a dynamic source: the agent never serves its admin URL"},
		{"/v1/secrets/app/prod/db?version=1", good, 403, "dynamic source"},
		{"/v1/secrets/app/prod/a%20b", good, 400, ""},
		{"/v1/other", good, 404, "serves GET /v1/secrets/NAME"},
		{"/healthz", "", 200, "ok"},
	} {
		code, body := get(c.path, c.bearer)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("GET %s: %d %s, want %d %s", c.path, code, body, c.code, c.body)
		}
		if strings.Contains(body, "ADMINPW") {
			t.Errorf("GET %s: the admin URL was served: %s", c.path, body)
		}
		if code == 200 && strings.HasPrefix(c.path, "/v1/") {
			var s Secret
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				t.Errorf("GET %s: %v", c.path, err)
			}
		}
	}
	// A token with scopes: a name outside them is not found, and says why.
	a.o.Token = &client.Token{Scopes: []string{"app/prod"}}
	if code, body := get("/v1/secrets/app/dev/KEY", good); code != 404 || !strings.Contains(body, "not in this token's scopes: app/prod only") {
		t.Fatalf("a name outside the token's scopes: %d %s", code, body)
	}
	if code, _ := get("/v1/secrets/app/prod/KEY", good); code != 200 {
		t.Fatalf("a name in the token's scope: %d", code)
	}
	a.gone = &goneError{"machine removed"}
	if code, body := get("/v1/secrets/app/prod/KEY", good); code != 503 || strings.Contains(body, "two") {
		t.Fatalf("after removal: %d %s", code, body)
	}
	// Unauthenticated: it names nothing (server, machine, what failed).
	if code, body := get("/healthz", ""); code != 503 || body != Unhealthy+"\n" {
		t.Fatalf("healthz after removal: %d %q, want 503 %q", code, body, Unhealthy)
	}
	a.gone, a.lastErr = nil, errors.New("failed to reach https://team.example:8443 as machine k8s-prod")
	if code, body := get("/healthz", ""); code != 200 || !strings.HasPrefix(body, "degraded: ") || strings.Contains(body, "team.example") || strings.Contains(body, "k8s-prod") {
		t.Fatalf("healthz while syncs fail: %d %q", code, body)
	}
}

// Without a machine token the agent cannot start: a usage error saying
// where one comes from.
func TestPrepareAgentNeedsAToken(t *testing.T) {
	none := func(string) string { return "" }
	_, err := PrepareAgent(none, "", "", AgentOptions{Listen: "127.0.0.1:0"}, t.Logf)
	if !usage.Is(err) || !strings.Contains(err.Error(), "set HUSH_TOKEN or give --token-file") {
		t.Fatalf("PrepareAgent without a token: %v", err)
	}
	withBad := func(k string) string { return map[string]string{TokenVar: "not a token"}[k] }
	if _, err := PrepareAgent(withBad, "", "", AgentOptions{Listen: "127.0.0.1:0"}, t.Logf); err == nil || usage.Is(err) {
		t.Fatalf("PrepareAgent with a damaged token: %v, want the token's own error", err)
	}
}
