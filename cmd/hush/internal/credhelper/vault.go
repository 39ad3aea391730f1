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

// GitFolder is the folder that holds a host's login: folder when given
// (every host's login in one place), else git/HOST. It is empty, with no
// error, when git named no host: nothing hush can answer for.
func GitFolder(folder, host string) (string, error) {
	if folder == "" {
		seg := Segment(host)
		if seg == "" {
			return "", nil
		}
		folder = "git/" + seg
	}
	return vault.CleanFolder(folder)
}

// GitNames are the two secrets of a login in folder.
func GitNames(folder string) (user, pass string) { return folder + "/username", folder + "/password" }

// Git answers git's operation op (get, store or erase) for the login in
// folder of v; get writes the login to out, in git's protocol.
func Git(v *vault.Vault, op string, req GitRequest, folder string, out io.Writer) error {
	userName, passName := GitNames(folder)
	switch op {
	case "get":
		return gitGet(v, req, userName, passName, out)
	case "store":
		return gitStore(v, req, userName, passName)
	case "erase":
		return gitErase(v, req, userName, passName)
	}
	return nil // git may grow new operations: a helper ignores them
}

// password reads a login's password: nil, and no error, when there is
// none (git then asks the person, or there is nothing to erase).
func password(v *vault.Vault, name string) (*vault.Secret, error) {
	s, err := v.Get(name)
	if errors.Is(err, vault.ErrNotFound) {
		return nil, nil
	}
	return s, err
}

func gitGet(v *vault.Vault, req GitRequest, userName, passName string, out io.Writer) error {
	pass, err := password(v, passName)
	if pass == nil {
		return err
	}
	defer crypto.Wipe(pass.Value)
	user := req.Username
	if u, err := v.Get(userName); err == nil {
		if req.Username != "" && req.Username != string(u.Value) {
			return nil // git asks for another user's login: not this one
		}
		user = string(u.Value)
	} else if !errors.Is(err, vault.ErrNotFound) {
		return err
	}
	return WriteGit(out, user, string(pass.Value))
}

func gitStore(v *vault.Vault, req GitRequest, userName, passName string) error {
	if req.Password == "" {
		return nil
	}
	// One transaction: one change of the vault under the command's one
	// audit entry, so that no older copy of the vault can stand between
	// the two writes unseen (outside attack attack24 F2).
	var reqs []vault.SetRequest
	if req.Username != "" {
		reqs = append(reqs, vault.SetRequest{Name: userName, Value: []byte(req.Username)})
	}
	reqs = append(reqs, vault.SetRequest{Name: passName, Value: []byte(req.Password)})
	_, err := v.SetMany(reqs, time.Time{})
	return err
}

// gitErase forgets the login only if it is the one git names: an erase
// for a password the vault no longer holds leaves the new one alone.
func gitErase(v *vault.Vault, req GitRequest, userName, passName string) error {
	pass, err := password(v, passName)
	if pass == nil {
		return err
	}
	defer crypto.Wipe(pass.Value)
	if req.Password != "" && req.Password != string(pass.Value) {
		return nil
	}
	// One transaction, as gitStore's.
	return v.RemoveMany([]string{passName}, []string{userName})
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
