package keychain

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/hush-secrets/hush/crypto"
)

// Service is the OS keychain service name hush's items are stored under.
const Service = "hush"

// DefaultTimeout bounds every OS keychain call. go-keyring has no timeout
// of its own and a desktop may wait forever on an unlock prompt.
const DefaultTimeout = 3 * time.Second

// OS is the OS keychain: the Secret Service on Linux and BSD, the Keychain
// on macOS, the Credential Manager on Windows.
type OS struct {
	Timeout time.Duration
}

// NewOS returns the OS keychain store with the default timeout.
func NewOS() *OS { return &OS{Timeout: DefaultTimeout} }

func (*OS) Name() string { return "OS keychain" }

// call runs fn with the store's timeout. On a timeout fn's goroutine is
// left behind; it ends with the process.
func (s *OS) call(fn func() error) error {
	if err := sessionBus(); err != nil {
		return unavailable("OS keychain", err)
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(s.Timeout):
		return unavailable("OS keychain", fmt.Errorf("no answer within %s", s.Timeout))
	}
}

// sessionBus makes sure a D-Bus session bus exists before go-keyring looks
// for one: without DBUS_SESSION_BUS_ADDRESS, godbus would try to start a
// bus with dbus-launch, leaving daemons behind on a headless machine.
func sessionBus() error {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return nil
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "" {
		return nil
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		p := filepath.Join(d, "bus")
		if st, err := os.Stat(p); err == nil && st.Mode().Type() == os.ModeSocket {
			os.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+p)
			return nil
		}
	}
	return errors.New("no D-Bus session bus")
}

func (s *OS) Get(vaultID string) (Entry, error) {
	var secret string
	err := s.call(func() error {
		var err error
		secret, err = keyring.Get(Service, vaultID)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return Entry{}, ErrNotFound
	}
	if errors.Is(err, ErrUnavailable) {
		return Entry{}, err
	}
	if err != nil {
		return Entry{}, unavailable("OS keychain", err)
	}
	raw, err := base64.StdEncoding.DecodeString(secret)
	if err != nil {
		return Entry{}, ErrCorrupt
	}
	defer crypto.Wipe(raw)
	e, err := decode(raw)
	if err != nil {
		return Entry{}, err
	}
	if e.Expired(time.Now()) {
		s.Delete(vaultID)
		return Entry{}, ErrNotFound
	}
	return e, nil
}

func (s *OS) Put(vaultID string, e Entry) error {
	raw := encode(e)
	defer crypto.Wipe(raw)
	secret := base64.StdEncoding.EncodeToString(raw)
	label := e.Label
	if label == "" {
		label = "hush vault key (vault id " + vaultID + ")"
	}
	err := s.call(func() error { return setLabelled(Service, vaultID, label, secret) })
	if err != nil && !errors.Is(err, ErrUnavailable) {
		return unavailable("OS keychain", err)
	}
	return err
}

func (s *OS) Delete(vaultID string) error {
	err := s.call(func() error { return keyring.Delete(Service, vaultID) })
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	if err != nil && !errors.Is(err, ErrUnavailable) {
		return unavailable("OS keychain", err)
	}
	return err
}
