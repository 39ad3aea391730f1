// Package credhelper speaks the protocols that git and docker use to ask a
// credential helper for a login: git's key=value lines
// (git-credential(1)) and the docker-credential-helpers JSON protocol
// (answered by that project's own credentials package). It reads and
// writes the protocol, maps a host or registry to secret names, and
// answers each operation from a vault the caller opened and audits ([Git],
// [Docker]).
package credhelper

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// MaxRequest bounds what a helper reads from git: a request is a few
// short lines, and a runaway writer must not fill memory.
const MaxRequest = 64 << 10

// GitRequest is what git sends: the attributes hush uses (others, such as
// capability[] and wwwauth[], are read and ignored).
type GitRequest struct {
	Protocol, Host, Path, Username, Password string
}

var errGitValue = errors.New("a credential value holds a newline or NUL, which git's protocol cannot carry")

// ReadGit reads git's key=value lines up to a blank line or the end of
// input. A line without "=" or with a NUL, or input past MaxRequest, is an
// error that never quotes the line (it may hold a password).
func ReadGit(r io.Reader) (GitRequest, error) {
	var req GitRequest
	sc := bufio.NewScanner(io.LimitReader(r, MaxRequest+1))
	sc.Buffer(make([]byte, 0, 4096), MaxRequest+1)
	n := 0
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		n += len(sc.Bytes()) + 1
		if n > MaxRequest {
			return GitRequest{}, fmt.Errorf("git's request is longer than %d bytes", MaxRequest)
		}
		if line == "" {
			break
		}
		if strings.IndexByte(line, 0) >= 0 {
			return GitRequest{}, errors.New("git's request holds a NUL byte")
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return GitRequest{}, errors.New("git's request has a line that is not key=value")
		}
		switch k {
		case "protocol":
			req.Protocol = v
		case "host":
			req.Host = v
		case "path":
			req.Path = v
		case "username":
			req.Username = v
		case "password":
			req.Password = v
		}
	}
	if err := sc.Err(); err != nil {
		return GitRequest{}, fmt.Errorf("failed to read git's request: %w", err)
	}
	return req, nil
}

// WriteGit writes the answer to a get: username and password lines.
func WriteGit(w io.Writer, username, password string) error {
	for _, v := range []string{username, password} {
		if strings.ContainsAny(v, "\n\x00") {
			return errGitValue
		}
	}
	_, err := fmt.Fprintf(w, "username=%s\npassword=%s\n", username, password)
	return err
}

// Segment turns a host (with its port) into one secret-name segment:
// lower case, and every character a name cannot hold (":" before a port,
// the brackets of an IPv6 address) replaced by "_". "" when nothing is
// left.
func Segment(host string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(host) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), ".")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// DockerName is the secret that holds a registry's login: the folder, the
// server URL made a readable segment (scheme dropped), and 8 bytes of its
// SHA-256, so that two URLs that read alike never share a secret.
func DockerName(folder, serverURL string) string {
	readable := serverURL
	if _, rest, ok := strings.Cut(readable, "://"); ok {
		readable = rest
	}
	seg := Segment(strings.Trim(readable, "/"))
	if len(seg) > 64 {
		seg = seg[:64]
	}
	sum := sha256.Sum256([]byte(serverURL))
	name := hex.EncodeToString(sum[:8])
	if seg != "" {
		name = seg + "-" + name
	}
	if folder == "" {
		return name
	}
	return folder + "/" + name
}

// MultiCall maps the names hush is installed under as a credential helper
// to its commands: git runs `git-credential-hush get`, docker runs
// `docker-credential-hush get`; both are links to (or, on Windows, copies
// of) hush. Any other name runs args as they are.
func MultiCall(argv0 string, args []string) []string {
	base := strings.TrimSuffix(strings.ToLower(filepath.Base(argv0)), ".exe")
	switch base {
	case "git-credential-hush":
		return append([]string{"credential", "git"}, args...)
	case "docker-credential-hush":
		return append([]string{"credential", "docker"}, args...)
	}
	return args
}
