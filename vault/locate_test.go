package vault

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLocate(t *testing.T) {
	env := map[string]string{"HUSH_HOME": "/h"}
	getenv := func(k string) string { return env[k] }
	if name, path, err := Locate("", getenv); name != "default" || path != filepath.Join("/h", "vaults", "default.db") || err != nil {
		t.Errorf("default: %s %s %v", name, path, err)
	}
	env["HUSH_VAULT"] = "team"
	if name, _, _ := Locate("", getenv); name != "team" {
		t.Errorf("HUSH_VAULT: %s", name)
	}
	if name, _, _ := Locate("work", getenv); name != "work" {
		t.Errorf("a name given wins over HUSH_VAULT: %s", name)
	}
	for _, bad := range []string{".hidden", "-x", "a/b", "../x", string(make([]byte, 65))} {
		if _, _, err := Locate(bad, getenv); !errors.Is(err, ErrVaultName) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if runtime.GOOS == "linux" {
		env = map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/home/u"}
		if h, _ := Home(getenv); h != "/x/hush" {
			t.Errorf("XDG_DATA_HOME: %s", h)
		}
		delete(env, "XDG_DATA_HOME")
		if h, _ := Home(getenv); h != "/home/u/.local/share/hush" {
			t.Errorf("HOME: %s", h)
		}
		delete(env, "HOME")
		if _, err := Home(getenv); err == nil {
			t.Error("no HOME: no error")
		}
	}
}
