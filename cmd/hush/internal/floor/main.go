//go:build linux

// Command floor is the yardstick for hush's whole-process benchmarks: the
// least a program can do with a hush vault. It takes the vault key from the
// kernel keyring (as hush does after `hush unlock`), opens the SQLite file,
// reads what it needs and decrypts it. No CLI framework, no checks beyond
// the AEAD's.
//
//	floor VAULT_FILE get NAME              print one secret
//	floor VAULT_FILE get-audited NAME      the same, after appending one entry to an audit log
//	floor VAULT_FILE run FOLDER CMD ARGS   exec CMD with FOLDER's secrets in its environment
//
// get-audited is the second yardstick for `hush get`: what the issue
// requires of a get besides reading (an audit entry written before the
// value leaves), done the least way. It appends one entry to its own log,
// VAULT_FILE.floor-audit.db (hush's log schema, made on first use), as
// hush does: a separate SQLite file with the same pragmas (rollback
// journal in memory, no fsync, secure_delete), in one immediate
// transaction, the entry's JSON sealed (XChaCha20-Poly1305 under a
// subkey) and chained (HMAC of the previous entry's MAC, its number and
// the sealed entry), and the log's head row written. It checks nothing of
// the vault or the log beyond what it reads (no schema check, no anchor,
// no row MAC or folder count): the difference between it and hush is what
// hush's checks and its start-up cost.
package main

import (
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"syscall"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/keychain"
)

func main() {
	if err := run(os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

type keys struct {
	vaultID       []byte
	epoch         int
	lookup, value *crypto.Key
	vault         *crypto.Key
}

func open(file string) (*sql.DB, *keys, error) {
	db, err := sql.Open("sqlite3", "file:"+file+"?mode=ro")
	if err != nil {
		return nil, nil, err
	}
	k := &keys{}
	if err := db.QueryRow(`SELECT vault_id, epoch FROM header`).Scan(&k.vaultID, &k.epoch); err != nil {
		return nil, nil, err
	}
	e, err := keychain.Kernel{}.Get(hex.EncodeToString(k.vaultID))
	if err != nil {
		return nil, nil, err
	}
	k.lookup = e.Key.Subkey(k.vaultID, "hush/v1/name-lookup")
	k.value = e.Key.Subkey(k.vaultID, "hush/v1/value")
	k.vault = e.Key
	return db, k, nil
}

func (k *keys) open(id []byte, version int, ct []byte) ([]byte, error) {
	return crypto.Open(k.value, ct, crypto.AD("hush/v1/secret", k.vaultID, id, "value", version, k.epoch))
}

func run(file, mode string, args []string) error {
	db, k, err := open(file)
	if err != nil {
		return err
	}
	defer db.Close()
	switch mode {
	case "get", "get-audited":
		var id, ct []byte
		var version int
		err = db.QueryRow(`SELECT s.id, v.version, v.value FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.name_mac = ?`,
			k.lookup.MAC(crypto.AD("name", args[0]))).Scan(&id, &version, &ct)
		if err != nil {
			return err
		}
		pt, err := k.open(id, version, ct)
		if err != nil {
			return err
		}
		if mode == "get-audited" {
			if err := appendAudit(file, k, "get", args[0]); err != nil {
				return err
			}
		}
		_, err = os.Stdout.Write(pt)
		return err
	case "run":
		// The floor knows the variable names it wants (it stores nothing
		// else): the secrets of the folder, found by the folder's MAC, named
		// by a counter instead of decrypting their names.
		rows, err := db.Query(`SELECT s.id, v.version, v.value FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.folder_mac = ?`,
			k.lookup.MAC(crypto.AD("folder", args[0])))
		if err != nil {
			return err
		}
		env := os.Environ()
		for i := 0; rows.Next(); i++ {
			var id, ct []byte
			var version int
			if err := rows.Scan(&id, &version, &ct); err != nil {
				return err
			}
			pt, err := k.open(id, version, ct)
			if err != nil {
				return err
			}
			env = append(env, fmt.Sprintf("S%d=%s", i, pt))
		}
		rows.Close()
		db.Close()
		bin, err := exec.LookPath(args[1])
		if err != nil {
			return err
		}
		return syscall.Exec(bin, append([]string{path.Base(bin)}, args[2:]...), env)
	}
	return fmt.Errorf("unknown mode %q", mode)
}

// appendAudit appends one entry to the floor's own audit log beside file
// (see the package comment): the least a get's audit entry costs.
func appendAudit(file string, k *keys, action, name string) error {
	seal, chain := k.vault.Subkey(k.vaultID, "hush/v1/audit"), k.vault.Subkey(k.vaultID, "hush/v1/audit-chain")
	u := &url.URL{Path: file + ".floor-audit.db"}
	db, err := sql.Open("sqlite3", "file:"+u.EscapedPath()+"?mode=rwc&_txlock=immediate&_journal_mode=MEMORY&_synchronous=OFF&_secure_delete=on")
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq int
	var prev []byte
	err = tx.QueryRow(`SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		// A new log: hush's schema.
		if _, err := tx.Exec(`CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL, mac BLOB NOT NULL);
			CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, mac BLOB NOT NULL)`); err != nil {
			return err
		}
	}
	seq++
	host, _ := os.Hostname()
	js, err := json.Marshal(struct {
		Seq    int       `json:"seq"`
		Time   time.Time `json:"time"`
		Device string    `json:"device"`
		Action string    `json:"action"`
		Names  []string  `json:"names"`
		Result string    `json:"result"`
	}{seq, time.Now().UTC(), host, action, []string{name}, "ok"})
	if err != nil {
		return err
	}
	ct, err := crypto.Seal(seal, js, crypto.AD("hush/v1/audit", k.vaultID, seq))
	if err != nil {
		return err
	}
	mac := chain.MAC(crypto.AD("hush/v1/audit-chain", prev, seq, ct))
	if _, err := tx.Exec(`INSERT INTO audit (seq, entry, mac) VALUES (?, ?, ?)`, seq, ct, mac); err != nil {
		return err
	}
	if _, err := tx.Exec(`INSERT INTO audit_head (id, seq, mac) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, mac = excluded.mac`,
		seq, chain.MAC(crypto.AD("hush/v1/audit-head", seq, mac))); err != nil {
		return err
	}
	return tx.Commit()
}
