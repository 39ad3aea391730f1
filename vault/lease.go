package vault

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// LeaseState is where a lease is in its life.
type LeaseState string

const (
	// LeaseCreating: recorded, the login may or may not exist yet (hush
	// records a lease before it creates the login).
	LeaseCreating LeaseState = "creating"
	// LeaseActive: the login exists and was handed to a program.
	LeaseActive LeaseState = "active"
)

// Lease is a short-lived database login that hush made from a dynamic
// source and has not yet seen dropped. It is kept in the vault (sealed,
// like a secret) from before the login is created until after it is
// dropped, so that nothing is forgotten when hush is killed.
type Lease struct {
	ID     string     `json:"-"` // hex of 16 random bytes; set by PutLease
	Source string     `json:"source"`
	State  LeaseState `json:"state"`
	// Role is the login's name on the database server.
	Role string `json:"role"`
	// Server says where the login lives (host:port/database), without
	// credentials.
	Server string `json:"server"`
	// AdminURL is the source's admin URL at the time the lease was made,
	// so the login can be dropped even after the source was changed or
	// removed. It is sealed like the source's value.
	AdminURL string    `json:"admin_url"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
	// Host, PID and PIDStart name the hush process that holds the lease:
	// a cleanup leaves the leases of a running hush alone.
	Host     string `json:"host"`
	PID      int    `json:"pid"`
	PIDStart uint64 `json:"pid_start,omitempty"`
	// LastError is the last failure to drop the login, for `dynamic leases`.
	LastError string `json:"last_error,omitempty"`
}

func (v *Vault) leaseAD(id []byte, epoch int) []byte {
	return crypto.AD("hush/v1/lease", v.hdr.vaultID, id, epoch)
}

// PutLease records l, or updates the lease with l's ID. A new lease gets a
// random ID. The write is durable when PutLease returns.
func (v *Vault) PutLease(l *Lease) error {
	if err := v.unlocked(); err != nil {
		return err
	}
	if l.Role == "" || l.Source == "" {
		return errors.New("a lease needs a source and a role")
	}
	var id []byte
	if l.ID == "" {
		b, err := crypto.Random(16)
		if err != nil {
			return err
		}
		id = b
	} else {
		b, err := hex.DecodeString(l.ID)
		if err != nil || len(b) != 16 {
			return fmt.Errorf("bad lease id %q", l.ID)
		}
		id = b
	}
	js, err := json.Marshal(l)
	if err != nil {
		return err
	}
	ct, err := crypto.Seal(v.keys.value, js, v.leaseAD(id, v.hdr.epoch))
	crypto.Wipe(js)
	if err != nil {
		return err
	}
	_, err = v.db.Exec(`INSERT INTO leases (id, epoch, created, lease) VALUES (?, ?, ?, ?)
		ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch, lease = excluded.lease`,
		id, v.hdr.epoch, l.Created.UnixNano(), ct)
	if err != nil {
		return fmt.Errorf("failed to record the lease: %w", err)
	}
	l.ID = hex.EncodeToString(id)
	return nil
}

// Leases returns every recorded lease, oldest first.
func (v *Vault) Leases() ([]*Lease, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT id, epoch, lease FROM leases ORDER BY created, id`)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	defer rows.Close()
	var out []*Lease
	for rows.Next() {
		var id, ct []byte
		var epoch int
		if err := rows.Scan(&id, &epoch, &ct); err != nil {
			return nil, fmt.Errorf("failed to read vault: %w", err)
		}
		if err := v.checkEpoch(epoch); err != nil {
			return nil, err
		}
		js, err := crypto.Open(v.keys.value, ct, v.leaseAD(id, epoch))
		if err != nil {
			return nil, &TamperError{fmt.Sprintf("lease %x", id)}
		}
		l := &Lease{}
		err = json.Unmarshal(js, l)
		crypto.Wipe(js)
		if err != nil {
			return nil, &TamperError{fmt.Sprintf("lease %x is not readable", id)}
		}
		l.ID = hex.EncodeToString(id)
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, nil
}

// DeleteLease forgets a lease (after its login was dropped). Deleting a
// lease that is not there is not an error: another hush may have dropped
// it first.
func (v *Vault) DeleteLease(id string) error {
	if err := v.unlocked(); err != nil {
		return err
	}
	b, err := hex.DecodeString(id)
	if err != nil || len(b) != 16 {
		return fmt.Errorf("bad lease id %q", id)
	}
	if _, err := v.db.Exec(`DELETE FROM leases WHERE id = ?`, b); err != nil {
		return fmt.Errorf("failed to write vault: %w", err)
	}
	return nil
}
