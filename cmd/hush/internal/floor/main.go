//go:build linux

// Command floor is the yardstick for hush's whole-process benchmarks: the
// least a program can do with a hush vault. It takes the vault key from the
// kernel keyring (as hush does after `hush unlock`), opens the SQLite file,
// reads what it needs and decrypts it. No CLI framework, no checks beyond
// the AEAD's.
//
//	floor VAULT_FILE get NAME              print one secret
//	floor VAULT_FILE run FOLDER CMD ARGS   exec CMD with FOLDER's secrets in its environment
package main

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"syscall"

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
	case "get":
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
