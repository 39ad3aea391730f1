package keychain

import (
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault/keychain/keychaintest"
)

func newEntry(t *testing.T, expires time.Time) Entry {
	t.Helper()
	k, err := crypto.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return Entry{Key: k, Expires: expires}
}

func randomID(t *testing.T) string {
	b, err := crypto.Random(16)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func TestEncodeDecode(t *testing.T) {
	e := newEntry(t, time.Unix(1900000000, 0))
	got, err := decode(encode(e))
	if err != nil || *got.Key != *e.Key || !got.Expires.Equal(e.Expires) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	forever := newEntry(t, time.Time{})
	if got, _ := decode(encode(forever)); !got.Expires.IsZero() {
		t.Fatal("no expiry became one")
	}
	b := encode(e)
	for _, bad := range [][]byte{nil, b[:len(b)-1], append(b, 0), append([]byte("hush-key-v2"), b[11:]...)} {
		if _, err := decode(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decode(%d bytes) = %v, want ErrCorrupt", len(bad), err)
		}
	}
}

// storeContract is what every Store must do.
func storeContract(t *testing.T, s Store) {
	id := randomID(t)
	t.Cleanup(func() { s.Delete(id) })
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: Get of nothing = %v, want ErrNotFound", s.Name(), err)
	}
	e := newEntry(t, time.Now().Add(time.Hour))
	if err := s.Put(id, e); err != nil {
		t.Fatalf("%s: Put: %v", s.Name(), err)
	}
	got, err := s.Get(id)
	if err != nil || *got.Key != *e.Key || got.Expires.Unix() != e.Expires.Unix() {
		t.Fatalf("%s: Get = %+v %v", s.Name(), got, err)
	}
	// Put replaces.
	e2 := newEntry(t, time.Time{})
	if err := s.Put(id, e2); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(id); *got.Key != *e2.Key || !got.Expires.IsZero() {
		t.Fatalf("%s: Put did not replace", s.Name())
	}
	// Another vault's id finds nothing.
	if _, err := s.Get(randomID(t)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: another vault's id = %v", s.Name(), err)
	}
	if err := s.Delete(id); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: Get after Delete = %v", s.Name(), err)
	}
	if err := s.Delete(id); err != nil {
		t.Fatalf("%s: second Delete = %v", s.Name(), err)
	}
	// An entry whose own expiry has passed is refused and deleted even if
	// the store still holds it.
	past := newEntry(t, time.Now().Add(-time.Minute))
	raw := encode(past)
	switch st := s.(type) {
	case *OS:
		if err := st.call(func() error { return keyring.Set(Service, id, b64(raw)) }); err != nil {
			t.Fatal(err)
		}
	default:
		putRaw(t, s, id, raw)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: expired entry = %v, want ErrNotFound", s.Name(), err)
	}
}

// TestOSKeychain runs against a real gnome-keyring on a private bus, and
// checks the item with secret-tool, a client hush did not write.
func TestOSKeychain(t *testing.T) {
	svc := startSecretService(t)
	for _, kv := range svc.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	s := NewOS()
	storeContract(t, s)

	id := randomID(t)
	e := newEntry(t, time.Now().Add(time.Hour))
	e.Label = "hush: key of vault work (/home/me/.local/share/hush/vaults/work.db)"
	if err := s.Put(id, e); err != nil {
		t.Fatal(err)
	}
	defer s.Delete(id)
	if _, err := exec.LookPath("secret-tool"); err == nil || keychaintest.Real() {
		out, err := exec.Command("secret-tool", "search", "--all", "service", Service).CombinedOutput()
		if err != nil || !strings.Contains(string(out), id) {
			t.Fatalf("secret-tool does not find the item for %s: %v\n%s", id, err, out)
		}
		// The item says which vault it is for and what it is, not
		// "Password for '<id>' on 'hush'".
		if !strings.Contains(string(out), "label = "+e.Label) {
			t.Fatalf("the keychain item's label is not %q:\n%s", e.Label, out)
		}
	}
	// A damaged item is reported as such.
	if err := s.call(func() error { return keyring.Set(Service, id, "not base64 at all!") }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(id); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("damaged item: %v, want ErrCorrupt", err)
	}
}

func TestOSKeychainUnavailable(t *testing.T) {
	// No bus at all: unavailable at once, and no dbus-launch is tried.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	s := NewOS()
	start := time.Now()
	if _, err := s.Get("x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no bus: %v, want ErrUnavailable", err)
	}
	if err := s.Put("x", newEntry(t, time.Time{})); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("no bus Put: %v", err)
	}
	// A bus address where nothing listens.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+t.TempDir()+"/nothing")
	if _, err := s.Get("x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("dead bus: %v, want ErrUnavailable", err)
	}
	// A bus with no Secret Service on it.
	if bus, err := keychaintest.StartBus(); err == nil {
		defer bus.Stop()
		for _, kv := range bus.Env() {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		if _, err := NewOS().Get("x"); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("bus without a Secret Service: %v, want ErrUnavailable", err)
		}
	} else if keychaintest.Real() {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*DefaultTimeout {
		t.Fatalf("took %s: a missing keychain must not make hush wait", d)
	}
}

func startSecretService(t *testing.T) *keychaintest.Service {
	t.Helper()
	svc, err := keychaintest.Start()
	if errors.Is(err, keychaintest.ErrMissing) && !keychaintest.Real() {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Stop)
	return svc
}

func BenchmarkKernelGet(b *testing.B) {
	benchStore(b, func(b *testing.B) Store { return kernelStore(b) })
}

// BenchmarkOSGet is one Secret Service round trip over D-Bus, against a
// private gnome-keyring.
func BenchmarkOSGet(b *testing.B) {
	benchStore(b, func(b *testing.B) Store {
		svc, err := keychaintest.Start()
		if err != nil {
			b.Skip(err)
		}
		b.Cleanup(svc.Stop)
		for _, kv := range svc.Env() {
			k, v, _ := strings.Cut(kv, "=")
			b.Setenv(k, v)
		}
		return NewOS()
	})
}

func benchStore(b *testing.B, open func(*testing.B) Store) {
	s := open(b)
	key, _ := crypto.NewKey()
	id := hex.EncodeToString(key[:16])
	if err := s.Put(id, Entry{Key: key, Expires: time.Now().Add(time.Hour)}); err != nil {
		b.Skip(err)
	}
	b.Cleanup(func() { s.Delete(id) })
	for b.Loop() {
		if _, err := s.Get(id); err != nil {
			b.Fatal(err)
		}
	}
}
