//go:build unix

package runsession

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hush-secrets/hush/cmd/hush/internal/run"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func session(t *testing.T) (*Session, *[]string) {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "default.db"), []byte("correct horse battery staple"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Set("app/X", []byte("the value"), vault.Update{}); err != nil {
		t.Fatal(err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { null.Close() })
	var recorded []string
	s := &Session{Vault: v, Stdio: run.Stdio{Stdin: null, Stdout: null, Stderr: null}, Notef: t.Logf,
		Record: func(v *vault.Vault, action string, names []string, result error) error {
			recorded = append(recorded, action+" "+names[0])
			return v.Record(action, names, result)
		}}
	return s, &recorded
}

func options(t *testing.T, script string) run.Options {
	t.Helper()
	o, _, err := run.Prepare(run.Request{From: []string{"app"}, NoProject: true,
		Env: map[string]string{"PATH": os.Getenv("PATH")}, Command: []string{"sh", "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// The program gets its secrets once the audit log shows them, and its
// exit code is the session's.
func TestRunRecordsThenRunsAndReturnsTheExitCode(t *testing.T) {
	s, recorded := session(t)
	mark := filepath.Join(t.TempDir(), "ran")
	code, err := s.Run(options(t, `test "$X" = "the value" && touch `+mark+` && exit 3`), Mode{Mask: true})
	if err != nil || code != 3 {
		t.Fatalf("Run = %d, %v; want 3", code, err)
	}
	if _, err := os.Stat(mark); err != nil {
		t.Fatalf("the program did not run with its secret: %v", err)
	}
	if !slices.Equal(*recorded, []string{"run app/X"}) {
		t.Fatalf("recorded %q", *recorded)
	}
}

// When the audit entry cannot be written, nothing is handed out.
func TestRunStartsNothingTheLogDoesNotShow(t *testing.T) {
	s, _ := session(t)
	refused := errors.New("the audit log could not be written")
	s.Record = func(*vault.Vault, string, []string, error) error { return refused }
	mark := filepath.Join(t.TempDir(), "ran")
	if _, err := s.Run(options(t, "touch "+mark), Mode{Mask: true}); !errors.Is(err, refused) {
		t.Fatalf("Run = %v, want the record's error", err)
	}
	if _, err := os.Stat(mark); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the program ran although its run was not recorded: %v", err)
	}
}
