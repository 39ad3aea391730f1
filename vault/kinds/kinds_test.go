package kinds

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// canary is planted in hostile values: no error may ever show it.
const canary = "hunter2-CANARY-s3cr3t"

// --- generated material -----------------------------------------------------

type testCert struct {
	cert *x509.Certificate
	der  []byte
	key  *ecdsa.PrivateKey
}

func (c testCert) pem() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.der})
}

func newCert(t testing.TB, tmpl *x509.Certificate, parent *testCert) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	parentCert, signer := tmpl, key
	if parent != nil {
		parentCert, signer = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{cert, der, key}
}

type testPKI struct {
	ca, leaf, expired testCert
}

func newPKI(t testing.TB) testPKI {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	ca := newCert(t, &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Hush Test CA", Organization: []string{"Hush"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}, nil)
	leaf := newCert(t, &x509.Certificate{
		SerialNumber:   big.NewInt(0xC0FFEE),
		Subject:        pkix.Name{CommonName: "shop.example.com"},
		DNSNames:       []string{"shop.example.com", "www.shop.example.com"},
		IPAddresses:    []net.IP{net.ParseIP("192.0.2.7")},
		EmailAddresses: []string{"ops@example.com"},
		URIs:           []*url.URL{{Scheme: "spiffe", Host: "example.com", Path: "/shop"}},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.AddDate(0, 0, 10),
	}, &ca)
	expired := newCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(7),
		DNSNames:     []string{"old.example.com"}, // no CN: the summary shows the first SAN
		NotBefore:    now.AddDate(-2, 0, 0),
		NotAfter:     now.AddDate(-1, 0, 0),
	}, &ca)
	return testPKI{ca, leaf, expired}
}

func testEd25519(t testing.TB) (ed25519.PublicKey, ed25519.PrivateKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

// jwt builds a token from raw header and payload JSON, with a fake signature.
func jwt(header, payload string) []byte {
	enc := base64.RawURLEncoding
	return []byte(enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString([]byte("not-a-real-signature")))
}

// --- checks ---------------------------------------------------------------

// noLeak fails if err shows value, its canary, or a PEM body of it.
func noLeak(t *testing.T, err error, value []byte) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	if strings.Contains(msg, canary) {
		t.Errorf("error shows the canary: %q", msg)
	}
	if len(value) >= 8 && strings.Contains(msg, string(value)) {
		t.Errorf("error shows the value: %q", msg)
	}
	for _, line := range strings.Split(string(value), "\n") {
		line = strings.TrimSpace(line)
		if len(line) >= 12 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line) {
			t.Errorf("error shows a line of the value %q: %q", line, msg)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
}

func mustInspect(t *testing.T, typ string, value []byte) *Info {
	t.Helper()
	info, err := Inspect(typ, value)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", typ, err)
	}
	if info.Kind != typ {
		t.Fatalf("Kind = %q, want %q", info.Kind, typ)
	}
	if strings.ContainsAny(info.Summary, "\r\n") {
		t.Fatalf("Summary is not one line: %q", info.Summary)
	}
	if _, err := json.Marshal(info.Fields); err != nil {
		t.Fatalf("Fields do not marshal: %v", err)
	}
	return info
}

func wantErr(t *testing.T, typ string, value []byte, want string) {
	t.Helper()
	info, err := Inspect(typ, value)
	if err == nil {
		t.Fatalf("Inspect(%q) = %+v, want an error containing %q", typ, info, want)
	}
	if info != nil {
		t.Errorf("Inspect(%q) gave an Info with its error", typ)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("Inspect(%q) error = %q, want it to contain %q", typ, err, want)
	}
	noLeak(t, err, value)
}

// --- certificates -----------------------------------------------------------

