package vault

import (
	"bytes"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

// TestSetManyAcrossSortedRuns: more new secrets than one sorted run, in
// two folders, with an existing secret in the middle: every result is in
// the order asked, every value and folder count is right after the write
// (the rows were written in id order, not in the order given).
func TestSetManyAcrossSortedRuns(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "a/EXISTING", "old")
	var reqs []SetRequest
	want := map[string]string{}
	for i := range sortedRun + 5 {
		if i == sortedRun/2 {
			reqs = append(reqs, SetRequest{Name: "a/EXISTING", Value: []byte("new")})
			want["a/EXISTING"] = "new"
		}
		name := fmt.Sprintf("%c/N%05d", 'a'+i%2, i)
		reqs = append(reqs, SetRequest{Name: name, Value: fmt.Appendf(nil, "value %d", i)})
		want[name] = fmt.Sprintf("value %d", i)
	}
	res, err := v.SetMany(reqs, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Name != reqs[i].Name {
			t.Fatalf("result %d is %s, want %s", i, r.Name, reqs[i].Name)
		}
	}
	v = reopen(t, v)
	got := map[string]string{}
	for _, folder := range []string{"a", "b"} {
		ss, err := v.Children(folder)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ss {
			got[s.Name] = string(s.Value)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d secrets after the write, want %d", len(got), len(want))
	}
	for name, value := range want {
		if got[name] != value {
			t.Fatalf("%s = %q, want %q", name, got[name], value)
		}
	}
	if s, err := v.Get("a/EXISTING"); err != nil || s.Version != 2 {
		t.Fatalf("a/EXISTING after the write: %v, %v; want version 2", s, err)
	}
}

// TestSetManyFailedInsertWritesNothing: a batched INSERT that breaks a
// constraint (OR ROLLBACK: SQLite ends the whole transaction) fails the
// write with nothing of it stored, the vault's checks still pass, and
// the vault takes the next write.
func TestSetManyFailedInsertWritesNothing(t *testing.T) {
	v := newVault(t)
	mustSet(t, v, "app/KEEP", "kept")
	err := v.write(func(tx *sql.Tx) error {
		now := time.Now().UnixNano()
		var rows []newRow
		for i := range 3 {
			name := fmt.Sprintf("app/N%d", i)
			r, err := v.newRow(name, v.nameMAC(name), v.folderMAC("app"), Meta{Type: TypeOther}, []byte("v"), now)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
		if err := v.insertRows(tx, rows[:2]); err != nil {
			return err
		}
		return v.insertRows(tx, rows) // rows[0] and rows[1] again: their ids and names are taken
	})
	if err == nil {
		t.Fatal("writing the same rows twice succeeded")
	}
	v = reopen(t, v)
	idx, err := v.Index()
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 1 || idx[0].Name != "app/KEEP" {
		t.Fatalf("index after the failed write: %v", idx)
	}
	if _, err := v.List("app"); err != nil {
		t.Fatalf("list after the failed write: %v", err)
	}
	if _, err := v.Get("app/N0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a row of the failed write: %v", err)
	}
	mustSet(t, v, "app/AFTER", "x")
	if s, err := v.Get("app/KEEP"); err != nil || string(s.Value) != "kept" {
		t.Fatalf("app/KEEP: %v %v", s, err)
	}
}

// TestSecretADIsCryptoAD: the associated data the vault builds for a
// sealed field is byte for byte crypto.AD of the same parts.
func TestSecretADIsCryptoAD(t *testing.T) {
	v := newVault(t)
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		id := make([]byte, rnd.IntN(40))
		for j := range id {
			id[j] = byte(rnd.IntN(256))
		}
		field := []string{"name", "meta", "value", "", "x\x00y"}[i%5]
		version, epoch := rnd.IntN(1<<40)-1<<20, rnd.IntN(1000)
		if i%7 == 0 {
			version = -version
		}
		got := v.ad(id, field, version, epoch)
		want := crypto.AD("hush/v1/secret", v.hdr.vaultID, id, field, version, epoch)
		if !bytes.Equal(got, want) {
			t.Fatalf("ad(%x, %q, %d, %d) = %x, want %x", id, field, version, epoch, got, want)
		}
	}
}
