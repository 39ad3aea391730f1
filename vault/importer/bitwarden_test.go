package importer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"
	"golang.org/x/crypto/pbkdf2"

	"github.com/hush-secrets/hush/vault"
)

// bitwardenPlain is an unencrypted export in the shape of Bitwarden's
// exporter (individual vault: folders and items; nested folders by "/").
func bitwardenPlain(t testing.TB, sshKey string) []byte {
	return mustJSON(t, obj{
		"encrypted": false,
		"folders":   arr{obj{"id": "f1", "name": "Work/Cloud"}, obj{"id": "f2", "name": "Home"}},
		"items": arr{
			obj{"passwordHistory": arr{obj{"lastUsedDate": "2024-01-01T00:00:00Z", "password": "sekrit-old"}}, "revisionDate": "2024-05-01T00:00:00Z",
				"creationDate": "2024-01-01T00:00:00Z", "deletedDate": nil, "id": "i1", "organizationId": nil, "folderId": "f1", "type": 1, "reprompt": 0,
				"name": "AWS console", "notes": "MFA on the yubikey", "favorite": false,
				"fields": arr{
					obj{"name": "account id", "value": "123456789012", "type": 0, "linkedId": nil},
					obj{"name": "secret key", "value": "sekrit-hidden", "type": 1, "linkedId": nil},
					obj{"name": "active", "value": "true", "type": 2, "linkedId": nil},
					obj{"name": "user", "value": nil, "type": 3, "linkedId": 100},
				},
				"login": obj{"fido2Credentials": arr{}, "uris": arr{obj{"match": nil, "uri": "https://console.aws.amazon.com"}},
					"username": "admin", "password": "sekrit-1", "totp": "JBSWY3DPSEKRIT"},
				"collectionIds": nil},
			obj{"id": "i2", "folderId": nil, "type": 2, "name": "recovery codes", "notes": "sekrit-a\nsekrit-b\n", "secureNote": obj{"type": 0}},
			obj{"id": "i3", "folderId": "f2", "type": 3, "name": "Visa", "card": obj{"number": "4111"}},
			obj{"id": "i4", "folderId": "f2", "type": 4, "name": "Me", "identity": obj{"firstName": "W"}},
			obj{"id": "i5", "folderId": "f2", "type": 5, "name": "laptop key", "sshKey": obj{"privateKey": sshKey, "publicKey": "ssh-ed25519 AAAA", "keyFingerprint": "SHA256:x"}},
			obj{"id": "i6", "folderId": "f2", "type": 1, "name": "trashed", "deletedDate": "2024-06-01T00:00:00Z", "login": obj{"password": "sekrit"}},
			obj{"id": "i7", "folderId": "gone", "type": 1, "name": "passkey site", "login": obj{"username": "w", "password": "sekrit-7",
				"fido2Credentials": arr{obj{"credentialId": "c"}}}},
			obj{"id": "i8", "type": 1, "name": "user only", "login": obj{"username": "w"}},
			obj{"id": "i9", "type": 9, "name": "future", "notes": "x"},
		},
	})
}

func TestBitwarden(t *testing.T) {
	key := testSSHKey(t)
	p := mustParse(t, Bitwarden, bitwardenPlain(t, key), Options{})
	aws := wantItem(t, p, "Work/Cloud/AWS_console", "sekrit-1", vault.TypePassword)
	wantNote := "username: admin\nurl: https://console.aws.amazon.com\naccount id: 123456789012\nactive: true\n\nMFA on the yubikey"
	if aws.Note != wantNote {
		t.Errorf("note %q\nwant %q", aws.Note, wantNote)
	}
	wantItem(t, p, "Work/Cloud/AWS_console.totp", "JBSWY3DPSEKRIT", vault.TypeToken)
	wantItem(t, p, "Work/Cloud/AWS_console.secret_key", "sekrit-hidden", vault.TypePassword)
	wantItem(t, p, "recovery_codes", "sekrit-a\nsekrit-b", vault.TypeNote)
	wantItem(t, p, "Home/laptop_key", key, vault.TypeSSHKey)
	wantItem(t, p, "passkey_site", "sekrit-7", vault.TypePassword)
	if len(p.Items) != 6 {
		t.Errorf("%d items, want 6", len(p.Items))
	}
	wantSkips(t, p, map[string]int{reasonCard: 1, reasonIdentity: 1, reasonTrash: 1, reasonPasskey: 1, reasonEmpty: 1, reasonUnknown: 1, reasonHistory: 1})

	// An organization export names collections instead of folders.
	org := `{"encrypted": false, "collections": [{"id": "c1", "organizationId": "o", "name": "Eng/Prod", "externalId": null}],
	  "items": [{"id": "i", "organizationId": "o", "folderId": null, "collectionIds": ["c1"], "type": 1, "name": "db", "login": {"password": "sekrit"}}]}`
	wantItem(t, mustParse(t, Bitwarden, []byte(org), Options{}), "Eng/Prod/db", "sekrit", vault.TypePassword)
}

