package main

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

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hush-secrets/hush/cmd/hush/internal/sshagent"
	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

func (a *app) sshAgentCommand() *cobra.Command {
	var (
		folder, socket    string
		confirm, allowAdd bool
	)
	cmd := &cobra.Command{
		Use:   "ssh-agent",
		Short: "serve the SSH keys of a folder to ssh through an agent socket",
		Long: `Serve the SSH private keys kept in a folder of the vault (default "ssh")
through the SSH agent protocol, until interrupted. It prints the line that
points ssh at it:

  eval "$(hush ssh-agent &)"       # or: hush ssh-agent --socket PATH &

The agent reads the keys with the key ` + "`hush unlock`" + ` remembered, at each
request: after ` + "`hush lock`" + ` it lists and signs nothing until the next
` + "`hush unlock`" + `. It never exports a private key, refuses ssh-add's
requests to add or remove keys (unless --allow-add: kept in memory only),
and records every signature in the audit log. With --confirm each
signature is first confirmed through $SSH_ASKPASS, as ssh-add -c does.`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			folder, err := vault.CleanFolder(folder)
			if err != nil {
				return usageError{err}
			}
			// x/crypto's agent server also logs each refusal through the
			// standard logger; hush's own line (o.Log) says it already.
			log.SetOutput(io.Discard)
			o := sshagent.Options{AllowChanges: allowAdd, Log: a.notef}
			if confirm {
				askpass := a.getenv("SSH_ASKPASS")
				if askpass == "" {
					return usagef("--confirm asks through $SSH_ASKPASS, which is not set (e.g. ssh-askpass, ksshaskpass, or a script that exits 0 for yes)")
				}
				o.Confirm = sshagent.Askpass(askpass, os.Environ())
			}
			av := &agentVault{a: a, folder: folder}
			keys, err := av.Keys()
			if errors.Is(err, sshagent.ErrLocked) {
				return fmt.Errorf("vault is locked: run `hush unlock` first (the agent uses the key it remembers, and drops its keys at `hush lock`)")
			}
			if err != nil {
				return err
			}
			if len(keys) == 0 {
				a.notef("note: no SSH private key in folder %q yet: add one with `hush set %s - < ~/.ssh/id_ed25519`", folder, strings.TrimPrefix(folder+"/NAME", "/"))
			}
			if socket == "" {
				if socket, err = a.agentSocket(); err != nil {
					return err
				}
			}
			l, err := listenAgent(socket)
			if err != nil {
				return err
			}
			defer os.Remove(socket)
			defer l.Close()
			a.printf("SSH_AUTH_SOCK=%s; export SSH_AUTH_SOCK;\n", socket)
			// Close stdout unless it is a terminal: `eval "$(hush ssh-agent &)"`
			// returns once the line is read, while the agent keeps serving.
			if f, ok := a.stdout.(*os.File); ok && !term.IsTerminal(int(f.Fd())) {
				f.Close()
			}
			a.notef("hush ssh-agent: serving %d key(s) from %q on %s; Ctrl-C stops it", len(keys), folder, socket)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			go func() { <-ctx.Done(); l.Close() }()
			return sshagent.New(av, o).Serve(l)
		},
	}
	f := cmd.Flags()
	f.StringVar(&folder, "folder", "ssh", "the folder whose SSH private keys are served")
	f.BoolVar(&confirm, "confirm", false, "confirm each signature through $SSH_ASKPASS")
	f.BoolVar(&allowAdd, "allow-add", false, "let clients add keys (kept in memory, never in the vault)")
	f.StringVar(&socket, "socket", "", "the socket's path (default $XDG_RUNTIME_DIR/hush/ssh-agent.VAULT.sock)")
	return cmd
}

// agentVault opens the vault for each request of the agent, with the
// remembered key only: a long-running agent never asks for a passphrase,
// and a `hush lock` locks it too.
type agentVault struct {
	a      *app
	folder string
	warned sync.Map // names already reported as unusable
}

func (av *agentVault) open() (*vault.Vault, error) {
	v, err := av.a.open()
	if err != nil {
		return nil, err
	}
	if _, ok := av.a.chain().Remembered(v); !ok {
		v.Close()
		return nil, sshagent.ErrLocked
	}
	return v, nil
}

func (av *agentVault) Keys() ([]sshagent.Key, error) {
	v, err := av.open()
	if err != nil {
		return nil, err
	}
	defer v.Close()
	secrets, err := v.Children(av.folder)
	if err != nil {
		return nil, err
	}
	var keys []sshagent.Key
	for _, s := range secrets {
		k, err := sshagent.ParseKey(s.Name, s.Value)
		crypto.Wipe(s.Value)
		if err != nil {
			if _, seen := av.warned.LoadOrStore(s.Name, true); !seen {
				av.a.notef("hush ssh-agent: skipping %v", err)
			}
			continue
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func (av *agentVault) Record(action, name string, result error) {
	v, err := av.open()
	if err != nil {
		av.a.notef("note: the audit log could not be written: %v", err)
		return
	}
	defer v.Close()
	av.a.record(v, action, []string{name}, result)
}

// agentSocket is $XDG_RUNTIME_DIR/hush/ssh-agent.VAULT.sock, or a folder
// of the user's own under the temp folder where there is no runtime dir.
func (a *app) agentSocket() (string, error) {
	name, _, err := a.vaultPath()
	if err != nil {
		return "", err
	}
	dir := a.getenv("XDG_RUNTIME_DIR")
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

// listenAgent listens on path, replacing a socket that nothing answers on
// (an agent that was killed), never one that is in use.
func listenAgent(path string) (net.Listener, error) {
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
