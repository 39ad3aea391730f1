//go:build !windows

package sshagent

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestListenIsPrivateAndNeverTakesAnAgentsSocket(t *testing.T) {
	dir, err := os.MkdirTemp("", "hush-sock") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path, err := SocketPath(dir, "default")
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "hush", "ssh-agent.default.sock"); path != want {
		t.Fatalf("SocketPath = %s, want %s", path, want)
	}
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	// The listener is passed in: l is reassigned below.
	go func(l net.Listener) {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}(l)
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket: %v, %v; want mode 0600", fi, err)
	}
	if _, err := Listen(path); err == nil || !strings.Contains(err.Error(), "already listens") {
		t.Fatalf("a second agent on a socket in use: %v", err)
	}
	l.Close()
	if _, err := os.Lstat(path); !os.IsNotExist(err) {
		t.Fatalf("the socket outlived its listener: %v", err)
	}
	// A socket nothing answers on (a killed agent) is replaced.
	stale, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	l, err = Listen(path)
	if err != nil {
		t.Fatalf("a stale socket was not replaced: %v", err)
	}
	l.Close()
}

func TestSocketPathRefusesASharedFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "hush"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "hush"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := SocketPath(dir, "default"); err == nil || !strings.Contains(err.Error(), "not a private folder") {
		t.Fatalf("SocketPath in a 0755 folder: %v", err)
	}
}
