// Command floor is the yardstick for hush's whole-process benchmarks: the
// least a program can do to print one secret of a hush vault. It takes the
// vault key from the kernel keyring (as `hush get` does after `hush
// unlock`), opens the SQLite file, reads the header and one row, and
// decrypts the value. No CLI framework, no checks beyond the AEAD's.
//
// Usage: floor VAULT_FILE NAME
package main

import (
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/keychain"
)

func main() {
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(path, name string) error {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var vaultID []byte
	var epoch int
	if err := db.QueryRow(`SELECT vault_id, epoch FROM header`).Scan(&vaultID, &epoch); err != nil {
		return err
	}
	e, err := keychain.Kernel{}.Get(hex.EncodeToString(vaultID))
	if err != nil {
		return err
	}
	lookup := e.Key.Subkey(vaultID, "hush/v1/name-lookup")
	value := e.Key.Subkey(vaultID, "hush/v1/value")
	var id, ct []byte
	var version int
	err = db.QueryRow(`SELECT s.id, v.version, v.value FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head WHERE s.name_mac = ?`,
		lookup.MAC(crypto.AD("name", name))).Scan(&id, &version, &ct)
	if err != nil {
		return err
	}
	pt, err := crypto.Open(value, ct, crypto.AD("hush/v1/secret", vaultID, id, "value", version, epoch))
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(pt)
	return err
}
