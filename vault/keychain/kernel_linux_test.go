package keychain

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

func putRaw(t *testing.T, _ Store, id string, raw []byte) {
	t.Helper()
	if _, err := unix.AddKey("user", description(id), raw, unix.KEY_SPEC_USER_KEYRING); err != nil {
		t.Fatal(err)
	}
}

func TestKernelKeyring(t *testing.T) {
	requireKernelKeyring(t)
	storeContract(t, Kernel{})
}

// requireKernelKeyring skips where keyctl is blocked (some containers),
// unless HUSH_TEST_REAL=1 makes that a failure.
func requireKernelKeyring(t *testing.T) {
	t.Helper()
	if _, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_USER_KEYRING, false); err != nil {
		if keychaintest.Real() {
			t.Fatalf("no kernel keyring: %v", err)
		}
		t.Skipf("no kernel keyring here: %v", err)
	}
}

// The kernel itself forgets the key when the timeout runs out.
func TestKernelKeyringExpires(t *testing.T) {
	requireKernelKeyring(t)
	s := Kernel{}
	id := randomID(t)
	defer s.Delete(id)
	if err := s.Put(id, newEntry(t, time.Now().Add(2*time.Second))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); err != nil {
		t.Fatalf("fresh key: %v", err)
	}
	keyID, err := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", description(id), 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	// Read the kernel's key directly, past our own expiry check.
	buf := make([]byte, 128)
	if _, err := unix.KeyctlBuffer(unix.KEYCTL_READ, keyID, buf, 0); !errors.Is(err, unix.EKEYEXPIRED) && !errors.Is(err, unix.ENOKEY) {
		t.Fatalf("kernel still serves the key after its timeout: %v", err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after timeout = %v, want ErrNotFound", err)
	}
}

func TestKernelKeyringCorrupt(t *testing.T) {
	requireKernelKeyring(t)
	s := Kernel{}
	id := randomID(t)
	defer s.Delete(id)
	putRaw(t, s, id, []byte("short"))
	if _, err := s.Get(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("truncated entry: %v, want ErrCorrupt", err)
	}
}

func TestKernelKeyPermissions(t *testing.T) {
	requireKernelKeyring(t)
	s := Kernel{}
	id := randomID(t)
	defer s.Delete(id)
	if err := s.Put(id, newEntry(t, time.Now().Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	keyID, _ := unix.KeyctlSearch(unix.KEY_SPEC_USER_KEYRING, "user", description(id), 0)
	desc, err := unix.KeyctlString(unix.KEYCTL_DESCRIBE, keyID)
	if err != nil {
		t.Fatal(err)
	}
	// "type;uid;gid;perm;description"
	var typ string
	var uid, gid int
	var perm uint32
	if n, _ := sscanDescribe(desc, &typ, &uid, &gid, &perm); n != 4 || perm != keyPerm {
		t.Fatalf("key description %q: permissions %08x, want %08x", desc, perm, keyPerm)
	}
}

func kernelStore(*testing.B) Store { return Kernel{} }
