package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hush-secrets/hush/crypto"
)

// damageFixture is a real vault, closed (everything in its main file), its
// key and what it holds.
var damageFixture struct {
	once   sync.Once
	file   []byte
	key    *crypto.Key
	values map[string]string
	err    error
}

func damagedSource(t testing.TB) ([]byte, *crypto.Key, map[string]string) {
	f := &damageFixture
	f.once.Do(func() {
		dir, err := os.MkdirTemp("", "hush-fuzz-")
		if err != nil {
			f.err = err
			return
		}
		defer os.RemoveAll(dir)
		path := filepath.Join(dir, "vaults", "v.db")
		v, err := Create(path, testPass, CreateOptions{KDF: crypto.FloorKDF})
		if err != nil {
			f.err = err
			return
		}
		f.values = map[string]string{}
		for i := range 40 {
			name := fmt.Sprintf("app/f%d/K%d", i%4, i)
			val := fmt.Sprintf("value-%d-%s", i, bytes.Repeat([]byte{'x'}, i*20))
			f.values[name] = val
			v.Intend("set", []string{name})
			if _, err := v.Set(name, []byte(val), Update{}); err != nil {
				f.err = err
				return
			}
		}
		f.key, _ = v.Key()
		v.Close()
		f.file, f.err = os.ReadFile(path)
	})
	if f.err != nil {
		t.Fatal(f.err)
	}
	return f.file, f.key, f.values
}

// FuzzDamagedVault flips a bit, cuts the file, or zeroes a page of a real
// vault, then runs what commands do: every step ends in the right value or
// an error, never a panic and never a wrong value.
func FuzzDamagedVault(f *testing.F) {
	f.Add(uint8(0), uint32(60), uint8(0x80)) // the user version: issue 15's panic
	f.Add(uint8(0), uint32(28), uint8(0x01)) // the page count
	f.Add(uint8(0), uint32(16), uint8(0x02)) // the page size
	f.Add(uint8(0), uint32(100), uint8(0x10))
	f.Add(uint8(0), uint32(5000), uint8(0x04))
	f.Add(uint8(1), uint32(0), uint8(0))
	f.Add(uint8(1), uint32(4096), uint8(0))
	f.Add(uint8(1), uint32(20000), uint8(0))
	f.Add(uint8(2), uint32(0), uint8(0))
	f.Add(uint8(2), uint32(4096), uint8(0))
	f.Add(uint8(2), uint32(12288), uint8(0))
	f.Fuzz(func(t *testing.T, op uint8, off uint32, bit uint8) {
		orig, key, values := damagedSource(t)
		b := bytes.Clone(orig)
		at := int(off) % len(b)
		switch op % 3 {
		case 0:
			if bit == 0 {
				bit = 1
			}
			b[at] ^= bit
		case 1:
			b = b[:at]
		case 2:
			page := 4096
			start := at / page * page
			clear(b[start:min(start+page, len(b))])
		}
		path := filepath.Join(t.TempDir(), "vaults", "v.db")
		os.MkdirAll(filepath.Dir(path), 0o700)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := Open(path)
		if err != nil {
			return
		}
		defer v.Close()
		if err := v.UnlockWithKey(key); err != nil {
			return
		}
		for name, want := range values {
			s, err := v.Get(name)
			if err == nil && string(s.Value) != want {
				t.Fatalf("%s: a damaged file gave a wrong value", name)
			}
		}
		if l, err := v.List(""); err == nil {
			for _, e := range l {
				if _, ok := values[e.Name]; !ok {
					t.Fatalf("a damaged file listed a secret that never was: %q", e.Name)
				}
			}
		}
		for _, folder := range []string{"app/f0", "app/f3"} {
			if l, err := v.Children(folder); err == nil {
				for _, s := range l {
					if values[s.Name] != string(s.Value) {
						t.Fatalf("%s: a damaged file exported a wrong value", s.Name)
					}
				}
			}
		}
		v.Intend("set", []string{"new"})
		if _, err := v.Set("app/new", []byte("n"), Update{}); err == nil {
			if s, err := v.Get("app/new"); err == nil && string(s.Value) != "n" {
				t.Fatal("a value written to a damaged file reads back wrong")
			}
		}
		if _, err := v.Audit(); err != nil && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrDamaged) && !errors.Is(err, os.ErrNotExist) {
			_ = err // any error is fine; a panic is not
		}
	})
}
