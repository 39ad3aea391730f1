//go:build unix

// Package otheruser gives tests a second local user to act as an attacker
// on the same machine: hush-test-other, created when the tests run as root.
// It is for tests only; no hush command imports it.
package otheruser

import (
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"testing"
)

// Name is the second account the tests act as.
const Name = "hush-test-other"

// Get returns the second local user, created when running as root. Without
// root the test skips, unless HUSH_TEST_REAL=1 makes that a failure.
func Get(t testing.TB) (name string, uid int) {
	t.Helper()
	miss := func(why string) {
		if os.Getenv("HUSH_TEST_REAL") == "1" {
			t.Fatalf("HUSH_TEST_REAL=1 but no second user: %s", why)
		}
		t.Skipf("no second user to act as the attacker: %s", why)
	}
	if os.Geteuid() != 0 {
		miss("not running as root, so a second user cannot be created or acted as")
	}
	u, err := user.Lookup(Name)
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", Name).CombinedOutput()
		// Exit 9: another test package created it meanwhile.
		if err != nil && !strings.Contains(string(out), "already exists") {
			miss("useradd: " + strings.TrimSpace(string(out)) + ": " + err.Error())
		}
		if u, err = user.Lookup(Name); err != nil {
			miss(err.Error())
		}
	}
	uid, _ = strconv.Atoi(u.Uid)
	return u.Username, uid
}

// Run runs a shell command as the other user and fails the test if it
// fails.
func Run(t testing.TB, who, script string) {
	t.Helper()
	out, err := exec.Command("runuser", "-u", who, "--", "sh", "-ec", script).CombinedOutput()
	if err != nil {
		t.Fatalf("as %s: %s: %v\n%s", who, script, err, out)
	}
}

// SharedDir is a folder both users can reach and write, sticky as /tmp
// is, removed when the test ends.
func SharedDir(t testing.TB) string {
	t.Helper()
	base, err := os.MkdirTemp("", "hush-hostile-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	// Go spells the sticky bit os.ModeSticky: 0o1777 would give 0777.
	if err := os.Chmod(base, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	return base
}