func TestCertificateLeaf(t *testing.T) {
	p := newPKI(t)
	leaf := p.leaf.cert
	fp := sha256.Sum256(p.leaf.der)
	want := map[string]any{
		"subject":            "CN=shop.example.com",
		"issuer":             "CN=Hush Test CA,O=Hush",
		"sans":               []string{"shop.example.com", "www.shop.example.com", "192.0.2.7", "ops@example.com", "spiffe://example.com/shop"},
		"not_before":         leaf.NotBefore.UTC().Format(time.RFC3339),
		"not_after":          leaf.NotAfter.UTC().Format(time.RFC3339),
		"serial":             "c0ffee",
		"chain_length":       1,
		"fingerprint_sha256": hex.EncodeToString(fp[:]),
		"has_private_key":    false,
	}
	wantSummary := "CN=shop.example.com, ends " + leaf.NotAfter.UTC().Format("2006-01-02")

	for name, value := range map[string][]byte{
		"pem":             p.leaf.pem(),
		"der":             p.leaf.der,
		"pem with spaces": append(append([]byte("\n\n"), p.leaf.pem()...), "\n\n"...),
		"indented pem":    indent(p.leaf.pem(), "    "),
	} {
		t.Run(name, func(t *testing.T) {
			info := mustInspect(t, "certificate", value)
			if info.Summary != wantSummary {
				t.Errorf("Summary = %q, want %q", info.Summary, wantSummary)
			}
			if !info.NotAfter.Equal(leaf.NotAfter) || info.NotAfter.Location() != time.UTC {
				t.Errorf("NotAfter = %v, want %v in UTC", info.NotAfter, leaf.NotAfter)
			}
			if d := time.Until(info.NotAfter); d < 9*24*time.Hour || d > 11*24*time.Hour {
				t.Errorf("NotAfter is %v away, want about 10 days", d)
			}
			if !reflect.DeepEqual(info.Fields, want) {
				t.Errorf("Fields =\n%#v\nwant\n%#v", info.Fields, want)
			}
		})
	}
}

func TestCertificateChainAndKey(t *testing.T) {
	p := newPKI(t)
	keyDER, err := x509.MarshalPKCS8PrivateKey(p.leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	ecDER, err := x509.MarshalECPrivateKey(p.leaf.key)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})
	leafFP := sha256.Sum256(p.leaf.der)

	cases := []struct {
		name    string
		value   []byte
		chain   int
		hasKey  bool
		summary string
	}{
		{"leaf+ca", concat(p.leaf.pem(), p.ca.pem()), 2, false, "CN=shop.example.com"},
		{"key+leaf+ca", concat(keyPEM, p.leaf.pem(), p.ca.pem()), 2, true, "CN=shop.example.com"},
		{"leaf+ec key", concat(p.leaf.pem(), ecPEM), 1, true, "CN=shop.example.com"},
		{"text around blocks", concat([]byte("subject=/CN=shop\n"), p.leaf.pem(), []byte("# ca:\n"), p.ca.pem(), []byte("trailer\n")), 2, false, "CN=shop.example.com"},
		{"ca+leaf: first is the leaf", concat(p.ca.pem(), p.leaf.pem()), 2, false, "CN=Hush Test CA"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := mustInspect(t, "certificate", c.value)
			if got := info.Fields["chain_length"]; got != c.chain {
				t.Errorf("chain_length = %v, want %d", got, c.chain)
			}
			if got := info.Fields["has_private_key"]; got != c.hasKey {
				t.Errorf("has_private_key = %v, want %v", got, c.hasKey)
			}
			if !strings.HasPrefix(info.Summary, c.summary+", ends ") {
				t.Errorf("Summary = %q, want it to start with %q", info.Summary, c.summary)
			}
			if c.summary == "CN=shop.example.com" && info.Fields["fingerprint_sha256"] != hex.EncodeToString(leafFP[:]) {
				t.Errorf("fingerprint is not the leaf's")
			}
			js, _ := json.Marshal(info)
			if bytes.Contains(js, keyDER[len(keyDER)-32:]) || strings.Contains(string(js), "PRIVATE") {
				t.Errorf("Info shows the private key: %s", js)
			}
		})
	}
}

func TestCertificateExpired(t *testing.T) {
	p := newPKI(t)
	info := mustInspect(t, "certificate", p.expired.pem())
	if !info.NotAfter.Before(time.Now()) {
		t.Errorf("NotAfter = %v, want in the past", info.NotAfter)
	}
	want := "CN=old.example.com, ends " + p.expired.cert.NotAfter.UTC().Format("2006-01-02")
	if info.Summary != want {
		t.Errorf("Summary = %q, want %q", info.Summary, want)
	}
	if info.Fields["subject"] != "" {
		t.Errorf("subject = %q, want empty", info.Fields["subject"])
	}
}

