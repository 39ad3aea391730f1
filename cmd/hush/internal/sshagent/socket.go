package sshagent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// FolderVault is the agent's [Vault]: the SSH private keys in one folder
// of a hush vault. It opens the vault for each request, with the
// remembered key only: a long-running agent never asks for a passphrase,
// and a `hush lock` locks it too.
type FolderVault struct {
	// Open opens the vault, locked; Chain's remembered keys (and only
	// they) unlock it.
	Open   func() (*vault.Vault, error)
	Chain  *unlock.Chain
	Folder string
	// Notef tells the person about a key it skips (once per name) and an
	// audit entry it could not write.
	Notef func(format string, args ...any)
	// Audit writes an audit entry into the open vault.
	Audit func(v *vault.Vault, action string, names []string, result error)

	warned sync.Map // names already reported as unusable
}

// Keys reads the folder's keys; a secret that is not a private key is
// skipped, and said once.
func (fv *FolderVault) Keys() ([]Key, error) {
	v, err := fv.open()
	if err != nil {
		return nil, err
	}
	defer v.Close()
	secrets, err := v.Children(fv.Folder)
	if err != nil {
		return nil, err
	}
	var keys []Key
	for _, s := range secrets {
		k, err := ParseKey(s.Name, s.Value)
		crypto.Wipe(s.Value)
		if err != nil {
			if _, seen := fv.warned.LoadOrStore(s.Name, true); !seen {
				fv.Notef("hush ssh-agent: skipping %v", err)
			}
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// Check reads the keys once, before the agent serves: a locked vault is
// an error that says how to unlock it, a folder without a key a note
// (Notef) that says how to add one. It returns how many keys there are.
func (fv *FolderVault) Check() (int, error) {
	keys, err := fv.Keys()
	if errors.Is(err, ErrLocked) {
		return 0, fmt.Errorf("vault is locked: run `hush unlock` first (the agent uses the key it remembers, and drops its keys at `hush lock`)")
	}
	if err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		fv.Notef("note: no SSH private key in folder %q yet: add one with `hush set %s - < ~/.ssh/id_ed25519`", fv.Folder, strings.TrimPrefix(fv.Folder+"/NAME", "/"))
	}
	return len(keys), nil
}

// open opens the vault unlocked by a remembered key, or fails with
// ErrLocked: the agent never asks for a passphrase.
func (fv *FolderVault) open() (*vault.Vault, error) {
	v, err := fv.Open()
	if err != nil {
		return nil, err
	}
	if _, ok := fv.Chain.Remembered(v); !ok {
		v.Close()
		return nil, ErrLocked
	}
	return v, nil
}

// Record writes an audit entry about the key name.
func (fv *FolderVault) Record(action, name string, result error) {
	v, err := fv.open()
	if err != nil {
		fv.Notef("note: the audit log could not be written: %v", err)
		return
	}
	defer v.Close()
	fv.Audit(v, action, []string{name}, result)
}

// SocketPath is where the agent of vault name listens by default:
// runtimeDir/hush/ssh-agent.NAME.sock (runtimeDir is $XDG_RUNTIME_DIR), or
// a folder of the user's own under the temp folder where there is no
// runtime dir. The folder is made private, or refused when it is not.
func SocketPath(runtimeDir, name string) (string, error) {
	dir := runtimeDir
	if dir != "" {
		dir = filepath.Join(dir, "hush")
	} else {
		dir = filepath.Join(os.TempDir(), "hush-"+strconv.Itoa(os.Getuid()))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("failed to create the agent's folder: %w", err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s is not a private folder (mode %04o): remove it, or use --socket", dir, st.Mode().Perm())
	}
	return filepath.Join(dir, "ssh-agent."+name+".sock"), nil
}

// Listen listens on path, replacing a socket that nothing answers on
// (an agent that was killed), never one that is in use.
func Listen(path string) (net.Listener, error) {
	if _, err := os.Lstat(path); err == nil {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("an agent already listens on %s: use it (export SSH_AUTH_SOCK=%s), or stop it first", path, path)
		}
		os.Remove(path)
	}
	// The socket is made under a temporary name and renamed into place
	// once it listens and is 0600: a client that sees path can connect at
	// once (net.Listen binds, then listens, and a client between the two
	// is refused).
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	l, err := net.Listen("unix", tmp)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	ul := l.(*net.UnixListener)
	ul.SetUnlinkOnClose(false)
	// Only the user may connect: the folder is 0700 and the socket 0600.
	if err := os.Chmod(tmp, 0o600); err != nil {
		l.Close()
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		l.Close()
		os.Remove(tmp)
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	return &agentListener{ul, path}, nil
}

// agentListener removes the socket's final name when it closes.
type agentListener struct {
	*net.UnixListener
	path string
}

func (l *agentListener) Close() error {
	err := l.UnixListener.Close()
	os.Remove(l.path)
	return err
}

// ListenAndServe serves the keys of v on a socket at path until SIGINT or
// SIGTERM, then removes the socket. ready is called once it listens (it
// prints the line that points ssh at the socket).
func ListenAndServe(path string, v Vault, o Options, ready func()) error {
	// x/crypto's agent server also logs each refusal through the standard
	// logger; hush's own line (o.Log) says it already.
	log.SetOutput(io.Discard)
	l, err := Listen(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer l.Close()
	ready()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() { <-ctx.Done(); l.Close() }()
	return New(v, o).Serve(l)
}
