package vault

import (
	"errors"
	"path/filepath"
	"runtime"
	"testing"
)

func TestDefaultHome(t *testing.T) {
	env := func(kv map[string]string) func(string) string {
		return func(k string) string { return kv[k] }
	}
	got, err := DefaultHome(env(map[string]string{"HOME": "/h", "LOCALAPPDATA": `C:\L`, "USERPROFILE": `C:\U`}))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"darwin":  filepath.Join("/h", "Library", "Application Support", "hush"),
		"windows": filepath.Join(`C:\L`, "hush"),
	}[runtime.GOOS]
	if want == "" {
		want = filepath.Join("/h", ".local", "share", "hush")
	}
	if got != want {
		t.Errorf("DefaultHome = %q, want %q", got, want)
	}
	if runtime.GOOS != "windows" {
		got, _ := DefaultHome(env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "/x"}))
		if want := filepath.Join("/x", "hush"); got != want {
			t.Errorf("with XDG_DATA_HOME: %q, want %q", got, want)
		}
	}
	if runtime.GOOS != "windows" {
		// The XDG spec: a relative path in XDG_DATA_HOME is ignored (it
		// would put the vault wherever hush happens to be started).
		got, _ := DefaultHome(env(map[string]string{"HOME": "/h", "XDG_DATA_HOME": "rel/x"}))
		if got != want {
			t.Errorf("with a relative XDG_DATA_HOME: %q, want %q", got, want)
		}
	}
	if _, err := DefaultHome(env(nil)); !errors.Is(err, ErrNoHome) {
		t.Errorf("empty environment: %v, want ErrNoHome", err)
	}
}