func TestCertificateHostileSummary(t *testing.T) {
	p := newPKI(t)
	c := newCert(t, &x509.Certificate{
		SerialNumber: big.NewInt(9),
		Subject:      pkix.Name{CommonName: "evil\n\x1b[2Jname" + strings.Repeat("x", 200)},
		NotBefore:    time.Now(),
		NotAfter:     time.Now().Add(time.Hour),
	}, &p.ca)
	info := mustInspect(t, "certificate", c.pem())
	if strings.ContainsAny(info.Summary, "\n\x1b") || len([]rune(info.Summary)) > 100 {
		t.Errorf("Summary not made safe for one line: %q", info.Summary)
	}
}

func TestCertificateErrors(t *testing.T) {
	p := newPKI(t)
	leafPEM := string(p.leaf.pem())
	garbage := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte(canary + " garbage, not DER")})
	keyOnly := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(canary)})
	random := make([]byte, 512)
	rand.Read(random)
	random[0] = 0x42 // not an ASN.1 SEQUENCE
	derLike := append([]byte{0x30, 0x82, 0x01, 0x00}, canary...)
	badB64 := "-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString([]byte(canary)) + "!!!\n-----END CERTIFICATE-----\n"

	cases := []struct {
		name  string
		value []byte
		want  string
	}{
		{"empty", nil, "not a certificate: empty value"},
		{"spaces", []byte(" \n\t "), "not a certificate: empty value"},
		{"truncated PEM", []byte(leafPEM[:len(leafPEM)/2]), "not a certificate: malformed PEM"},
		{"no END line", []byte(strings.TrimSuffix(leafPEM, "-----END CERTIFICATE-----\n")), "not a certificate: malformed PEM"},
		{"bad base64", []byte(badB64), "not a certificate: malformed PEM"},
		{"good then truncated", concat(p.leaf.pem(), []byte(leafPEM[:len(leafPEM)-40])), "not a certificate: malformed PEM"},
		{"garbage CERTIFICATE block", garbage, "not a certificate: PEM block 1 does not parse as a certificate"},
		{"garbage second block", concat(p.leaf.pem(), garbage), "not a certificate: PEM block 2 does not parse as a certificate"},
		{"private key only", keyOnly, "not a certificate: PEM has a private key but no CERTIFICATE block"},
		{"other PEM only", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte(canary)}), "not a certificate: PEM has no CERTIFICATE block"},
		{"random bytes", random, "not a certificate: no PEM CERTIFICATE block and not DER"},
		{"text", []byte("my password is " + canary), "not a certificate: no PEM CERTIFICATE block and not DER"},
		{"DER-like garbage", derLike, "not a certificate: DER data does not parse as a certificate"},
		{"DER with trailing bytes", concat(p.leaf.der, []byte(canary)), "not a certificate: DER data does not parse as a certificate"},
		{"2 MiB", concat(p.leaf.pem(), bytes.Repeat([]byte(canary+"\n"), (2<<20)/len(canary))), "too large to be a certificate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, "certificate", c.value, c.want) })
	}
}

// --- SSH keys -------------------------------------------------------------

func TestSSHKeys(t *testing.T) {
	pub, priv := testEd25519(t)
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	fp := ssh.FingerprintSHA256(sshPub)
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sshPub)))

	openssh, err := ssh.MarshalPrivateKey(priv, "me@laptop")
	if err != nil {
		t.Fatal(err)
	}
	encrypted, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "me@laptop", []byte("correct horse"))
	if err != nil {
		t.Fatal(err)
	}
	pkcs8DER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name               string
		value              []byte
		private, encrypted bool
	}{
		{"openssh", pem.EncodeToMemory(openssh), true, false},
		{"openssh encrypted", pem.EncodeToMemory(encrypted), true, true},
		{"pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8DER}), true, false},
		{"public line", []byte(line + " me@laptop\n"), false, false},
		{"public line without comment", []byte(line), false, false},
		{"authorized_keys with options and comments", []byte("# keys\n\nfrom=\"10.0.0.0/8\",no-pty " + line + " me@laptop\n"), false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := mustInspect(t, "ssh-key", c.value)
			want := map[string]any{
				"algorithm":   "ssh-ed25519",
				"fingerprint": fp,
				"public_key":  line,
				"private":     c.private,
				"encrypted":   c.encrypted,
			}
			if !reflect.DeepEqual(info.Fields, want) {
				t.Errorf("Fields =\n%#v\nwant\n%#v", info.Fields, want)
			}
			if info.Summary != "ED25519 "+fp {
				t.Errorf("Summary = %q, want %q", info.Summary, "ED25519 "+fp)
			}
			if !info.NotAfter.IsZero() {
				t.Errorf("NotAfter = %v, want zero", info.NotAfter)
			}
			js, _ := json.Marshal(info)
			for _, secret := range [][]byte{priv.Seed(), priv} {
				for _, enc := range []string{string(secret), base64.StdEncoding.EncodeToString(secret), base64.RawStdEncoding.EncodeToString(secret), hex.EncodeToString(secret)} {
					if strings.Contains(string(js), enc) {
						t.Fatalf("Info shows private key material: %s", js)
					}
				}
			}
			if c.private && strings.Contains(string(js), strings.Split(string(c.value), "\n")[1]) {
				t.Fatalf("Info shows the PEM body: %s", js)
			}
		})
	}
}