// encString seals plain as Bitwarden's EncString type 2.
func encString(t testing.TB, encKey, macKey, plain []byte) string {
	iv := make([]byte, 16)
	rand.Read(iv)
	pad := 16 - len(plain)%16
	padded := append(append([]byte{}, plain...), bytesOf(byte(pad), pad)...)
	blk, err := aes.NewCipher(encKey)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(blk, iv).CryptBlocks(ct, padded)
	m := hmac.New(sha256.New, macKey)
	m.Write(iv)
	m.Write(ct)
	b64 := base64.StdEncoding.EncodeToString
	return "2." + b64(iv) + "|" + b64(ct) + "|" + b64(m.Sum(nil))
}

func bytesOf(c byte, n int) []byte { return []byte(strings.Repeat(string(c), n)) }

// protect makes a password-protected export of plain the way Bitwarden's
// exporter does: KDF of the password and the salt string, HKDF-Expand to
// "enc" and "mac" keys, a random UUID sealed as the key validation.
func protect(t testing.TB, plain []byte, password string, kdf int) []byte {
	salt := base64.StdEncoding.EncodeToString(bytesOf('s', 16))
	var master []byte
	env := obj{"encrypted": true, "passwordProtected": true, "salt": salt, "kdfType": kdf}
	if kdf == 0 {
		env["kdfIterations"] = 5000
		master = pbkdf2.Key([]byte(password), []byte(salt), 5000, 32, sha256.New)
	} else {
		env["kdfIterations"], env["kdfMemory"], env["kdfParallelism"] = 2, 16, 2
		s := sha256.Sum256([]byte(salt))
		master = argon2.IDKey([]byte(password), s[:], 2, 16<<10, 2, 32)
	}
	encKey, macKey := make([]byte, 32), make([]byte, 32)
	io.ReadFull(hkdf.Expand(sha256.New, master, []byte("enc")), encKey)
	io.ReadFull(hkdf.Expand(sha256.New, master, []byte("mac")), macKey)
	env["encKeyValidation_DO_NOT_EDIT"] = encString(t, encKey, macKey, []byte("8d3b6e2a-5c1f-4b7e-9a0d-2f4e6c8b1a3d"))
	env["data"] = encString(t, encKey, macKey, plain)
	return mustJSON(t, env)
}

func TestBitwardenPasswordProtected(t *testing.T) {
	plain := bitwardenPlain(t, testSSHKey(t))
	for _, kdf := range []int{0, 1} {
		file := protect(t, plain, "correct horse", kdf)
		calls := 0
		pw := func() ([]byte, error) { calls++; return []byte("correct horse"), nil }
		p := mustParse(t, Bitwarden, file, Options{Password: pw})
		wantItem(t, p, "Work/Cloud/AWS_console", "sekrit-1", vault.TypePassword)
		if calls != 1 || len(p.Items) != 6 {
			t.Errorf("kdf %d: %d password calls, %d items", kdf, calls, len(p.Items))
		}
		_, err := Parse(Bitwarden, file, Options{Password: func() ([]byte, error) { return []byte("wrong"), nil }})
		if !errors.Is(err, ErrWrongPassword) {
			t.Errorf("kdf %d: wrong password gave %v", kdf, err)
		}
		if _, err := Parse(Bitwarden, file, Options{}); !errors.Is(err, ErrNoPassword) {
			t.Errorf("kdf %d: no password gave %v", kdf, err)
		}
	}
	// The plain export needs no password: it is never asked for.
	mustParse(t, Bitwarden, plain, Options{Password: func() ([]byte, error) { t.Fatal("password asked for"); return nil, nil }})

	// A flipped byte in the data fails its MAC.
	file := string(protect(t, plain, "pw", 0))
	i := strings.Index(file, `"data":"2.`) + 12
	flipped := file[:i] + string(file[i]^1) + file[i+1:]
	if _, err := Parse(Bitwarden, []byte(flipped), Options{Password: func() ([]byte, error) { return []byte("pw"), nil }}); err == nil {
		t.Error("a changed ciphertext was accepted")
	}
}

