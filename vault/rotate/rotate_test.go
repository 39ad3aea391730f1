package rotate

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func newVault(t *testing.T) *vault.Vault {
	t.Helper()
	v, err := vault.Create(filepath.Join(t.TempDir(), "vaults", "test.db"), []byte("correct horse"), vault.CreateOptions{KDF: crypto.FloorKDF})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func set(t *testing.T, v *vault.Vault, name, value string, u vault.Update) {
	t.Helper()
	if _, err := v.Set(name, []byte(value), u); err != nil {
		t.Fatal(err)
	}
}

func value(t *testing.T, v *vault.Vault, name string) string {
	t.Helper()
	s, err := v.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(s.Value)
}

// A rotator gets the old value and the name, never hush's passphrase
// variables, and is kept for next time.
func TestRotateWithARotator(t *testing.T) {
	v := newVault(t)
	set(t, v, "app/KEY", "old-value", vault.Update{})
	var stderr bytes.Buffer
	o := Options{With: `read old; echo "$old-$HUSH_ROTATE_NAME-${HUSH_PASSPHRASE:-none}-${HUSH_NEW_PASSPHRASE:-none}-$KEEP"; echo note >&2`,
		Environ: []string{"HUSH_PASSPHRASE=secret", "HUSH_NEW_PASSPHRASE=secret2", "HUSH_ROTATE_NAME=spoofed", "KEEP=kept", "PATH=" + os.Getenv("PATH")},
		Stderr:  &stderr}
	res, err := Rotate(v, "app/KEY", o)
	if err != nil || res.Version != 2 {
		t.Fatalf("%+v, %v", res, err)
	}
	if got := value(t, v, "app/KEY"); got != "old-value-app/KEY-none-none-kept" {
		t.Errorf("new value %q", got)
	}
	if stderr.String() != "note\n" {
		t.Errorf("rotator's stderr: %q", stderr.String())
	}
	// Next time the kept rotator runs without being named.
	if _, err := Rotate(v, "app/KEY", Options{Environ: o.Environ}); err != nil {
		t.Fatal(err)
	}
	if got := value(t, v, "app/KEY"); !strings.HasPrefix(got, "old-value-app/KEY-none-none-kept-app/KEY") {
		t.Errorf("second rotation: %q", got)
	}
}

// A rotator that fails, prints nothing, prints the current value or
// outlives its time changes nothing; its whole process group is killed.
func TestRotateFailuresChangeNothing(t *testing.T) {
	v := newVault(t)
	set(t, v, "app/KEY", "same", vault.Update{})
	if _, err := Rotate(v, "app/KEY", Options{}); !errors.Is(err, ErrNoRotator) {
		t.Errorf("no rotator kept: %v", err)
	}
	dir := t.TempDir()
	for _, tc := range []struct{ with, want string }{
		{"exit 3", "failed (exit status 3)"},
		{"true", "printed nothing"},
		{"sh -c 'echo $$ > " + filepath.Join(dir, "orphan") + "; sleep 300' & sleep 300", "did not finish within 1s"},
	} {
		_, err := Rotate(v, "app/KEY", Options{With: tc.with, Timeout: time.Second, Environ: []string{"PATH=" + os.Getenv("PATH")}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.with, err, tc.want)
		}
		if got := value(t, v, "app/KEY"); got != "same" {
			t.Fatalf("%s: the value became %q", tc.with, got)
		}
	}
	pid, err := os.ReadFile(filepath.Join(dir, "orphan"))
	if err != nil {
		t.Fatal(err)
	}
	if !gone(strings.TrimSpace(string(pid))) {
		t.Error("the timed-out rotator's child kept running")
	}
	// A kept rotator that prints the current value rotates nothing.
	if _, err := Rotate(v, "app/KEY", Options{With: "echo same"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(v, "app/KEY", Options{}); err == nil || !strings.Contains(err.Error(), "unchanged") {
		t.Errorf("the same value again: %v", err)
	}
}

// A rotator that ran but whose value cannot be stored (here: not of the
// secret's type) says that the source may have moved on and where the new
// value has to come from; the old value stays.
func TestRotateStoreFailsAfterTheRotatorRan(t *testing.T) {
	v := newVault(t)
	set(t, v, "app/KEY", "old-value", vault.Update{})
	notOfType := func(vault.Type, []byte) (string, time.Time, error) {
		return "", time.Time{}, errors.New("not a certificate")
	}
	_, err := Rotate(v, "app/KEY", Options{With: "echo new-value", Describe: notOfType, Environ: []string{"PATH=" + os.Getenv("PATH")}})
	if err == nil || !strings.Contains(err.Error(), "not a certificate") || !strings.Contains(err.Error(), "the rotator for app/KEY ran") ||
		!strings.Contains(err.Error(), "hush set app/KEY") || strings.Contains(err.Error(), "new-value") {
		t.Fatalf("store failed after the rotator: %v", err)
	}
	if got := value(t, v, "app/KEY"); got != "old-value" {
		t.Fatalf("value %q", got)
	}
}

// Due rotates the overdue secrets that have a rotator and reports the rest.
func TestDue(t *testing.T) {
	v := newVault(t)
	day := 24 * time.Hour
	every := day
	rotator := "echo new"
	// Written two days ago: a daily rotation is overdue.
	if _, err := v.SetMany([]vault.SetRequest{
		{Name: "a/WITH", Value: []byte("old"), Update: vault.Update{RotateEvery: &every, Rotator: &rotator}},
		{Name: "a/WITHOUT", Value: []byte("old"), Update: vault.Update{RotateEvery: &every}},
		{Name: "a/NOTDUE", Value: []byte("old"), Update: vault.Update{Rotator: &rotator}},
	}, time.Now().Add(-2*day)); err != nil {
		t.Fatal(err)
	}
	var got []Outcome
	if err := Due(v, Options{Environ: []string{"PATH=" + os.Getenv("PATH")}}, func(o Outcome) { got = append(got, o) }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("outcomes: %+v", got)
	}
	for _, o := range got {
		switch o.Name {
		case "a/WITH":
			if o.Err != nil || o.Version != 2 || value(t, v, "a/WITH") != "new" {
				t.Errorf("a/WITH: %+v", o)
			}
		case "a/WITHOUT":
			if !o.NoRotator || value(t, v, "a/WITHOUT") != "old" {
				t.Errorf("a/WITHOUT: %+v", o)
			}
		default:
			t.Errorf("rotated %s, which is not due", o.Name)
		}
	}
}

// gone waits until process pid has ended (no longer listed, or a zombie
// waiting for its reaper), with a deadline far beyond a loaded machine's.
func gone(pid string) bool {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		stat, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil {
			return true
		}
		if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return true
		}
	}
	return false
}

// The words of `rotate --due`: one line a secret, the counts, and a
// failure only when a rotation failed.
func TestTally(t *testing.T) {
	var tl Tally
	got := []string{
		tl.Add(Outcome{Name: "a", Version: 3}),
		tl.Add(Outcome{Name: "b", NoRotator: true}),
		tl.Add(Outcome{Name: "c", Err: errors.New("boom")}),
	}
	want := []string{"a: rotated (version 3)", "b: overdue, but has no rotator (rotate it by hand)", "c: boom"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
	if s := tl.Summary(); s != "rotated 1, failed 1, without a rotator 1" {
		t.Errorf("summary %q", s)
	}
	if err := tl.Err(); err == nil || err.Error() != "1 rotations failed" {
		t.Errorf("err %v", err)
	}
	if err := (&Tally{Done: 2}).Err(); err != nil {
		t.Errorf("no failure: %v", err)
	}
}

// rotate --due records each rotation it tried (not a secret without a
// rotator), and a rotation whose entry cannot be written counts as failed.
func TestDueRecorded(t *testing.T) {
	v := newVault(t)
	every := 24 * time.Hour
	rotator := "echo new"
	if _, err := v.SetMany([]vault.SetRequest{
		{Name: "a/WITH", Value: []byte("old"), Update: vault.Update{RotateEvery: &every, Rotator: &rotator}},
		{Name: "a/WITHOUT", Value: []byte("old"), Update: vault.Update{RotateEvery: &every}},
	}, time.Now().Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var recorded, told []string
	logFails := errors.New("disk full")
	record := func(_ *vault.Vault, action string, names []string, result error) error {
		recorded = append(recorded, action+" "+strings.Join(names, ","))
		return logFails
	}
	err := DueRecorded(v, Options{Environ: []string{"PATH=" + os.Getenv("PATH")}}, record, func(s string) { told = append(told, s) })
	if err == nil || err.Error() != "1 rotations failed" {
		t.Fatalf("DueRecorded: %v", err)
	}
	if strings.Join(recorded, ";") != "rotate a/WITH" {
		t.Errorf("recorded %q", recorded)
	}
	want := "a/WITH: disk full\na/WITHOUT: overdue, but has no rotator (rotate it by hand)\nrotated 0, failed 1, without a rotator 1"
	if strings.Join(told, "\n") != want {
		t.Errorf("told:\n%s\nwant:\n%s", strings.Join(told, "\n"), want)
	}
}

// A revoked secret is rotated with its kept rotator, which is given the
// leaked value (to change it at its source); one without a rotator says
// so (outside attack attack26 N4: both failed with "set a new value (hush
// set or hush rotate)", the revocation's own advice).
func TestRotateRevoked(t *testing.T) {
	v := newVault(t)
	env := []string{"PATH=" + os.Getenv("PATH")}
	set(t, v, "app/KEY", "leaked", vault.Update{})
	if _, err := Rotate(v, "app/KEY", Options{With: `read old; echo "$old-then"`, Environ: env}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Revoke("app/KEY", "leaked"); err != nil {
		t.Fatal(err)
	}
	res, err := Rotate(v, "app/KEY", Options{Environ: env})
	if err != nil {
		t.Fatalf("rotate of a revoked secret with a rotator: %v", err)
	}
	if got := value(t, v, "app/KEY"); got != "leaked-then-then" {
		t.Errorf("after rotating the revoked secret (version %d): %q, want its rotator given the leaked value", res.Version, got)
	}

	set(t, v, "app/BARE", "leaked", vault.Update{})
	if _, err := v.Revoke("app/BARE", "leaked"); err != nil {
		t.Fatal(err)
	}
	if _, err := Rotate(v, "app/BARE", Options{Environ: env}); !errors.Is(err, ErrNoRotator) {
		t.Fatalf("rotate of a revoked secret without a rotator: %v, want ErrNoRotator", err)
	}
}
