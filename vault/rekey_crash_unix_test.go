//go:build unix

package vault

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/hush-secrets/hush/crypto"
)

// TestRotateKeyCrash kills a process rotating the key at each step: the
// vault then opens with the old passphrase or the new one, whole.
func TestRotateKeyCrash(t *testing.T) {
	if at := os.Getenv("HUSH_REKEY_KILL_AT"); at != "" {
		rekeyStep = func(s string) {
			if s == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
		v, err := Open(os.Getenv("HUSH_REKEY_VAULT"))
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Unlock(testPass); err != nil {
			t.Fatal(err)
		}
		v.RotateKey(newPass, crypto.FloorKDF)
		return
	}
	for _, at := range []string{"log-written", "half-resealed", "resealed", "committed", "renaming"} {
		t.Run(at, func(t *testing.T) {
			v := rekeyVault(t)
			path := v.Path()
			es, _ := v.Audit()
			v.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^TestRotateKeyCrash$", "-test.count=1")
			cmd.Env = append(os.Environ(), "HUSH_REKEY_KILL_AT="+at, "HUSH_REKEY_VAULT="+path)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("the child was not killed at %s: %v\n%s", at, err, out)
			}
			committed := at == "committed" || at == "renaming"
			pass, wrong := testPass, newPass
			if committed {
				pass, wrong = newPass, testPass
			}
			probe, _ := Open(path)
			if err := probe.Unlock(wrong); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("killed at %s: the other passphrase: %v", at, err)
			}
			probe.Close()
			checkRekeyed(t, path, pass, len(es))
			if _, err := os.Stat(rekeyPath(path)); err == nil {
				t.Fatalf("killed at %s: the re-sealed log was left behind", at)
			}
		})
	}
}