func TestSSHKeyOtherAlgorithms(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, algo, summary string
		value               []byte
	}{
		{"rsa pkcs1", "ssh-rsa", "RSA ", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})},
		{"ecdsa sec1", "ecdsa-sha2-nistp256", "ECDSA ", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info := mustInspect(t, "ssh-key", c.value)
			if info.Fields["algorithm"] != c.algo || info.Fields["private"] != true {
				t.Errorf("Fields = %v", info.Fields)
			}
			if !strings.HasPrefix(info.Summary, c.summary+"SHA256:") {
				t.Errorf("Summary = %q", info.Summary)
			}
		})
	}

	// Legacy PEM encryption carries no public key: still an encrypted key.
	// (EncryptPEMBlock is deprecated, and used only to build such a key.)
	block, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), []byte("pw"), x509.PEMCipherAES256)
	if err != nil {
		t.Fatal(err)
	}
	info := mustInspect(t, "ssh-key", pem.EncodeToMemory(block))
	if info.Fields["encrypted"] != true || info.Fields["private"] != true || info.Fields["public_key"] != nil {
		t.Errorf("legacy encrypted key: Fields = %v", info.Fields)
	}

	// So does encrypted PKCS#8 (its outer structure is checked, no more).
	epki, err := asn1.Marshal(struct {
		Algorithm     pkix.AlgorithmIdentifier
		EncryptedData []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}}, []byte(canary)})
	if err != nil {
		t.Fatal(err)
	}
	info = mustInspect(t, "ssh-key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: epki}))
	if info.Fields["encrypted"] != true || info.Summary != "encrypted private key (public key not stored with it)" {
		t.Errorf("encrypted PKCS#8: %+v", info)
	}
	wantErr(t, "ssh-key", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte(canary)}), "not an SSH key: encrypted PKCS#8 block does not parse")
}

func TestSSHKeyErrors(t *testing.T) {
	_, priv := testEd25519(t)
	block, err := ssh.MarshalPrivateKey(priv, canary)
	if err != nil {
		t.Fatal(err)
	}
	good := string(pem.EncodeToMemory(block))
	corrupt := *block
	corrupt.Bytes = append([]byte(nil), block.Bytes...)
	corrupt.Bytes[len(corrupt.Bytes)/2] ^= 0xff // breaks the check ints or the key
	corrupt.Bytes = corrupt.Bytes[:len(corrupt.Bytes)-30]
	random := make([]byte, 300)
	rand.Read(random)

	cases := []struct {
		name  string
		value []byte
		want  string
	}{
		{"empty", nil, "not an SSH key: empty value"},
		{"truncated PEM", []byte(good[:len(good)/2]), "not an SSH key: malformed PEM"},
		{"corrupt key", pem.EncodeToMemory(&corrupt), "not an SSH key: private key does not parse"},
		{"garbage key block", pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte(canary)}), "not an SSH key: private key does not parse"},
		{"unknown key type", pem.EncodeToMemory(&pem.Block{Type: canary + " PRIVATE KEY", Bytes: []byte(canary)}), "not an SSH key: PEM private key of a type SSH does not use"},
		{"certificate", newPKI(t).leaf.pem(), "not an SSH key: PEM has no private key block"},
		{"random bytes", random, "not an SSH key: neither a PEM private key nor a public key line"},
		{"text", []byte("ssh-ed25519 " + canary + " me@laptop"), "not an SSH key: neither a PEM private key nor a public key line"},
		{"2 MiB", bytes.Repeat([]byte("A"), 2<<20), "too large to be an SSH key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantErr(t, "ssh-key", c.value, c.want) })
	}
}

