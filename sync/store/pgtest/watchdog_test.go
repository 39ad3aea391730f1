//go:build unix

package pgtest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestKilledTestLeavesNoServer: a test binary killed before it calls Stop
// (go test -timeout, a signal, a crash) leaves no PostgreSQL running and
// no cluster folder behind.
func TestKilledTestLeavesNoServer(t *testing.T) {
	if os.Getenv("HUSH_PGTEST_CHILD") == "1" {
		// The child: start a cluster, say where, wait to be killed.
		s, skip, err := ForTest()
		if err != nil || s == nil {
			fmt.Printf("skip %v %s\n", err, skip)
			return
		}
		pid, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
		if err != nil {
			fmt.Printf("skip %v\n", err)
			return
		}
		fmt.Printf("started %s %s\n", s.dir, strings.SplitN(string(pid), "\n", 2)[0])
		time.Sleep(5 * time.Minute)
		return
	}
	child := exec.Command(os.Args[0], "-test.run", "^TestKilledTestLeavesNoServer$", "-test.count=1")
	child.Env = append(os.Environ(), "HUSH_PGTEST_CHILD=1")
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer child.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("child: %v (%q)", err, line)
	}
	f := strings.Fields(line)
	if len(f) == 0 || f[0] != "started" {
		if Real() {
			t.Fatalf("child could not start PostgreSQL: %s", line)
		}
		t.Skip(line)
	}
	dir := f[1]
	pid, err := strconv.Atoi(f[2])
	if err != nil {
		t.Fatalf("postmaster pid %q: %v", f[2], err)
	}
	t.Cleanup(func() {
		// If the watchdog failed: stop what it left (SIGQUIT is
		// PostgreSQL's immediate shutdown).
		syscall.Kill(pid, syscall.SIGQUIT)
		os.RemoveAll(dir)
	})
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, dirErr := os.Stat(dir)
		alive := syscall.Kill(pid, 0) == nil
		if !alive && os.IsNotExist(dirErr) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("60 s after its test binary was killed: postmaster %d alive %v, folder %s left %v", pid, alive, dir, dirErr == nil)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
