package kinds

import (
	"crypto/ed25519"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// checkFuzzResult holds for any value: exactly one of Info and error, the
// error one of this package's (so no parser text from the value), the
// Summary one line, the Fields JSON.
func checkFuzzResult(t *testing.T, typ string, info *Info, err error, errPrefixes ...string) {
	t.Helper()
	if (info == nil) == (err == nil) {
		t.Fatalf("want exactly one of Info and error, got %v, %v", info, err)
	}
	if err != nil {
		msg := err.Error()
		ok := false
		for _, p := range errPrefixes {
			ok = ok || strings.HasPrefix(msg, p)
		}
		if !ok || strings.Contains(msg, "\n") {
			t.Fatalf("unexpected error text %q", msg)
		}
		return
	}
	if info.Kind != typ {
		t.Fatalf("Kind = %q", info.Kind)
	}
	if strings.ContainsAny(info.Summary, "\r\n\x1b") {
		t.Fatalf("Summary not one clean line: %q", info.Summary)
	}
	if _, err := json.Marshal(info); err != nil {
		t.Fatalf("Info does not marshal: %v", err)
	}
}

// FuzzInspectCertificate: no value panics; errors are this package's own.
// Seeds: testdata/fuzz/FuzzInspectCertificate and a chain built here.
func FuzzInspectCertificate(f *testing.F) {
	p := newPKI(f)
	f.Add(concat(p.leaf.pem(), p.ca.pem()))
	f.Add(p.expired.der)
	// Private key blocks are built here rather than kept in testdata, where
	// secret scanners would flag them.
	f.Add(concat(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not a key")}), p.leaf.pem()))
	f.Fuzz(func(t *testing.T, value []byte) {
		info, err := Inspect("certificate", value)
		checkFuzzResult(t, "certificate", info, err, "not a certificate: ", "too large to be a certificate")
		if info != nil {
			if !strings.Contains(info.Summary, ", ends ") || info.NotAfter.Location() != time.UTC {
				t.Fatalf("Summary %q, NotAfter %v", info.Summary, info.NotAfter)
			}
			if n, _ := info.Fields["chain_length"].(int); n < 1 {
				t.Fatalf("chain_length = %v", info.Fields["chain_length"])
			}
		}
	})
}

// FuzzInspectSSHKey: no value panics; errors are this package's own; a
// private key's Info holds no private material (checked for the key built
// here, whose seed is known).
// Seeds: testdata/fuzz/FuzzInspectSSHKey and keys built here.
func FuzzInspectSSHKey(f *testing.F) {
	seed := []byte("hush fuzz seed, not a real key..")
	priv := ed25519.NewKeyFromSeed(seed)
	for _, marshal := range []func() (*pem.Block, error){
		func() (*pem.Block, error) { return ssh.MarshalPrivateKey(priv, "fuzz") },
		func() (*pem.Block, error) { return ssh.MarshalPrivateKeyWithPassphrase(priv, "fuzz", []byte("pw")) },
	} {
		b, err := marshal()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(pem.EncodeToMemory(b))
	}
	f.Fuzz(func(t *testing.T, value []byte) {
		info, err := Inspect("ssh-key", value)
		checkFuzzResult(t, "ssh-key", info, err, "not an SSH key: ", "too large to be an SSH key")
		if info != nil {
			js, _ := json.Marshal(info)
			if strings.Contains(string(js), string(seed)) {
				t.Fatalf("Info shows the private key: %s", js)
			}
		}
	})
}
