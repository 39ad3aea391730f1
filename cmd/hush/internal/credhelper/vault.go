package credhelper

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/vault"
)

// GitNames are the two secrets of a login in folder.
func GitNames(folder string) (user, pass string) { return folder + "/username", folder + "/password" }

// Git answers git's operation op (get, store or erase) for the login l
// (see [LocateGit]) of v; get writes the login to out, in git's
// protocol.
func Git(v *vault.Vault, op string, req GitRequest, l GitLogin, out io.Writer) error {
	if l.Folder == "" {
		return nil
	}
	switch op {
	case "get":
		return gitGet(v, req, l, out)
	case "store":
		return gitStore(v, req, l)
	case "erase":
		return gitErase(v, req, l)
	}
	return nil // git may grow new operations: a helper ignores them
}

// find reads a secret of a login: nil, and no error, when there is
// none (git then asks the person, or there is nothing to erase).
func find(v *vault.Vault, name string) (*vault.Secret, error) {
	s, err := v.Get(name)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

// sharedProtocol reports whether the --folder login in l is for git's
// protocol: the one recorded beside it, or https for a login an older
// hush stored without one.
func sharedProtocol(v *vault.Vault, l GitLogin) (bool, error) {
	p, err := v.Get(l.Folder + "/protocol")
	if errors.Is(err, vault.ErrNotFound) {
		return l.Protocol == "https", nil
	}
	if err != nil {
		return false, err
	}
	defer crypto.Wipe(p.Value)
	return lowerASCII(string(p.Value)) == l.Protocol, nil
}

func gitGet(v *vault.Vault, req GitRequest, l GitLogin, out io.Writer) error {
	if l.Shared {
		if ok, err := sharedProtocol(v, l); !ok {
			return err // a login for another protocol: git asks the person
		}
	}
	for _, f := range []string{l.Folder, l.Legacy} {
		if f == "" {
			continue
		}
		if answered, err := answer(v, req, f, out); answered || err != nil {
			return err
		}
	}
	return nil
}

// answer writes the login in folder to out, if there is one and it is
// for the user git names; answered says whether it did.
func answer(v *vault.Vault, req GitRequest, folder string, out io.Writer) (answered bool, err error) {
	userName, passName := GitNames(folder)
	pass, err := find(v, passName)
	if pass == nil {
		return false, err
	}
	defer crypto.Wipe(pass.Value)
	user := req.Username
	if u, err := v.Get(userName); err == nil {
		if req.Username != "" && req.Username != string(u.Value) {
			return false, nil // git asks for another user's login: not this one
		}
		user = string(u.Value)
	} else if !errors.Is(err, vault.ErrNotFound) {
		return false, err
	}
	return true, WriteGit(out, user, string(pass.Value))
}

func gitStore(v *vault.Vault, req GitRequest, l GitLogin) error {
	if req.Password == "" {
		return nil
	}
	// One transaction: one change of the vault under the command's one
	// audit entry, so that no older copy of the vault can stand between
	// the two writes unseen (outside attack attack24 F2).
	userName, passName := GitNames(l.Folder)
	var reqs []vault.SetRequest
	if req.Username != "" {
		reqs = append(reqs, vault.SetRequest{Name: userName, Value: []byte(req.Username)})
	}
	reqs = append(reqs, vault.SetRequest{Name: passName, Value: []byte(req.Password)})
	if l.Shared {
		reqs = append(reqs, vault.SetRequest{Name: l.Folder + "/protocol", Value: []byte(l.Protocol)})
	}
	// A login under this host's old name is moved: the new one takes
	// its place for https (with a path, git asks for one path only, and
	// the old login still stands for the others).
	// Looked for in the listing, without reading a value: reading one
	// would write the command's audit entry there and then, before its
	// change, rather than with the change's last transaction (vault.Span).
	var legacy []string
	if l.Legacy != "" && req.Path == "" {
		es, err := v.List(l.Legacy)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.Name == l.Legacy+"/password" || e.Name == l.Legacy+"/username" {
				legacy = append(legacy, e.Name)
			}
		}
	}
	if len(legacy) == 0 {
		_, err := v.SetMany(reqs, time.Time{})
		return err
	}
	// Two transactions, under one entry written after both (vault.Span).
	end := v.Span("git-credential-store")
	_, err := v.SetMany(reqs, time.Time{})
	if err == nil {
		err = v.RemoveMany(nil, legacy)
	}
	if eerr := end(err); err == nil {
		err = eerr
	}
	return err
}

