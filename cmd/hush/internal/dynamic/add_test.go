package dynamic

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/vault"
)

func TestAddStoresASourceAndNeverTakesAnotherSecretsName(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("app/API_KEY", []byte("k"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	if err := Available(v, "app/API_KEY"); err == nil || !strings.Contains(err.Error(), "choose another name") {
		t.Fatalf("Available over a plain secret: %v", err)
	}
	if err := Available(v, "db/prod"); err != nil {
		t.Fatalf("Available on a free name: %v", err)
	}
	tmpl, err := ParseTemplate("GRANT app_readonly TO {{name}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Prepare([]byte("postgres://admin:pw@127.0.0.1:5432/app"), AddOptions{Template: tmpl, TTL: time.Millisecond}); err == nil {
		t.Error("a TTL under a second was taken")
	}
	if _, err := Prepare([]byte("mysql://admin:pw@127.0.0.1/app"), AddOptions{Template: tmpl, TTL: time.Hour}); err == nil {
		t.Error("a URL that is not PostgreSQL's was taken")
	}
	p, err := Prepare([]byte("postgres://admin:pw@127.0.0.1:5432/app"), AddOptions{Template: tmpl, TTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	added, err := p.Add(v, "db/prod")
	if err != nil {
		t.Fatal(err)
	}
	if !added.Created || strings.Contains(added.Server, "pw") {
		t.Errorf("Added = %+v", added)
	}
	s, err := v.Get("db/prod")
	if err != nil {
		t.Fatal(err)
	}
	if !s.IsDynamic() || s.Dynamic.Template != tmpl.String() || s.Dynamic.TTL != 15*time.Minute {
		t.Errorf("stored %+v", s.Meta)
	}
	if err := Available(v, "db/prod"); err != nil {
		t.Errorf("a source cannot be updated: %v", err)
	}
	// A check that cannot connect stores nothing, and says it was the check.
	p, err = Prepare([]byte("postgres://admin:pw@127.0.0.1:1/app?connect_timeout=1"), AddOptions{Template: tmpl, TTL: time.Hour, Check: true})
	if err != nil {
		t.Fatal(err)
	}
	var ce *CheckError
	if _, err := p.Add(v, "db/other"); !errors.As(err, &ce) {
		t.Fatalf("check against a closed port: %v", err)
	}
	if _, err := v.Get("db/other"); !errors.Is(err, vault.ErrNotFound) {
		t.Errorf("a failed check stored the source: %v", err)
	}
}

func TestAddAuditedAsksForTheURLOnlyForAFreeNameAndRecordsTheResult(t *testing.T) {
	v := newVault(t)
	if _, err := v.Set("app/API_KEY", []byte("k"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	tmpl, err := ParseTemplate("GRANT app_readonly TO {{name}}")
	if err != nil {
		t.Fatal(err)
	}
	o := AddOptions{Template: tmpl, TTL: 15 * time.Minute}
	asked := 0
	url := func() ([]byte, error) { asked++; return []byte("postgres://admin:pw@127.0.0.1:5432/app"), nil }
	var logged []string
	record := func(v *vault.Vault, action string, names []string, result error) error {
		logged = append(logged, action+" "+strings.Join(names, ","))
		return v.Record(action, names, result)
	}
	if _, err := AddAudited(v, "app/API_KEY", o, url, record); err == nil || asked != 0 {
		t.Fatalf("over a plain secret: %v, the URL asked %d times", err, asked)
	}
	said, err := AddAudited(v, "db/prod", o, url, record)
	if err != nil || said != "added dynamic source db/prod: postgres://admin:xxxxx@127.0.0.1:5432/app, logins valid for 15m" {
		t.Fatalf("AddAudited = %q, %v", said, err)
	}
	said, err = AddAudited(v, "db/prod", o, url, record)
	if err != nil || !strings.HasPrefix(said, "updated dynamic source db/prod:") {
		t.Fatalf("AddAudited again = %q, %v", said, err)
	}
	if strings.Join(logged, "; ") != "dynamic-add db/prod; dynamic-add db/prod" {
		t.Fatalf("recorded: %q", logged)
	}
}
