package importer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// newVault creates a real vault file at the KDF floor.
func newVault(t testing.TB) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "test.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func testCert(t testing.TB) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "shop.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Date(2031, 1, 2, 0, 0, 0, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestApply(t *testing.T) {
	v := newVault(t)
	cert := testCert(t)
	csv := "Title,Url,Username,Password,OTPAuth,Favorite,Archived,Tags,Notes\n" +
		"GitHub,https://github.com,wendy,sekrit-1,,false,false,dev,notes here\n" +
		"tls cert,,,\"" + cert + "\",,false,false,,\n"
	p := mustParse(t, OnePasswordCSV, []byte(csv), Options{})
	res, err := Apply(v, "moved/1p", p, false)
	if err != nil || len(res) != 2 || !res[0].Created {
		t.Fatalf("Apply = %v, %v", res, err)
	}
	s, err := v.Get("moved/1p/GitHub")
	if err != nil || string(s.Value) != "sekrit-1" || s.Type != vault.TypePassword || s.Note != "username: wendy\nurl: https://github.com\n\nnotes here" || len(s.Tags) != 1 {
		t.Fatalf("GitHub = %+v, %v", s, err)
	}
	c, err := v.Get("moved/1p/tls_cert")
	if err != nil || c.Type != vault.TypeCertificate || !strings.Contains(c.Summary, "shop.example.com") || c.NotAfter.Year() != 2031 {
		t.Fatalf("certificate = type %s summary %q end %v, %v", c.Type, c.Summary, c.NotAfter, err)
	}

	// Again: every name exists, all are named, nothing changes.
	_, err = Apply(v, "moved/1p", p, false)
	var ee *ExistsError
	if !errors.As(err, &ee) || !errors.Is(err, vault.ErrExists) || len(ee.Names) != 2 || !strings.Contains(err.Error(), "moved/1p/GitHub, moved/1p/tls_cert") {
		t.Fatalf("second Apply = %v", err)
	}
	// A partly new plan is refused whole: the new name is not written.
	p2 := mustParse(t, OnePasswordCSV, []byte(csv+"new one,,,sekrit-2,,false,false,,\n"), Options{})
	if _, err := Apply(v, "moved/1p", p2, false); !errors.As(err, &ee) || len(ee.Names) != 2 {
		t.Fatalf("Apply with two taken names = %v", err)
	}
	if _, err := v.Get("moved/1p/new_one"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("a refused import wrote new_one: %v", err)
	}
	// --overwrite adds a version where the value changed.
	p3 := mustParse(t, OnePasswordCSV, []byte(strings.Replace(csv, "sekrit-1", "sekrit-9", 1)), Options{})
	res, err = Apply(v, "moved/1p", p3, true)
	if err != nil || res[0].Version != 2 || res[1].Changed {
		t.Fatalf("overwrite = %+v, %v", res, err)
	}
	if s, _ := v.Get("moved/1p/GitHub"); string(s.Value) != "sekrit-9" {
		t.Fatalf("after overwrite GitHub = %q", s.Value)
	}

	// A name too long for the vault is refused before anything is written.
	long := &Plan{Items: []Item{{Name: "ok", Value: []byte("x"), Type: vault.TypePassword}, {Name: strings.Repeat("a/", 600) + "b", Value: []byte("x"), Type: vault.TypePassword}}}
	if _, err := Apply(v, "", long, false); err == nil {
		t.Fatal("an over-long name was accepted")
	}
	if _, err := v.Get("ok"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("a refused import wrote ok: %v", err)
	}
	if _, err := Apply(v, "bad//folder", p, false); err == nil {
		t.Fatal("a bad folder was accepted")
	}
	if _, err := Apply(v, "", &Plan{}, false); err == nil {
		t.Fatal("an empty plan was accepted")
	}
}
