// Package credhelper speaks the protocols that git and docker use to ask a
// credential helper for a login: git's key=value lines
// (git-credential(1)) and the docker-credential-helpers JSON protocol
// (answered by that project's own credentials package). It reads and
// writes the protocol, maps a git URL (protocol, host, path) or a
// registry's URL to secret names, one to one ([LocateGit], [DockerName]),
// and answers each operation from a vault the caller opened and audits
// ([Git], [Docker]).
package credhelper

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/hush-secrets/hush/vault"
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

// GitLogin says where the login for one request of git lives.
type GitLogin struct {
	// Folder holds the login: git/PROTOCOL/HOST-HASH (see [LocateGit]),
	// or the --folder given. "" when git named no host and no folder was
	// given: nothing hush can answer for.
	Folder string
	// Shared is set for --folder: one login for every host, whose
	// protocol is kept beside it (FOLDER/protocol).
	Shared bool
	// Legacy is the folder an older hush kept this host's login in,
	// git/HOST (the host alone, ":" written "_"), when one may be read:
	// for protocol https only, since that name says nothing of the
	// protocol the login was given over, and only for a host made of
	// DNS labels (or an IPv4 address) and a port, the one host each such
	// old name stands for. "" otherwise.
	Legacy string
	// Protocol is git's protocol, in lower case.
	Protocol string
}

// LocateGit is where the login for git's request req lives: in folder
// when given (every host's login in one place), else in
// git/PROTOCOL/HOST-HASH. HOST there is the host (with the path, when git
// sends one) made a readable segment; HASH is 8 bytes of the SHA-256 of
// the protocol, the host and the path exactly as git sent them (the
// protocol and the host's ASCII letters in lower case, as a URL's are),
// so two requests that differ in any of them never share a login: not
// http and https (a login given over https is never sent in clear,
// outside attack attack25 #5), not gitlab:8443 and gitlab_8443.
func LocateGit(folder string, req GitRequest) (GitLogin, error) {
	l := GitLogin{Protocol: lowerASCII(req.Protocol)}
	if folder != "" {
		f, err := vault.CleanFolder(folder)
		if err != nil {
			return GitLogin{}, err
		}
		l.Folder, l.Shared = f, true
		return l, nil
	}
	if req.Host == "" {
		return GitLogin{}, nil
	}
	host := lowerASCII(req.Host)
	readable := host
	if req.Path != "" {
		readable += "/" + req.Path
	}
	seg := Segment(readable)
	if len(seg) > 64 {
		seg = strings.TrimRight(seg[:64], ".")
	}
	// Each part with its length: no split of one triple reads as another.
	sum := sha256.Sum256(fmt.Appendf(nil, "git-credential %d:%s%d:%s%d:%s", len(l.Protocol), l.Protocol, len(host), host, len(req.Path), req.Path))
	name := hex.EncodeToString(sum[:8])
	if seg != "" {
		name = seg + "-" + name
	}
	proto := Segment(l.Protocol)
	if proto == "" {
		proto = "none"
	}
	l.Folder = "git/" + proto + "/" + name
	// Up to 200 bytes: the old names were cut there.
	if l.Protocol == "https" && len(host) <= 200 && legacyHost.MatchString(host) {
		l.Legacy = "git/" + Segment(host)
	}
	return l, nil
}

// legacyHost matches the hosts an old name (git/HOST, ":" written "_")
// is read for: DNS labels and IPv4 addresses, with a port. Among them
// the old mapping is one to one ("_" can only be the port's ":"). A host
// with "_", "%", brackets or any other character shared its old name
// with one of them (gitlab_8443 with gitlab:8443), so no old login is
// read for it: it is the other host's.
var legacyHost = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*(:[0-9]{1,5})?$`)

// lowerASCII lowers A-Z only: a URL's scheme and host are
// case-insensitive in ASCII, and no other letter is folded into one.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Names are the secrets an operation op on the login reads or writes, for
// its audit entry.
func (l GitLogin) Names(op string) []string {
	var names []string
	for _, f := range []string{l.Folder, l.Legacy} {
		if f == "" {
			continue
		}
		user, pass := GitNames(f)
		names = append(names, pass)
		if op != "get" { // a store or an erase writes both (attack24 F2)
			names = append(names, user)
		}
	}
	if l.Shared {
		names = append(names, l.Folder+"/protocol")
	}
	return names
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