func TestBitwardenErrors(t *testing.T) {
	pw := Options{Password: func() ([]byte, error) { return []byte("pw"), nil }}
	for _, c := range []struct{ name, in, want string }{
		{"account restricted", `{"encrypted": true, "encKeyValidation_DO_NOT_EDIT": "2.a|b|c", "folders": [], "items": []}`, "account-restricted"},
		{"missing salt", `{"encrypted": true, "passwordProtected": true, "kdfType": 0, "kdfIterations": 1, "encKeyValidation_DO_NOT_EDIT": "2.a|b|c", "data": "2.a|b|c"}`, "lacks salt"},
		{"huge iterations", `{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 0, "kdfIterations": 999999999, "encKeyValidation_DO_NOT_EDIT": "2.a|b|c", "data": "2.a|b|c"}`, "PBKDF2 iterations 999999999"},
		{"huge memory", `{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 1, "kdfIterations": 3, "kdfMemory": 99999, "kdfParallelism": 4, "encKeyValidation_DO_NOT_EDIT": "2.a|b|c", "data": "2.a|b|c"}`, "Argon2id parameters"},
		{"unknown kdf", `{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 7, "kdfIterations": 3, "encKeyValidation_DO_NOT_EDIT": "2.a|b|c", "data": "2.a|b|c"}`, "unknown kdfType 7"},
		{"other enc type", `{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 0, "kdfIterations": 3, "encKeyValidation_DO_NOT_EDIT": "0.sekrit|x", "data": "2.a|b|c"}`, "EncString of type 2"},
		{"bad base64", `{"encrypted": true, "passwordProtected": true, "salt": "s", "kdfType": 0, "kdfIterations": 3, "encKeyValidation_DO_NOT_EDIT": "2.sekrit!|x|y", "data": "2.a|b|c"}`, "not valid base64"},
		{"items not a list", `{"encrypted": false, "items": {"sekrit": 1}}`, "field items holds a JSON object"},
		{"bad syntax", "{\"encrypted\": false,\n \"items\": [sekrit]}", "line 2: invalid JSON syntax"},
		{"surrogate", `{"encrypted": false, "items": [{"type": 1, "name": "x", "login": {"password": "\ud800sekrit"}}]}`, "unpaired UTF-16 surrogate"},
	} {
		t.Run(c.name, func(t *testing.T) { wantErr(t, Bitwarden, []byte(c.in), pw, c.want) })
	}
}

func TestBitwardenNames(t *testing.T) {
	// Folders nest by "/"; empty segments are dropped, titles are mapped.
	in := `{"encrypted": false, "folders": [{"id": "f", "name": "a//b c/"}], "items": [
	  {"type": 1, "folderId": "f", "name": "x/y", "login": {"password": "1"}},
	  {"type": 1, "folderId": "f", "name": "x y", "login": {"password": "2"}},
	  {"type": 1, "folderId": "f", "name": "x_y", "login": {"password": "3"}}]}`
	p := mustParse(t, Bitwarden, []byte(in), Options{})
	var names []string
	for _, it := range p.Items {
		names = append(names, it.Name)
	}
	if want := []string{"a/b_c/x_y", "a/b_c/x_y-2", "a/b_c/x_y-3"}; !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
}
