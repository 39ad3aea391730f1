package vault

import "github.com/hush-secrets/hush/crypto"

// DamagedValues authenticates every stored value of the secret name, live
// or removed, and returns the versions whose value does not open (a
// flipped byte, a value cut short or emptied), oldest first. Nothing is
// kept: each value is wiped once opened. `hush history` lists a secret's
// sizes without opening its values, so without this it would show a
// damaged one as an ordinary version (of 0 B when it was emptied).
func (v *Vault) DamagedValues(name string) ([]int, error) {
	if err := v.unlocked(name); err != nil {
		return nil, err
	}
	r, err := v.lookup(v.db, name)
	if err != nil {
		return nil, err
	}
	rows, err := v.db.Query(`SELECT version, epoch, value FROM versions WHERE secret_id = ? ORDER BY version`, r.id)
	if err != nil {
		return nil, dbErr("read vault", err)
	}
	defer rows.Close()
	var bad []int
	for rows.Next() {
		var n, epoch int
		var ct []byte
		if err := rows.Scan(&n, &epoch, &ct); err != nil {
			return nil, dbErr("read vault", err)
		}
		b, err := v.openValue(name, r.id, n, epoch, ct)
		if err != nil {
			bad = append(bad, n)
			continue
		}
		crypto.Wipe(b)
	}
	if err := rows.Err(); err != nil {
		return nil, dbErr("read vault", err)
	}
	return bad, nil
}
