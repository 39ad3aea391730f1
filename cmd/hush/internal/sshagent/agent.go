// Package sshagent serves SSH private keys kept in a hush vault through the
// SSH agent protocol (golang.org/x/crypto/ssh/agent), so that ssh, git and
// ssh-keygen -Y sign use them without a key file on disk.
//
// The agent keeps no key between requests: every list or signature asks
// its [Vault] for the keys, which reads them from the vault with the key
// `hush unlock` remembered. So `hush lock` takes effect at the next
// request: the agent then lists nothing and signs nothing ([ErrLocked]).
//
// A private key never leaves the agent: the protocol has no message that
// exports one, and clients' requests to add, remove or lock keys are
// refused unless [Options.AllowChanges] is set (added keys then live only
// in this process's memory, never in the vault).
//
// [FolderVault] is the [Vault] of one folder of a hush vault; [SocketPath]
// and [Listen] give the agent a socket only its user can reach, and never
// take over one another agent still listens on.
package sshagent

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// ErrLocked: the vault is locked (no remembered key), so no key is served.
var ErrLocked = errors.New("vault is locked: run `hush unlock`")

// ErrRefused: the person asked to confirm a signature said no (or could
// not be asked).
var ErrRefused = errors.New("signature refused")

// Key is one private key from the vault, with the secret's name, which
// clients see as the key's comment.
type Key struct {
	Name   string
	Signer ssh.Signer
}

// Vault is where the agent's keys come from.
type Vault interface {
	// Keys returns the keys the agent serves now, or an error wrapping
	// ErrLocked when the vault is locked.
	Keys() ([]Key, error)
	// Record writes an entry to the vault's audit log ("ssh-sign" for a
	// signature with the named key); its failure is the Vault's to report.
	Record(action, name string, result error)
}

// Options choose what the agent allows.
type Options struct {
	// Confirm, when set, is asked before every signature; a non-nil error
	// refuses it.
	Confirm func(name string, pub ssh.PublicKey) error
	// AllowChanges lets clients add and remove keys (ssh-add), kept in
	// memory only. Without it such requests are refused.
	AllowChanges bool
	// Log receives one line per refused or failed request (never a key).
	Log func(format string, args ...any)
}

// Agent is an agent.ExtendedAgent over a [Vault].
type Agent struct {
	v     Vault
	o     Options
	mu    sync.Mutex // one request at a time: a confirmation is asked once
	added agent.Agent
}

var _ agent.ExtendedAgent = (*Agent)(nil)

// New returns an agent serving v's keys.
func New(v Vault, o Options) *Agent {
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	return &Agent{v: v, o: o, added: agent.NewKeyring()}
}

// Serve accepts connections on l until it is closed, serving each with
// the agent protocol.
func (a *Agent) Serve(l net.Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		go func() {
			defer c.Close()
			if err := agent.ServeAgent(a, c); err != nil && !errors.Is(err, io.EOF) {
				a.o.Log("hush ssh-agent: connection ended: %v", err)
			}
		}()
	}
}

func (a *Agent) keys() ([]Key, error) {
	ks, err := a.v.Keys()
	if err != nil {
		a.o.Log("hush ssh-agent: %v", err)
	}
	return ks, err
}

// List returns the vault's keys (the secret's name as comment), then any
// a client added.
func (a *Agent) List() ([]*agent.Key, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ks, err := a.keys()
	if err != nil {
		return nil, err
	}
	out := make([]*agent.Key, 0, len(ks))
	for _, k := range ks {
		pub := k.Signer.PublicKey()
		out = append(out, &agent.Key{Format: pub.Type(), Blob: pub.Marshal(), Comment: k.Name})
	}
	more, _ := a.added.List()
	return append(out, more...), nil
}

func (a *Agent) Sign(key ssh.PublicKey, data []byte) (*ssh.Signature, error) {
	return a.SignWithFlags(key, data, 0)
}

