package vault

import (
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
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
	// A change like any other: its audit entry (the command's Intend) and
	// the anchor's counter move with it, so that a policy put back from an
	// older copy is caught as any rollback is.
	return v.write(func(tx *sql.Tx) error {
		if err := v.checkPolicySet(tx); err != nil {
			return err
		}
		var err error
		if rotateEvery == 0 {
			_, err = tx.Exec(`DELETE FROM policies WHERE folder_mac = ?`, mac)
		} else {
			js, _ := json.Marshal(Policy{Folder: folder, RotateEvery: rotateEvery})
			ct, serr := crypto.Seal(v.keys.value, js, v.policyAD(mac, v.hdr.epoch))
			if serr != nil {
				return serr
			}
			_, err = tx.Exec(`INSERT INTO policies (folder_mac, epoch, policy) VALUES (?, ?, ?)
		ON CONFLICT(folder_mac) DO UPDATE SET epoch = excluded.epoch, policy = excluded.policy`, mac, v.hdr.epoch, ct)
		}
		if err != nil {
			return dbErr("write vault", err)
		}
		return v.sealPolicySet(tx)
	})
}

// policyRow is one stored policy, as the set's MAC covers it.
type policyRow struct {
	folderMAC []byte
	epoch     int
	ct        []byte
}

// policySetMAC authenticates the whole set of policies (record format 4):
// the MAC of each policy's AEAD binds it to its folder, but not that it is
// there at all.
func (v *Vault) policySetMAC(ps []policyRow) []byte {
	sort.Slice(ps, func(i, j int) bool { return string(ps[i].folderMAC) < string(ps[j].folderMAC) })
	h := sha256.New()
	for _, p := range ps {
		for _, b := range [][]byte{p.folderMAC, binary.BigEndian.AppendUint64(nil, uint64(p.epoch)), p.ct} {
			h.Write(binary.BigEndian.AppendUint64(nil, uint64(len(b))))
			h.Write(b)
		}
	}
	return v.keys.row.MAC(crypto.AD("hush/v1/policies", v.hdr.vaultID, h.Sum(nil)))
}

// readPolicies reads every policy row and the set's stored MAC (nil when
// none) in one statement, so one snapshot.
func readPolicies(q querier) (ps []policyRow, setMAC []byte, err error) {
	rows, err := q.Query(`SELECT NULL, 0, NULL, (SELECT mac FROM policy_set WHERE id = 1), 1
		UNION ALL SELECT folder_mac, epoch, policy, NULL, 0 FROM policies`)
	if err != nil {
		return nil, nil, dbErr("read vault", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p policyRow
		var mac []byte
		var head bool
		if err := rows.Scan(&p.folderMAC, &p.epoch, &p.ct, &mac, &head); err != nil {
			return nil, nil, dbErr("read vault", err)
		}
		if head {
			setMAC = mac
			continue
		}
		ps = append(ps, p)
	}
	return ps, setMAC, dbErr("read vault", rows.Err())
}

func (v *Vault) verifyPolicySet(q querier, ps []policyRow, setMAC []byte) error {
	if v.hdr.format < 4 {
		return nil // written by an older hush, before the upgrade
	}
	if setMAC == nil {
		return &TamperError{"the set of folder policies is not authenticated (its record was deleted)"}
	}
	if !hmac.Equal(setMAC, v.policySetMAC(ps)) {
		return &TamperError{"the set of folder policies (one was removed, added or put back from an older copy outside hush)"}
	}
	if v.hdr.format >= 5 {
		// The whole set put back from an older copy, with its MAC: the
		// anchor says which set the vault last wrote.
		a := v.anch
		if a == nil {
			var err error
			if a, err = v.readAnchor(q); err != nil {
				return err
			}
		}
		if a != nil && !hmac.Equal(a.policies, setMAC) {
			return &TamperError{"the folder policies are not the ones the vault last wrote: they were put back from an older copy outside hush (restore the vault from a backup)"}
		}
	}
	return nil
}

func (v *Vault) checkPolicySet(q querier) error {
	ps, setMAC, err := readPolicies(q)
	if err != nil {
		return err
	}
	return v.verifyPolicySet(q, ps, setMAC)
}

// sealPolicySet records the MAC of the policies as they now are: every
// write to the policies ends with it.
func (v *Vault) sealPolicySet(q querier) error {
	ps, _, err := readPolicies(q)
	if err != nil {
		return err
	}
	mac := v.policySetMAC(ps)
	_, err = q.Exec(`INSERT INTO policy_set (id, mac) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET mac = excluded.mac`, mac)
	if v.anch != nil {
		v.anch.policies = mac
	}
	return dbErr("write vault", err)
}

// Policies returns every folder policy, sorted by folder.
func (v *Vault) Policies() ([]Policy, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	// A vault that went back in time (a whole older copy, policies and
	// all) says so, as ls does.
	if err := v.checkCurrent(); err != nil {
		return nil, err
	}
	// One snapshot of the policies and the anchor that names them.
	tx, err := v.db.Begin()
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	ps, setMAC, err := readPolicies(tx)
	if err == nil {
		err = v.verifyPolicySet(tx, ps, setMAC)
	}
	tx.Rollback()
	if err != nil {
		return nil, err
	}
	var out []Policy
	for _, row := range ps {
		mac, epoch, ct := row.folderMAC, row.epoch, row.ct
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
	return out, nil
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
