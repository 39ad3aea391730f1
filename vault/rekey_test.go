package vault

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
)

var newPass = []byte("a different passphrase entirely")

// rekeyVault holds secrets with history, a policy, a lease, a sync setting
// and audit entries of changes and reads.
func rekeyVault(t *testing.T) *Vault {
	t.Helper()
	v := newVault(t)
	for i := range 5 {
		for j := range 3 {
			v.Intend("set", []string{"x"})
			mustSet(t, v, fmt.Sprintf("app/f%d/K%d", i%2, i), fmt.Sprintf("value-%d-%d", i, j))
		}
	}
	v.IntendRead("get", []string{"app/f0/K0"})
	if _, err := v.Get("app/f0/K0"); err != nil {
		t.Fatal(err)
	}
	if err := v.SetPolicy("app/f1", 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := v.PutLease(&Lease{Source: "db/admin", Role: "hush_0123456789abcdef", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := v.Replica().SetSyncState("server", []byte("https://example.invalid")); err != nil {
		t.Fatal(err)
	}
	return v
}

// checkRekeyed opens path with pass and checks that everything is there.
func checkRekeyed(t *testing.T, path string, pass []byte, entries int) *Vault {
	t.Helper()
	v, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	if err := v.Unlock(pass); err != nil {
		t.Fatalf("unlock with %q: %v", pass, err)
	}
	for i := range 5 {
		name := fmt.Sprintf("app/f%d/K%d", i%2, i)
		s, err := v.Get(name)
		if err != nil || string(s.Value) != fmt.Sprintf("value-%d-2", i) {
			t.Fatalf("%s: %v, %v", name, s, err)
		}
		if old, err := v.GetVersion(name, 1); err != nil || string(old.Value) != fmt.Sprintf("value-%d-0", i) {
			t.Fatalf("%s version 1: %v", name, err)
		}
	}
	if l, err := v.Children("app/f1"); err != nil || len(l) != 2 {
		t.Fatalf("folder lookup after rotation: %d, %v", len(l), err)
	}
	if ps, err := v.Policies(); err != nil || len(ps) != 1 || ps[0].Folder != "app/f1" {
		t.Fatalf("policies: %v, %v", ps, err)
	}
	if ls, err := v.Leases(); err != nil || len(ls) != 1 {
		t.Fatalf("leases: %v, %v", ls, err)
	}
	if b, err := v.Replica().SyncState("server"); err != nil || string(b) != "https://example.invalid" {
		t.Fatalf("sync state: %q, %v", b, err)
	}
	es, err := v.Audit()
	if err != nil || len(es) != entries {
		t.Fatalf("audit after rotation: %d entries, %v (want %d)", len(es), err, entries)
	}
	return v
}

func TestRotateKey(t *testing.T) {
	v := rekeyVault(t)
	path := v.Path()
	oldKey, _ := v.Key()
	v.Close()
	backup := path + ".backup"
	copyFile(t, path, backup)

	v = reopenKey(t, path)
	es, _ := v.Audit()
	if err := v.RotateKey(newPass, crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	if v.Epoch() != 2 {
		t.Fatalf("epoch %d after rotation", v.Epoch())
	}
	v.Intend("set", []string{"app/after"})
	mustSet(t, v, "app/after", "written after the rotation")
	v.Close()

	v = checkRekeyed(t, path, newPass, len(es)+1)
	v.Close()

	v, _ = Open(path)
	defer v.Close()
	if err := v.Unlock(testPass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("the old passphrase after rotation: %v", err)
	}
	if err := v.UnlockWithKey(oldKey); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the old remembered key after rotation: %v", err)
	}

	// An old copy's header put back (a writer, a backup): the old
	// passphrase opens the header, and nothing written since.
	b, _ := Open(backup)
	b.Unlock(testPass)
	h := b.hdr
	b.Close()
	path = tamperFile(t, v, fmt.Sprintf(`UPDATE header SET epoch = %d, salt = x'%x', check_mac = x'%x', wrapped_key = x'%x', header_mac = x'%x'`,
		h.epoch, h.salt, h.checkMAC, h.wrappedKey, h.headerMAC))
	v2, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.UnlockWithKey(oldKey); err != nil {
		t.Fatalf("setup: the old header with its key: %v", err)
	}
	if s, err := v2.Get("app/after"); err == nil {
		t.Fatalf("the old key read a secret written after the rotation: %q", s.Value)
	}
	if s, err := v2.Get("app/f0/K0"); err == nil {
		t.Fatalf("the old key read a secret re-sealed by the rotation: %q", s.Value)
	}
}

// TestRotateKeyConcurrentOpen: a hush that opens the vault with the old
// key while a rotation is under way (its re-sealed log written, its
// transaction not yet committed) must not remove that log: it waits for
// the write lock, and after the commit its key is stale. The rotation's
// log then replaces the old one and the vault opens with every entry.
func TestRotateKeyConcurrentOpen(t *testing.T) {
	v := rekeyVault(t)
	path := v.Path()
	es, err := v.Audit()
	if err != nil {
		t.Fatal(err)
	}
	old := busyTimeout
	busyTimeout = 200 * time.Millisecond
	defer func() { busyTimeout = old }()
	other, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Unlock(testPass); err != nil {
		t.Fatal(err)
	}
	var during error
	rekeyStep = func(s string) {
		if s != "resealed" {
			return
		}
		// The other hush reads the log: before the fix it judged the
		// re-sealed log foreign under the old key and removed it.
		_, during = other.Audit()
		if _, err := os.Lstat(rekeyPath(path)); err != nil {
			t.Errorf("the re-sealed log is gone while the rotation is under way: %v", err)
		}
	}
	defer func() { rekeyStep = nil }()
	if err := v.RotateKey(newPass, crypto.FloorKDF); err != nil {
		t.Fatal(err)
	}
	rekeyStep = nil
	if !errors.Is(during, ErrBusy) {
		t.Errorf("the other hush during the rotation: %v, want ErrBusy", during)
	}
	// After the commit, the stale key is told so, and nothing is removed.
	if _, err := other.Audit(); err == nil {
		t.Errorf("the old key read the log after the rotation")
	}
	other.Close()
	v.Close()
	checkRekeyed(t, path, newPass, len(es)+0).Close()
}
