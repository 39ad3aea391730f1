// Package keychaintest starts a real Secret Service for tests: a private
// D-Bus session bus with an unlocked gnome-keyring on it, in a temporary
// folder, gone when Stop is called. Nothing of the user's own session is
// touched.
package keychaintest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Real reports whether HUSH_TEST_REAL=1: then a missing real component is
// a test failure, not a skip.
func Real() bool { return os.Getenv("HUSH_TEST_REAL") == "1" }

// Service is a running private Secret Service.
type Service struct {
	dir     string
	Address string // DBUS_SESSION_BUS_ADDRESS for clients
	bus     *exec.Cmd
	keyring *exec.Cmd
}

// ErrMissing means dbus-daemon or gnome-keyring-daemon is not installed.
var ErrMissing = errors.New("gnome-keyring or dbus-daemon is not installed (run scripts/install-test-deps.sh)")

// Env returns the variables a client process needs, including a private
// XDG_RUNTIME_DIR so nothing finds the user's own bus.
func (s *Service) Env() []string {
	return []string{
		"DBUS_SESSION_BUS_ADDRESS=" + s.Address,
		"XDG_RUNTIME_DIR=" + filepath.Join(s.dir, "run"),
	}
}

// Start launches dbus-daemon and gnome-keyring-daemon and waits (at most
// 10 s) until org.freedesktop.secrets is on the bus.
func Start() (*Service, error) {
	s, err := StartBus()
	if err != nil {
		return nil, err
	}
	if err := s.startKeyring(); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// StartBus launches only the private session bus: a D-Bus with no Secret
// Service on it, as on many headless machines.
func StartBus() (*Service, error) {
	for _, p := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(p); err != nil {
			return nil, ErrMissing
		}
	}
	dir, err := os.MkdirTemp("", "hush-secret-service-")
	if err != nil {
		return nil, err
	}
	s := &Service{dir: dir}
	for _, d := range []string{"run", "data", "config", "cache", "home"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			s.Stop()
			return nil, err
		}
	}
	sock := filepath.Join(dir, "bus")
	s.Address = "unix:path=" + sock
	s.bus = exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+s.Address)
	s.bus.Env = s.childEnv()
	if err := s.bus.Start(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("failed to start dbus-daemon: %w", err)
	}
	if err := waitFor(func() bool { _, err := os.Stat(sock); return err == nil }); err != nil {
		s.Stop()
		return nil, fmt.Errorf("dbus-daemon did not create its socket: %w", err)
	}
	return s, nil
}

func (s *Service) startKeyring() error {
	// --unlock reads the login keyring's password from stdin, creating the
	// keyring on first use.
	s.keyring = exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	s.keyring.Env = s.childEnv()
	s.keyring.Stdin = strings.NewReader("hush-test-keyring")
	if err := s.keyring.Start(); err != nil {
		return fmt.Errorf("failed to start gnome-keyring-daemon: %w", err)
	}
	conn, err := dbus.Connect(s.Address)
	if err != nil {
		return fmt.Errorf("failed to connect to the test bus: %w", err)
	}
	defer conn.Close()
	err = waitFor(func() bool {
		var has bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&has)
		return err == nil && has
	})
	if err != nil {
		return fmt.Errorf("org.freedesktop.secrets never appeared on the test bus: %w", err)
	}
	return nil
}

func (s *Service) childEnv() []string {
	return append(os.Environ(),
		"DBUS_SESSION_BUS_ADDRESS="+s.Address,
		"XDG_RUNTIME_DIR="+filepath.Join(s.dir, "run"),
		"XDG_DATA_HOME="+filepath.Join(s.dir, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(s.dir, "config"),
		"XDG_CACHE_HOME="+filepath.Join(s.dir, "cache"),
		"HOME="+filepath.Join(s.dir, "home"),
	)
}

func waitFor(ok func() bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if ok() {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("timed out after 10s")
}

// Stop ends both daemons and removes the temporary folder.
func (s *Service) Stop() {
	for _, c := range []*exec.Cmd{s.keyring, s.bus} {
		if c != nil && c.Process != nil {
			c.Process.Kill()
			c.Wait()
		}
	}
	os.RemoveAll(s.dir)
}
