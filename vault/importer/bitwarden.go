package importer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"golang.org/x/crypto/pbkdf2"
	"io"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/hkdf"

	"github.com/hush-secrets/hush/vault"
)

// The shape of Bitwarden's JSON export (`bw export --format json`, or
// the web vault's "Export vault" as .json), as its exporter writes it and
// its importer (bitwarden-json-importer) reads it.
type bitwardenExport struct {
	Encrypted         bool   `json:"encrypted"`
	PasswordProtected bool   `json:"passwordProtected"`
	Salt              string `json:"salt"`
	KdfType           *int   `json:"kdfType"`
	KdfIterations     int    `json:"kdfIterations"`
	KdfMemory         int    `json:"kdfMemory"`      // MiB, Argon2id
	KdfParallelism    int    `json:"kdfParallelism"` // Argon2id
	EncKeyValidation  string `json:"encKeyValidation_DO_NOT_EDIT"`
	Data              string `json:"data"`

	Folders []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"folders"`
	Collections []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"collections"`
	Items []bitwardenItem `json:"items"`
}

type bitwardenItem struct {
	FolderID      *string  `json:"folderId"`
	CollectionIDs []string `json:"collectionIds"`
	Type          int      `json:"type"` // 1 login, 2 secure note, 3 card, 4 identity, 5 SSH key
	Name          string   `json:"name"`
	Notes         *string  `json:"notes"`
	DeletedDate   *string  `json:"deletedDate"`
	Login         *struct {
		Username *string `json:"username"`
		Password *string `json:"password"`
		TOTP     *string `json:"totp"`
		URIs     []struct {
			URI *string `json:"uri"`
		} `json:"uris"`
		Fido2Credentials []any `json:"fido2Credentials"`
	} `json:"login"`
	SSHKey *struct {
		PrivateKey string `json:"privateKey"`
	} `json:"sshKey"`
	Fields []struct {
		Name  *string `json:"name"`
		Value *string `json:"value"`
		Type  int     `json:"type"` // 0 text, 1 hidden, 2 boolean, 3 linked
	} `json:"fields"`
	PasswordHistory []any `json:"passwordHistory"`
	Attachments     []any `json:"attachments"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func readBitwarden(data []byte, o Options) (*Plan, error) {
	var exp bitwardenExport
	if err := decodeJSON(data, &exp); err != nil {
		return nil, err
	}
	if exp.Encrypted && exp.PasswordProtected {
		plain, err := decryptBitwarden(&exp, o)
		if err != nil {
			return nil, err
		}
		defer clear(plain)
		exp = bitwardenExport{}
		if err := decodeJSON(plain, &exp); err != nil {
			return nil, fmt.Errorf("decrypted export: %w", err)
		}
		if exp.Encrypted {
			return nil, errors.New("decrypted export is itself encrypted")
		}
	} else if exp.Encrypted {
		return nil, errors.New("this is an account-restricted Bitwarden export: only the Bitwarden account that made it can decrypt it; export again as \"password protected\" or as unencrypted JSON")
	}
	folders := map[string]string{}
	for _, f := range exp.Folders {
		folders[f.ID] = f.Name
	}
	for _, c := range exp.Collections {
		folders[c.ID] = c.Name
	}
	b := newBuilder()
	for i := range exp.Items {
		it := &exp.Items[i]
		var folder []string
		if id := str(it.FolderID); id != "" && folders[id] != "" {
			folder = strings.Split(folders[id], "/") // Bitwarden nests folders by "/" in names
		} else if len(it.CollectionIDs) > 0 && folders[it.CollectionIDs[0]] != "" {
			folder = strings.Split(folders[it.CollectionIDs[0]], "/")
		}
		e := entry{folder: folder, title: it.Name, notes: str(it.Notes), typ: vault.TypePassword}
		name := path(folder, it.Name)
		if it.DeletedDate != nil {
			b.skip(name, reasonTrash)
			continue
		}
		switch it.Type {
		case 1:
			if l := it.Login; l != nil {
				e.value, e.username, e.totp = []byte(str(l.Password)), str(l.Username), str(l.TOTP)
				for _, u := range l.URIs {
					if s := str(u.URI); s != "" {
						e.urls = append(e.urls, s)
					}
				}
				if len(l.Fido2Credentials) > 0 {
					b.skip(name, reasonPasskey)
				}
			}
		case 2:
			e.value, e.notes, e.typ = []byte(strings.TrimRight(str(it.Notes), " \t\r\n")), "", vault.TypeNote
		case 3:
			b.skip(name, reasonCard)
			continue
		case 4:
			b.skip(name, reasonIdentity)
			continue
		case 5:
			if it.SSHKey != nil {
				e.value, e.typ = []byte(it.SSHKey.PrivateKey), vault.TypeSSHKey
			}
		default:
			b.skip(name, reasonUnknown)
			continue
		}
		for _, f := range it.Fields {
			switch f.Type {
			case 0, 2:
				e.fields = append(e.fields, field{name: str(f.Name), value: str(f.Value)})
			case 1:
				e.fields = append(e.fields, field{name: str(f.Name), value: str(f.Value), secret: true})
			}
		}
		if len(it.PasswordHistory) > 0 {
			b.skip(name, reasonHistory)
		}
		for range it.Attachments {
			b.skip(name, reasonAttachment)
		}
		b.add(e)
	}
	return &b.plan, nil
}

// Bounds on the KDF parameters a file may ask for, so that a hostile file
// cannot make hush spin or allocate without end. Bitwarden's own maximums
// are 2,000,000 PBKDF2 iterations and 1 GiB, 10 passes, 16 lanes of Argon2id.
const (
	maxPBKDF2Iterations = 2_000_000
	maxArgon2Passes     = 10
	maxArgon2MiB        = 1024
	maxArgon2Lanes      = 16
)

// decryptBitwarden opens a password-protected export: the key is
// PBKDF2-SHA256 (salt: the salt string's bytes) or Argon2id (salt: SHA-256
// of the salt string) of the password, stretched by HKDF-Expand-SHA256
// into a 32-byte encryption key ("enc") and a 32-byte MAC key ("mac");
// data is an EncString of type 2, "2.IV|CIPHERTEXT|MAC" in base64,
// AES-256-CBC with PKCS#7 padding and HMAC-SHA256 over IV||ciphertext.
func decryptBitwarden(exp *bitwardenExport, o Options) ([]byte, error) {
	if exp.Salt == "" || exp.KdfType == nil || exp.EncKeyValidation == "" || exp.Data == "" {
		return nil, errors.New("password-protected export lacks salt, kdfType, encKeyValidation_DO_NOT_EDIT or data")
	}
	if o.Password == nil {
		return nil, ErrNoPassword
	}
	var master []byte
	switch *exp.KdfType {
	case 0:
		if exp.KdfIterations < 1 || exp.KdfIterations > maxPBKDF2Iterations {
			return nil, fmt.Errorf("PBKDF2 iterations %d are outside 1 to %d", exp.KdfIterations, maxPBKDF2Iterations)
		}
	case 1:
		if exp.KdfIterations < 1 || exp.KdfIterations > maxArgon2Passes || exp.KdfMemory < 1 || exp.KdfMemory > maxArgon2MiB ||
			exp.KdfParallelism < 1 || exp.KdfParallelism > maxArgon2Lanes {
			return nil, fmt.Errorf("Argon2id parameters (%d passes, %d MiB, %d lanes) are outside what Bitwarden makes", exp.KdfIterations, exp.KdfMemory, exp.KdfParallelism)
		}
	default:
		return nil, fmt.Errorf("unknown kdfType %d (want 0, PBKDF2, or 1, Argon2id)", *exp.KdfType)
	}
	pw, err := o.Password()
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	if *exp.KdfType == 0 {
		master = pbkdf2.Key(pw, []byte(exp.Salt), exp.KdfIterations, 32, sha256.New) // []byte, so the password can be wiped
	} else {
		salt := sha256.Sum256([]byte(exp.Salt))
		master = argon2.IDKey(pw, salt[:], uint32(exp.KdfIterations), uint32(exp.KdfMemory)<<10, uint8(exp.KdfParallelism), 32)
	}
	defer clear(master)
	encKey, macKey := make([]byte, 32), make([]byte, 32)
	defer clear(encKey)
	defer clear(macKey)
	io.ReadFull(hkdf.Expand(sha256.New, master, []byte("enc")), encKey)
	io.ReadFull(hkdf.Expand(sha256.New, master, []byte("mac")), macKey)
	if v, err := openEncString(exp.EncKeyValidation, encKey, macKey); err != nil {
		return nil, err
	} else {
		clear(v)
	}
	return openEncString(exp.Data, encKey, macKey)
}

func openEncString(s string, encKey, macKey []byte) ([]byte, error) {
	body, ok := strings.CutPrefix(s, "2.")
	parts := strings.Split(body, "|")
	if !ok || len(parts) != 3 {
		return nil, errors.New("encrypted data is not a Bitwarden EncString of type 2 (AES-CBC-256 with HMAC-SHA256)")
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, errors.New("encrypted data is not valid base64")
		}
		raw[i] = b
	}
	iv, ct, mac := raw[0], raw[1], raw[2]
	m := hmac.New(sha256.New, macKey)
	m.Write(iv)
	m.Write(ct)
	if !hmac.Equal(m.Sum(nil), mac) {
		// The key validation comes first, so this is almost always the password.
		return nil, ErrWrongPassword
	}
	if len(iv) != aes.BlockSize || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("encrypted data has a bad length")
	}
	blk, _ := aes.NewCipher(encKey)
	out := make([]byte, len(ct))
	cipher.NewCBCDecrypter(blk, iv).CryptBlocks(out, ct)
	pad := int(out[len(out)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(out) {
		clear(out)
		return nil, errors.New("encrypted data has bad padding")
	}
	for _, c := range out[len(out)-pad:] {
		if int(c) != pad {
			clear(out)
			return nil, errors.New("encrypted data has bad padding")
		}
	}
	return out[:len(out)-pad], nil
}