// --- tokens ---------------------------------------------------------------

func TestTokenJWT(t *testing.T) {
	info := mustInspect(t, "token", jwt(`{"alg":"HS256","typ":"JWT"}`, `{"iss":"https://auth.example.com","sub":"user-42","exp":1801396800}`))
	want := map[string]any{
		"alg":     "HS256",
		"expires": time.Unix(1801396800, 0).UTC().Format(time.RFC3339),
		"issuer":  "https://auth.example.com",
		"subject": "user-42",
	}
	if !reflect.DeepEqual(info.Fields, want) {
		t.Errorf("Fields = %#v, want %#v", info.Fields, want)
	}
	if wantSum := "JWT HS256, expires " + time.Unix(1801396800, 0).UTC().Format("2006-01-02"); info.Summary != wantSum {
		t.Errorf("Summary = %q, want %q", info.Summary, wantSum)
	}
	if !info.NotAfter.IsZero() {
		t.Errorf("NotAfter = %v, want zero for tokens", info.NotAfter)
	}

	info = mustInspect(t, "token", append(jwt(`{"alg":"ES256"}`, `{"name":"x"}`), '\n'))
	if info.Summary != "JWT ES256" || !reflect.DeepEqual(info.Fields, map[string]any{"alg": "ES256"}) {
		t.Errorf("JWT without claims: %+v", info)
	}
}

