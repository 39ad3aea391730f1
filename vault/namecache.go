package vault

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/hush-secrets/hush/crypto"
)

// The name cache lets shell completion list every name without decrypting
// every row: [Vault.Index] costs about 0.7 s at 100,000 secrets, the cache
// a few milliseconds. It is a file beside the vault, NAME.names, sealed
// like everything else (XChaCha20-Poly1305 under its own subkey of the
// vault key), so it shows no name. Its first bytes are a stamp of the
// secrets table (count, versions, last change, removals); a cache whose
// stamp is not the table's is stale and is rebuilt from Index. A cache that
// does not open (another epoch's key, a damaged or swapped file) is rebuilt
// too: it is a copy, never the source of truth.

const nameCacheMagic = "hush-names-v1\n"

// NameCachePath is the cache file of the vault at path.
func NameCachePath(path string) string {
	return strings.TrimSuffix(path, filepath.Ext(path)) + ".names"
}

// stamp summarises the secrets table: any set, rename, removal, purge or
// sync changes it. It reads no ciphertext.
func (v *Vault) stamp() ([]byte, error) {
	var count, heads, updated, removed int64
	var removedAt float64
	err := v.db.QueryRow(`SELECT count(*), coalesce(sum(head), 0), coalesce(max(updated), 0),
		count(deleted), total(deleted) FROM secrets`).Scan(&count, &heads, &updated, &removed, &removedAt)
	if err != nil {
		return nil, fmt.Errorf("failed to read vault: %w", err)
	}
	b := binary.BigEndian.AppendUint64(nil, uint64(count))
	b = binary.BigEndian.AppendUint64(b, uint64(heads))
	b = binary.BigEndian.AppendUint64(b, uint64(updated))
	b = binary.BigEndian.AppendUint64(b, uint64(removed))
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(removedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(v.hdr.epoch))
	return b, nil
}

func (v *Vault) nameCacheKey() *crypto.Key {
	return v.keys.vault.Subkey(v.hdr.vaultID, "hush/v1/name-cache")
}

func (v *Vault) nameCacheAD(stamp []byte) []byte {
	return crypto.AD("hush/v1/name-cache", v.hdr.vaultID, stamp)
}

// Names returns every live secret's name, sorted, for shell completion:
// from the sealed name cache when it is current, else from [Vault.Index],
// writing the cache for next time (a failure to write it only costs time).
func (v *Vault) Names() ([]string, error) {
	if err := v.unlocked(); err != nil {
		return nil, err
	}
	stamp, err := v.stamp()
	if err != nil {
		return nil, err
	}
	if v.memory {
		return v.indexNames()
	}
	key := v.nameCacheKey()
	defer key.Wipe()
	path := NameCachePath(v.path)
	if names, ok := v.readNameCache(path, key, stamp); ok {
		return names, nil
	}
	idx, err := v.Index()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(idx))
	for i, e := range idx {
		names[i] = e.Name
	}
	_ = v.writeNameCache(path, key, stamp, names)
	return names, nil
}

func (v *Vault) readNameCache(path string, key *crypto.Key, stamp []byte) ([]string, bool) {
	// Opened as the vault's own files are: never through a link, only the
	// user's own with no permissions for others; anything else is
	// rebuilt (the rename in writeNameCache replaces it).
	f, err := private.Open(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, false
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil || !bytes.HasPrefix(b, []byte(nameCacheMagic)) {
		return nil, false
	}
	b = b[len(nameCacheMagic):]
	if !bytes.HasPrefix(b, stamp) {
		return nil, false // stale: the vault changed since
	}
	plain, err := crypto.Open(key, b[len(stamp):], v.nameCacheAD(stamp))
	if err != nil {
		return nil, false
	}
	if len(plain) == 0 {
		return []string{}, true
	}
	return strings.Split(string(plain), "\n"), true
}

// writeNameCache writes the cache atomically (a temporary file renamed
// over it), readable by the owner only, like the vault.
func (v *Vault) writeNameCache(path string, key *crypto.Key, stamp []byte, names []string) error {
	plain := []byte(strings.Join(names, "\n"))
	defer crypto.Wipe(plain)
	sealed, err := crypto.Seal(key, plain, v.nameCacheAD(stamp))
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".names-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	out := append([]byte(nameCacheMagic), stamp...)
	if _, err := f.Write(append(out, sealed...)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// indexNames is Names without the cache (a memory vault has no file to
// keep one in).
func (v *Vault) indexNames() ([]string, error) {
	idx, err := v.Index()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(idx))
	for i, e := range idx {
		names[i] = e.Name
	}
	return names, nil
}