// SignWithFlags signs with the vault key whose public key is key, after
// the confirmation if one is asked, and records the signature (or its
// refusal) in the audit log.
func (a *Agent) SignWithFlags(key ssh.PublicKey, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ks, err := a.keys()
	if err != nil {
		return nil, err
	}
	want := key.Marshal()
	for _, k := range ks {
		if !bytes.Equal(k.Signer.PublicKey().Marshal(), want) {
			continue
		}
		sig, err := a.sign(k, data, flags)
		a.v.Record("ssh-sign", k.Name, err)
		if err != nil {
			a.o.Log("hush ssh-agent: signature with %s: %v", k.Name, err)
		}
		return sig, err
	}
	if ext, ok := a.added.(agent.ExtendedAgent); ok {
		if sig, err := ext.SignWithFlags(key, data, flags); err == nil {
			return sig, nil
		}
	}
	a.o.Log("hush ssh-agent: asked to sign with a key it does not hold (%s)", ssh.FingerprintSHA256(key))
	return nil, errors.New("no such key")
}

func (a *Agent) sign(k Key, data []byte, flags agent.SignatureFlags) (*ssh.Signature, error) {
	if a.o.Confirm != nil {
		if err := a.o.Confirm(k.Name, k.Signer.PublicKey()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrRefused, err)
		}
	}
	algo := ""
	switch {
	case flags&agent.SignatureFlagRsaSha512 != 0:
		algo = ssh.KeyAlgoRSASHA512
	case flags&agent.SignatureFlagRsaSha256 != 0:
		algo = ssh.KeyAlgoRSASHA256
	}
	if algo != "" && k.Signer.PublicKey().Type() == ssh.KeyAlgoRSA {
		as, ok := k.Signer.(ssh.AlgorithmSigner)
		if !ok {
			return nil, fmt.Errorf("key %s cannot sign with %s", k.Name, algo)
		}
		return as.SignWithAlgorithm(rand.Reader, data, algo)
	}
	return k.Signer.Sign(rand.Reader, data)
}

var errChanges = errors.New("hush ssh-agent does not take keys from clients: keep the key in the vault (hush set ssh/NAME - < KEYFILE), or start the agent with --allow-add")

func (a *Agent) Add(key agent.AddedKey) error {
	if !a.o.AllowChanges {
		a.o.Log("hush ssh-agent: refused a client's request to add a key")
		return errChanges
	}
	return a.added.Add(key)
}

func (a *Agent) Remove(key ssh.PublicKey) error {
	if !a.o.AllowChanges {
		a.o.Log("hush ssh-agent: refused a client's request to remove a key")
		return errChanges
	}
	return a.added.Remove(key)
}

func (a *Agent) RemoveAll() error {
	if !a.o.AllowChanges {
		a.o.Log("hush ssh-agent: refused a client's request to remove all keys")
		return errChanges
	}
	return a.added.RemoveAll()
}

// Lock and Unlock are refused: the vault is locked with `hush lock`, which
// the agent follows at its next request.
func (a *Agent) Lock([]byte) error {
	a.o.Log("hush ssh-agent: refused a client's lock request: run `hush lock`")
	return errors.New("use `hush lock` to lock the vault and its keys")
}

func (a *Agent) Unlock([]byte) error {
	a.o.Log("hush ssh-agent: refused a client's unlock request: run `hush unlock`")
	return errors.New("use `hush unlock`")
}

// Signers is not part of the protocol (ServeAgent never calls it): the
// agent hands no signer out.
func (a *Agent) Signers() ([]ssh.Signer, error) {
	return nil, errors.New("hush ssh-agent does not hand out signers")
}

func (a *Agent) Extension(string, []byte) ([]byte, error) {
	return nil, agent.ErrExtensionUnsupported
}

// ParseKey reads an unencrypted private key (OpenSSH, PEM or PKCS#8) from
// a secret's value. A public key, a passphrase-protected key or anything
// else is an error that names the secret but never shows its value.
func ParseKey(name string, value []byte) (Key, error) {
	s, err := ssh.ParsePrivateKey(value)
	if err != nil {
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return Key{}, fmt.Errorf("%s is protected by a passphrase: store it without one (the vault encrypts it)", name)
		}
		return Key{}, fmt.Errorf("%s is not an SSH private key", name)
	}
	return Key{Name: name, Signer: s}, nil
}