func TestTokenOpaque(t *testing.T) {
	random := make([]byte, 64)
	rand.Read(random)
	enc := base64.RawURLEncoding.EncodeToString
	for name, value := range map[string][]byte{
		"empty":          nil,
		"github token":   []byte("ghp_" + canary),
		"random":         random,
		"bad JSON":       jwt(`{"alg":"HS256"`, `{"sub":"x"}`),
		"bad claim JSON": jwt(`{"alg":"HS256"}`, `{"sub":`+canary),
		"claims array":   jwt(`{"alg":"HS256"}`, `["x"]`),
		"no alg":         jwt(`{"typ":"JWT"}`, `{"sub":"x"}`),
		"alg not string": jwt(`{"alg":5}`, `{"sub":"x"}`),
		"two parts":      []byte(enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{}`))),
		"four parts":     append(jwt(`{"alg":"HS256"}`, `{}`), ".x"...),
		"bad base64":     []byte(enc([]byte(`{"alg":"HS256"}`)) + ".!!!." + canary),
		"bad signature":  []byte(enc([]byte(`{"alg":"HS256"}`)) + "." + enc([]byte(`{}`)) + ".a b"),
		"dots":           []byte(".."),
		"2 MiB":          concat(jwt(`{"alg":"HS256"}`, `{}`), bytes.Repeat([]byte("A"), 2<<20)),
	} {
		t.Run(name, func(t *testing.T) {
			info := mustInspect(t, "token", value)
			if info.Summary != "" || info.Fields != nil || !info.NotAfter.IsZero() {
				t.Errorf("opaque token gave %+v", info)
			}
		})
	}
}

func TestTokenBadExp(t *testing.T) {
	for _, exp := range []string{`"tomorrow"`, `-5`, `1e300`, `null`, `{}`} {
		info := mustInspect(t, "token", jwt(`{"alg":"HS256"}`, `{"exp":`+exp+`}`))
		if _, ok := info.Fields["expires"]; ok || info.Summary != "JWT HS256" {
			t.Errorf("exp %s: %+v", exp, info)
		}
	}
}

// --- encryption keys ------------------------------------------------------

func TestEncryptionKey(t *testing.T) {
	for _, n := range []int{16, 24, 32, 64} {
		key := make([]byte, n)
		rand.Read(key)
		key[0] = 0xff // not text, so read raw
		for enc, value := range map[string][]byte{
			"raw":    key,
			"hex":    []byte(hex.EncodeToString(key) + "\n"),
			"HEX":    []byte(strings.ToUpper(hex.EncodeToString(key))),
			"base64": []byte(base64.StdEncoding.EncodeToString(key) + "\n"),
			"b64url": []byte(base64.RawURLEncoding.EncodeToString(key)),
		} {
			info := mustInspect(t, "encryption-key", value)
			want := strings.ToLower(enc)
			if enc == "b64url" {
				want = "base64"
			}
			if info.Fields["bits"] != n*8 || info.Fields["encoding"] != want {
				t.Errorf("%d bytes %s: Fields = %v", n, enc, info.Fields)
			}
			if wantSum := map[int]string{16: "128-bit key", 24: "192-bit key", 32: "256-bit key", 64: "512-bit key"}[n]; info.Summary != wantSum {
				t.Errorf("%d bytes %s: Summary = %q, want %q", n, enc, info.Summary, wantSum)
			}
		}
	}
	// 32 hex digits are a 128-bit key, not 24 bytes of base64 nor 32 raw bytes.
	info := mustInspect(t, "encryption-key", []byte("00112233445566778899aabbccddeeff"))
	if info.Fields["bits"] != 128 || info.Fields["encoding"] != "hex" {
		t.Errorf("32 hex digits: %v", info.Fields)
	}
}

func TestEncryptionKeyErrors(t *testing.T) {
	const want = "not an encryption key: expected 128, 192, 256 or 512 bits (raw, hex or base64)"
	for name, value := range map[string][]byte{
		"empty":       nil,
		"short":       []byte(canary),
		"15 bytes":    make([]byte, 15),
		"hex 20":      []byte(hex.EncodeToString(make([]byte, 20))),
		"base64 40":   []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xff}, 40))),
		"33 bytes":    make([]byte, 33),
		"2 MiB":       make([]byte, 2<<20),
		"passphrase":  []byte("correct horse battery staple " + canary),
		"odd hex":     []byte(strings.Repeat("a", 31)),
		"newline raw": append(make([]byte, 32), '\n', 0),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Inspect("encryption-key", value)
			if err == nil || err.Error() != want {
				t.Errorf("error = %v, want %q", err, want)
			}
		})
	}
}

// --- the rest -------------------------------------------------------------

func TestUncheckedTypes(t *testing.T) {
	for _, typ := range []string{"password", "api-key", "note", "other"} {
		for _, value := range [][]byte{nil, []byte(canary), bytes.Repeat([]byte{0}, 2<<20)} {
			info := mustInspect(t, typ, value)
			if info.Summary != "" || info.Fields != nil || !info.NotAfter.IsZero() {
				t.Errorf("%s: %+v, want only the Kind", typ, info)
			}
		}
	}
}

func TestUnknownType(t *testing.T) {
	for _, typ := range []string{"", "Password", "x509", "ssh"} {
		info, err := Inspect(typ, []byte(canary))
		if err == nil || info != nil {
			t.Errorf("Inspect(%q) = %v, %v; want an error", typ, info, err)
			continue
		}
		noLeak(t, err, []byte(canary))
	}
}

// Every type, every hostile value: no panic, no leak.
func TestHostileValuesAllTypes(t *testing.T) {
	p := newPKI(t)
	leafPEM := p.leaf.pem()
	values := [][]byte{
		nil, {0}, []byte(canary), []byte("-----BEGIN " + canary + "-----\n"),
		leafPEM[:len(leafPEM)/3], []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"),
		[]byte("-----BEGIN OPENSSH PRIVATE KEY-----\n-----END OPENSSH PRIVATE KEY-----\n"),
		[]byte("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n-----END OPENSSH PRIVATE KEY-----\n"),
		[]byte("...."), []byte("\xff\xfe" + canary), bytes.Repeat([]byte("-----BEGIN "), 1000),
	}
	for _, typ := range []string{"password", "api-key", "token", "certificate", "ssh-key", "encryption-key", "note", "other"} {
		for _, v := range values {
			info, err := Inspect(typ, v)
			if (info == nil) == (err == nil) {
				t.Errorf("%s: want exactly one of Info and error, got %v, %v", typ, info, err)
			}
			noLeak(t, err, v)
			if info != nil {
				js, _ := json.Marshal(info)
				if bytes.Contains(js, []byte(canary)) {
					t.Errorf("%s: Info shows the canary: %s", typ, js)
				}
			}
		}
	}
}

func indent(b []byte, prefix string) []byte {
	return []byte(prefix + strings.ReplaceAll(strings.TrimSuffix(string(b), "\n"), "\n", "\n"+prefix) + "\n")
}

func concat(parts ...[]byte) []byte {
	return bytes.Join(parts, nil)
}
