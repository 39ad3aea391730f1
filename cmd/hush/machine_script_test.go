//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// mangle VAR truncate|typo sets $VAR to a damaged copy of itself: cut in
// the middle, or with one character changed, as a person copying a token
// by hand might make it.
func cmdMangle(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mangle VAR truncate|typo")
	}
	s := ts.Getenv(args[0])
	switch args[1] {
	case "truncate":
		s = s[:len(s)*2/3]
	case "typo":
		b := []byte(s)
		i := len(b) / 2
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		s = string(b)
	default:
		ts.Fatalf("mangle: truncate or typo")
	}
	ts.Setenv(args[0], s)
}

// openCreate matches a system call that may create a file.
var openCreate = regexp.MustCompile(`(?m)^.*(O_CREAT|creat\(|mkdir|rename|link\(|symlink).*$`)

// nocreate CMD ARGS... runs CMD under strace and fails if it (or any
// process it starts) makes a system call that can create a file or a
// folder: open with O_CREAT, creat, mkdir, rename, link.
func cmdNoCreate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nocreate CMD ARGS...")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		ts.Fatalf("strace is not installed (scripts run nocreate under [exec:strace])")
	}
	bin := ""
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, args[0]); bin == "" {
			if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
				bin = p
			}
		}
	}
	if bin == "" {
		ts.Fatalf("%s not found in $PATH", args[0])
	}
	out := ts.MkAbs("strace.out")
	cmd := exec.Command(strace, append([]string{"-f", "-qq", "-o", out, "-e", "trace=open,openat,openat2,creat,mkdir,mkdirat,rename,renameat,renameat2,link,linkat,symlink,symlinkat", bin}, args[1:]...)...)
	env := os.Environ()
	for _, k := range []string{"HOME", "HUSH_HOME", "HUSH_TOKEN", "HUSH_PASSPHRASE", "XDG_DATA_HOME", "PATH"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	cmd.Env = env
	cmd.Dir = ts.Getenv("WORK")
	b, err := cmd.CombinedOutput()
	if err != nil {
		ts.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, b)
	}
	trace, err := os.ReadFile(out)
	ts.Check(err)
	if m := openCreate.FindAllString(string(trace), -1); len(m) > 0 {
		ts.Fatalf("%s made files or folders:\n%s", strings.Join(args, " "), strings.Join(m, "\n"))
	}
	ts.Logf("no file created by: %s (%d system calls traced)", strings.Join(args, " "), strings.Count(string(trace), "\n"))
}

// eso URL KEY [VERSION] does what the External Secrets Operator's webhook
// provider does for one ExternalSecret data entry (external-secrets
// providers/v1/webhook, read at v2.9.0): the SecretStore's url template
// executed with remoteRef.key and .version query-escaped, its headers
// template executed with the store's secrets (here auth.token from
// $AGENT_AUTH) and added, a GET with no body, 404 as "no such secret",
// any other non-2xx as an error, and result.jsonPath "$.value" read with
// the JSONPath library ESO uses, the result turned into bytes as ESO's
// extractSecretData does. It prints the value ESO would put in the
// Kubernetes Secret; with `!`, it expects ESO to fail and prints why.
//
// eso -want VALUE URL KEY [VERSION] asks again (for up to 60 s) until ESO
// would get VALUE: a change the agent is to pick up by itself.
func cmdESO(ts *testscript.TestScript, neg bool, args []string) {
	want := ""
	if len(args) > 2 && args[0] == "-want" {
		want, args = args[1], args[2:]
	}
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: eso [-want VALUE] URL-TEMPLATE KEY [VERSION]")
	}
	version := ""
	if len(args) == 3 {
		version = args[2]
	}
	store := esoStore{
		URL:      args[0],
		Headers:  map[string]string{"Authorization": "Bearer {{ .auth.token }}"},
		JSONPath: "$.value",
	}
	auth := map[string]string{"token": ts.Getenv("AGENT_AUTH")}
	val, err := store.getSecret(args[1], version, auth)
	for deadline := time.Now().Add(60 * time.Second); want != "" && string(val) != want && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		val, err = store.getSecret(args[1], version, auth)
	}
	if want != "" && err == nil && string(val) != want {
		ts.Fatalf("eso: still %q after 60 s, want %q", val, want)
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("eso: %v", err)
	case err == nil && neg:
		ts.Fatalf("eso: unexpected success: %q", val)
	case err != nil:
		fmt.Fprintf(ts.Stdout(), "%v\n", err)
	default:
		ts.Stdout().Write(val)
	}
}
