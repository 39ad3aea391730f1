package vault

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// Policy is a folder's default for the secrets below it.
type Policy struct {
	Folder      string        `json:"folder"`
	RotateEvery time.Duration `json:"rotate_every"`
}

func (v *Vault) policyAD(folderMAC []byte, epoch int) []byte {
	return crypto.AD("hush/v1/policy", v.hdr.vaultID, folderMAC, epoch)
}

// SetPolicy sets the rotation interval that secrets in folder and below it
// inherit when they have none of their own; zero removes the policy.
func (v *Vault) SetPolicy(folder string, rotateEvery time.Duration) error {
	if err := v.unlocked(); err != nil {
		return err
	}
	folder, err := CleanFolder(folder)
	if err != nil {
		return err
	}
	if rotateEvery < 0 {
		return fmt.Errorf("rotation interval must be positive")
	}
	mac := v.folderMAC(folder)
	if rotateEvery == 0 {
		_, err := v.db.Exec(`DELETE FROM policies WHERE folder_mac = ?`, mac)
		return err
	}
	js, _ := json.Marshal(Policy{Folder: folder, RotateEvery: rotateEvery})
	ct, err := crypto.Seal(v.keys.value, js, v.policyAD(mac, v.hdr.epoch))
	if err != nil {
		return err
	}
	_, err = v.db.Exec(`INSERT INTO policies (folder_mac, epoch, policy) VALUES (?, ?, ?)
		ON CONFLICT(folder_mac) DO UPDATE SET epoch = excluded.epoch, policy = excluded.policy`, mac, v.hdr.epoch, ct)
	return err
}

// Policies returns every folder policy, sorted by folder.
func (v *Vault) Policies() ([]Policy, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT folder_mac, epoch, policy FROM policies`)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	var out []Policy
	for rows.Next() {
		var mac, ct []byte
		var epoch int
		if err := rows.Scan(&mac, &epoch, &ct); err != nil {
			return nil, err
		}
		if err := v.checkEpoch(epoch); err != nil {
			return nil, err
		}
		js, err := crypto.Open(v.keys.value, ct, v.policyAD(mac, epoch))
		if err != nil {
			return nil, &TamperError{"a folder policy"}
		}
		var p Policy
		if err := json.Unmarshal(js, &p); err != nil || !macEqual(v.folderMAC(p.Folder), mac) {
			return nil, &TamperError{"a folder policy"}
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Folder < out[j].Folder })
	return out, rows.Err()
}

func macEqual(a, b []byte) bool { return string(a) == string(b) }

// Inherit fills m.RotateEvery from the nearest folder policy above name
// when the secret has no interval of its own, and says which folder it came
// from ("" when none applied).
func Inherit(m *Meta, name string, policies []Policy) string {
	if m.RotateEvery > 0 {
		return ""
	}
	best := -1
	for i, p := range policies {
		if InFolder(name, p.Folder) && name != p.Folder && (best < 0 || len(p.Folder) > len(policies[best].Folder)) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	m.RotateEvery = policies[best].RotateEvery
	if policies[best].Folder == "" {
		return "/"
	}
	return strings.TrimSuffix(policies[best].Folder, "/")
}
