package credhelper

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hush-secrets/hush/vault"
)

func TestReadGit(t *testing.T) {
	in := "protocol=https\nhost=git.example.com:8443\npath=org/repo.git\nusername=ann\npassword=p=w\ncapability[]=authtype\nwwwauth[]=Basic realm=x\n\nignored=after blank\n"
	req, err := ReadGit(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := GitRequest{Protocol: "https", Host: "git.example.com:8443", Path: "org/repo.git", Username: "ann", Password: "p=w"}
	if req != want {
		t.Fatalf("got %+v, want %+v", req, want)
	}
}

// Hostile input: a clear error that never quotes the line.
func TestReadGitRefuses(t *testing.T) {
	for _, in := range []string{
		"host=x\nsecretline-without-equals\n",
		"password=se\x00cret\n",
		"password=" + strings.Repeat("s", MaxRequest) + "\n",
	} {
		_, err := ReadGit(strings.NewReader(in))
		if err == nil {
			t.Errorf("%.40q accepted", in)
			continue
		}
		if strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "sss") {
			t.Errorf("error quotes the input: %v", err)
		}
	}
}

func TestWriteGit(t *testing.T) {
	var b bytes.Buffer
	if err := WriteGit(&b, "ann", "pw"); err != nil || b.String() != "username=ann\npassword=pw\n" {
		t.Fatalf("%q %v", b.String(), err)
	}
	b.Reset()
	if err := WriteGit(&b, "ann", "pw\nusername=eve"); err == nil || b.Len() != 0 {
		t.Fatalf("a newline in a value was written: %q %v", b.String(), err)
	}
}

func TestNamesAreValid(t *testing.T) {
	for _, host := range []string{"github.com", "127.0.0.1:8080", "[::1]:443", "GIT.Example.COM", "..", "ünïcode.example"} {
		seg := Segment(host)
		if seg == "" {
			continue
		}
		if err := vault.ValidName("git/" + seg); err != nil {
			t.Errorf("Segment(%q) = %q: %v", host, seg, err)
		}
	}
	a := DockerName("docker", "https://index.docker.io/v1/")
	b := DockerName("docker", "https://index.docker.io/v1")
	if a == b {
		t.Errorf("two URLs share %q", a)
	}
	if !strings.HasPrefix(a, "docker/index.docker.io_v1-") {
		t.Errorf("DockerName = %q", a)
	}
	for _, n := range []string{a, b, DockerName("", "localhost:5000"), DockerName("d", "://"), DockerName("d", "")} {
		if err := vault.ValidName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
	}
}

func FuzzReadGit(f *testing.F) {
	f.Add("protocol=https\nhost=example.com\nusername=a\npassword=b\n\n")
	f.Add("host=x\r\npath=a/b\r\n")
	f.Add("=\n==\nhost\n")
	f.Fuzz(func(t *testing.T, in string) {
		req, err := ReadGit(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		if WriteGit(&b, req.Username, req.Password) == nil {
			back, err := ReadGit(&b)
			if err != nil || back.Username != req.Username || back.Password != req.Password {
				t.Fatalf("round trip of %+v: %+v %v", req, back, err)
			}
		}
		if seg := Segment(req.Host); seg != "" {
			if err := vault.ValidName("git/" + seg); err != nil {
				t.Fatalf("Segment(%q): %v", req.Host, err)
			}
		}
		if err := vault.ValidName(DockerName("docker", req.Host)); err != nil {
			t.Fatalf("DockerName(%q): %v", req.Host, err)
		}
		if l, err := LocateGit("", req); err != nil {
			t.Fatalf("LocateGit(%+v): %v", req, err)
		} else if l.Folder != "" {
			for _, n := range l.Names("store") {
				if err := vault.ValidName(n); err != nil {
					t.Fatalf("LocateGit(%+v): %v", req, err)
				}
			}
		}
	})
}

// Two requests that differ in protocol, host (but for ASCII case) or path
// never share a login (attack25 #5).
func FuzzLocateGitInjective(f *testing.F) {
	f.Add("https", "gitlab:8443", "", "https", "gitlab_8443", "")
	f.Add("https", "a", "b", "https", "a/b", "")
	f.Add("https", "h", "", "http", "h", "")
	f.Add("HTTPS", "H.example", "", "https", "h.example", "")
	f.Add("a\x00b", "c", "", "a", "b\x00c", "")
	f.Fuzz(func(t *testing.T, p1, h1, x1, p2, h2, x2 string) {
		if h1 == "" || h2 == "" {
			return
		}
		a, err1 := LocateGit("", GitRequest{Protocol: p1, Host: h1, Path: x1})
		b, err2 := LocateGit("", GitRequest{Protocol: p2, Host: h2, Path: x2})
		if err1 != nil || err2 != nil {
			t.Fatalf("LocateGit: %v %v", err1, err2)
		}
		same := lowerASCII(p1) == lowerASCII(p2) && lowerASCII(h1) == lowerASCII(h2) && x1 == x2
		if same != (a.Folder == b.Folder) {
			t.Fatalf("(%q %q %q) in %s, (%q %q %q) in %s", p1, h1, x1, a.Folder, p2, h2, x2, b.Folder)
		}
		if (a.Legacy != "" && a.Legacy == b.Legacy) && lowerASCII(h1) != lowerASCII(h2) {
			t.Fatalf("hosts %q and %q read the same old login %s", h1, h2, a.Legacy)
		}
	})
}

func TestMultiCall(t *testing.T) {
	for _, c := range []struct{ argv0, want string }{
		{"/usr/local/bin/git-credential-hush", "credential git get"},
		{"/opt/bin/Docker-Credential-Hush.exe", "credential docker get"},
		{"hush", "get"},
	} {
		if got := strings.Join(MultiCall(c.argv0, []string{"get"}), " "); got != c.want {
			t.Errorf("MultiCall(%q) = %q, want %q", c.argv0, got, c.want)
		}
	}
}