// gitErase forgets the login only if it is the one git names: an erase
// for a password the vault no longer holds leaves the new one alone. Both
// the login and one under the host's old name are looked at: git names
// the password it was given, whichever answered.
func gitErase(v *vault.Vault, req GitRequest, l GitLogin) error {
	// The command's entry goes in with the removal, not when the
	// password is read to compare it (no value leaves hush here): a copy
	// of the vault from before the removal, put back, would otherwise
	// stand behind an entry that has seen it (attack24 F4's rule).
	end := v.Span("git-credential-erase")
	err := erase(v, req, l)
	if eerr := end(err); err == nil {
		err = eerr
	}
	return err
}

func erase(v *vault.Vault, req GitRequest, l GitLogin) error {
	if l.Shared {
		if ok, err := sharedProtocol(v, l); !ok {
			return err // another protocol's login: not the one git was given
		}
	}
	var pass, user []string
	for _, f := range []string{l.Folder, l.Legacy} {
		if f == "" {
			continue
		}
		userName, passName := GitNames(f)
		p, err := find(v, passName)
		if err != nil {
			return err
		}
		if p == nil {
			continue
		}
		match := req.Password == "" || req.Password == string(p.Value)
		crypto.Wipe(p.Value)
		if match {
			pass, user = append(pass, passName), append(user, userName)
		}
	}
	if len(pass) == 0 {
		return nil
	}
	if l.Shared {
		user = append(user, l.Folder+"/protocol")
	}
	// One transaction, as gitStore's.
	return v.RemoveMany(pass, user)
}

// Docker answers docker's operation op (get, store, erase, list) from the
// registry logins in folder of v, reading the request from in and writing
// the answer to out (the docker-credential-helpers protocol).
func Docker(v *vault.Vault, folder, op string, in io.Reader, out io.Writer) error {
	return credentials.HandleCommand(&dockerHelper{v: v, folder: folder}, op, in, out)
}

// dockerHelper is a credentials.Helper over a folder of the vault.
type dockerHelper struct {
	v      *vault.Vault
	folder string
}

func (h *dockerHelper) Add(c *credentials.Credentials) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	defer crypto.Wipe(b)
	_, err = h.v.Set(DockerName(h.folder, c.ServerURL), b, vault.Update{})
	return err
}

func (h *dockerHelper) read(name string) (*credentials.Credentials, error) {
	s, err := h.v.Get(name)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, credentials.NewErrCredentialsNotFound()
	}
	if err != nil {
		return nil, err
	}
	defer crypto.Wipe(s.Value)
	var c credentials.Credentials
	if err := json.Unmarshal(s.Value, &c); err != nil {
		return nil, fmt.Errorf("%s does not hold a docker login (JSON with ServerURL, Username, Secret)", name)
	}
	return &c, nil
}

func (h *dockerHelper) Get(serverURL string) (string, string, error) {
	c, err := h.read(DockerName(h.folder, serverURL))
	if err != nil {
		return "", "", err
	}
	if c.ServerURL != serverURL {
		return "", "", credentials.NewErrCredentialsNotFound()
	}
	return c.Username, c.Secret, nil
}

func (h *dockerHelper) Delete(serverURL string) error {
	err := h.v.Remove(DockerName(h.folder, serverURL))
	if errors.Is(err, vault.ErrNotFound) {
		return credentials.NewErrCredentialsNotFound()
	}
	return err
}

func (h *dockerHelper) List() (map[string]string, error) {
	secrets, err := h.v.Children(h.folder)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, s := range secrets {
		var c credentials.Credentials
		if json.Unmarshal(s.Value, &c) == nil && c.ServerURL != "" {
			out[c.ServerURL] = c.Username
		}
		crypto.Wipe(s.Value)
	}
	return out, nil
}
