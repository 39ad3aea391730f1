//go:build unix

package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// watchPlan is a plan running script with the variables env (KEY=VALUE),
// whose values are the secrets to mask.
func watchPlan(t *testing.T, script string, env ...string) *Plan {
	t.Helper()
	p := aroundPlan(t, script)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if err := p.Setenv(k, v); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// notes collects what SuperviseWatch says.
type notes struct {
	mu    sync.Mutex
	lines []string
}

func (n *notes) f(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lines = append(n.lines, fmt.Sprintf(format, args...))
}

func (n *notes) String() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.lines, "\n")
}

// waitFor waits (at most 60 s) until file has a line matching re.
func waitFor(t *testing.T, file, re string) {
	t.Helper()
	rx := regexp.MustCompile("(?m)" + re)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		if rx.Match(b) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has no line matching %q after 60s; it holds:\n%s", filepath.Base(file), re, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// outFile is a Stdio whose stdout and stderr are files (stdout's is
// returned) (pipes to hush's
// masker, as when hush's output is not a terminal).
func outFile(t *testing.T) (Stdio, string) {
	t.Helper()
	dir := t.TempDir()
	in, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	errs, err := os.Create(filepath.Join(dir, "err"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close(); out.Close(); errs.Close() })
	// stderr apart: the shell's own notes ("Terminated") go there.
	return Stdio{Stdin: in, Stdout: out, Stderr: errs}, out.Name()
}

// The masker survives a restart: the old child's output (a lot of it,
// written while it stops) is all read and masked before the new child
// starts, and the new child's output masks the new values and the old
// ones too.
func TestSuperviseWatchMaskAcrossRestarts(t *testing.T) {
	std, out := outFile(t)
	const script = `echo "start $VAL prev $PREV"
[ -n "$LAST" ] && exit 7
trap 'i=0; while [ $i -lt 5000 ]; do echo "draining $i"; i=$((i+1)); done; printf "bye %s\n" "$VAL"; exit 0' TERM
while :; do sleep 1 & wait $!; done`
	first := watchPlan(t, script, "VAL=alpha-secret-1", "PREV=-")
	second := watchPlan(t, script, "VAL=beta-secret-2", "PREV=alpha-secret-1", "LAST=1")
	second.Secrets = [][]byte{[]byte("beta-secret-2")} // PREV is not a value of this start
	restart := make(chan *Plan, 1)
	var n notes
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := SuperviseWatch(first, std, Watch{Signal: syscall.SIGTERM, Grace: time.Minute,
			Restart: restart, Notef: n.f, Mask: true})
		done <- result{code, err}
	}()
	waitFor(t, out, `^start <concealed by hush> prev -$`)
	restart <- second
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("SuperviseWatch did not return")
	}
	if r.err != nil || r.code != 7 {
		t.Fatalf("code %d, err %v: want the second child's 7", r.code, r.err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, v := range []string{"alpha-secret-1", "beta-secret-2", "alpha", "beta"} {
		if strings.Contains(got, v) {
			t.Errorf("the output shows %q", v)
		}
	}
	want := "start <concealed by hush> prev -\n"
	for i := 0; i < 5000; i++ {
		want += fmt.Sprintf("draining %d\n", i)
	}
	want += "bye <concealed by hush>\nstart <concealed by hush> prev <concealed by hush>\n"
	if got != want {
		t.Errorf("output is not the first child's, whole, then the second's:\n%.2000s", got)
	}
	if !strings.Contains(n.String(), "secrets changed: restarting sh") {
		t.Errorf("notes: %s", n.String())
	}
}

// A child that ignores the stop signal is killed once the grace period
// ends (with a note), its whole group with it, and the new one starts.
func TestSuperviseWatchGraceEndsInKill(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := `echo "start $N $$" >>` + log + `
[ -n "$LAST" ] && exit 0
trap 'echo "ignored TERM $N" >>` + log + `' TERM
sh -c 'trap "" TERM; echo "grandchild $$" >>` + log + `; while :; do sleep 1; done' &
while :; do sleep 1 & wait $!; done`
	first := watchPlan(t, script, "N=1")
	second := watchPlan(t, script, "N=2", "LAST=1")
	restart := make(chan *Plan, 1)
	var n notes
	done := make(chan error, 1)
	go func() {
		_, err := SuperviseWatch(first, devNull(t), Watch{Signal: syscall.SIGTERM, Grace: 300 * time.Millisecond,
			Restart: restart, Notef: n.f})
		done <- err
	}()
	waitFor(t, log, `^grandchild \d+$`)
	restart <- second
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SuperviseWatch did not return")
	}
	b, _ := os.ReadFile(log)
	if !regexp.MustCompile(`(?s)start 1 .*ignored TERM 1.*start 2 `).Match(b) {
		t.Errorf("log:\n%s", b)
	}
	if !strings.Contains(n.String(), "sh did not stop within 300ms of terminated: killing it") {
		t.Errorf("notes: %s", n.String())
	}
	var pid int
	fmt.Sscanf(regexp.MustCompile(`grandchild (\d+)`).FindStringSubmatch(string(b))[1], "%d", &pid)
	deadline := time.Now().Add(30 * time.Second)
	for syscall.Kill(pid, 0) == nil && !zombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the first child's grandchild %d (ignoring TERM) outlived the kill", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func zombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && strings.Contains(string(b), ") Z ")
}

// recorder is an Around per start that logs what it does, as --dynamic's
// logins would: a login of its own for each start, dropped at its stop.
type recorder struct {
	mu     sync.Mutex
	events []string
	starts int
	fail   map[int]error // Before of start N fails
}

func (r *recorder) log(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, s)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.events, ",")
}

func (r *recorder) around() Around {
	r.mu.Lock()
	r.starts++
	n := r.starts
	r.mu.Unlock()
	return Around{
		Before: func(ctx context.Context, p *Plan) error {
			if err := r.fail[n]; err != nil {
				r.log(fmt.Sprintf("grant %d failed", n))
				return err
			}
			r.log(fmt.Sprintf("grant %d", n))
			login := fmt.Sprintf("login-%d-secret", n)
			p.Secrets = append(p.Secrets, []byte(login))
			return p.Setenv("LOGIN", login)
		},
		After: func(ctx context.Context) { r.log(fmt.Sprintf("drop %d", n)) },
	}
}

// Each start gets its own login, made while the old child still runs and
// dropped once its child has stopped; a restart whose login cannot be made
// leaves the old child running with its own.
func TestSuperviseWatchAroundEachStart(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := `echo "start $N $LOGIN" >>` + log + `
[ -n "$LAST" ] && exit 5
trap 'echo "stop $N $LOGIN" >>` + log + `; exit 0' TERM
while :; do sleep 1 & wait $!; done`
	r := &recorder{fail: map[int]error{3: errors.New("the database is down")}}
	restart := make(chan *Plan, 1)
	var n notes
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := SuperviseWatch(watchPlan(t, script, "N=1"), devNull(t), Watch{Signal: syscall.SIGTERM,
			Grace: time.Minute, Restart: restart, Notef: n.f, Around: r.around})
		done <- result{code, err}
	}()
	waitFor(t, log, `^start 1 login-1-secret$`)
	restart <- watchPlan(t, script, "N=2")
	waitFor(t, log, `^start 2 login-2-secret$`)
	// The third login fails: the second child keeps running with its own.
	restart <- watchPlan(t, script, "N=3")
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(n.String(), "cannot restart sh with new secrets: the database is down; it keeps running with the ones it has") {
		if time.Now().After(deadline) {
			t.Fatalf("no note of the failed restart: %s", n.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	restart <- watchPlan(t, script, "N=4", "LAST=1")
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("SuperviseWatch did not return")
	}
	if res.err != nil || res.code != 5 {
		t.Fatalf("code %d, err %v: want the last child's 5", res.code, res.err)
	}
	if got, want := r.String(), "grant 1,grant 2,drop 1,grant 3 failed,drop 3,grant 4,drop 2,drop 4"; got != want {
		t.Errorf("logins: %s\nwant    %s", got, want)
	}
	b, _ := os.ReadFile(log)
	if want := "start 1 login-1-secret\nstop 1 login-1-secret\nstart 2 login-2-secret\nstop 2 login-2-secret\nstart 4 login-4-secret\n"; string(b) != want {
		t.Errorf("children:\n%s\nwant:\n%s", b, want)
	}
}

// A revoked secret (Stop) stops the child and drops its login.
func TestSuperviseWatchStopDropsLogin(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	script := `echo "start $LOGIN" >>` + log + `
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done`
	r := &recorder{}
	stop := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := SuperviseWatch(watchPlan(t, script), devNull(t), Watch{Signal: syscall.SIGTERM,
			Grace: time.Minute, Stop: stop, Notef: func(string, ...any) {}, Around: r.around})
		done <- err
	}()
	waitFor(t, log, `^start login-1-secret$`)
	stop <- "app/KEY was revoked"
	select {
	case err := <-done:
		var se *StoppedError
		if !errors.As(err, &se) || se.Reason != "app/KEY was revoked" {
			t.Fatalf("err %v, want the reason", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SuperviseWatch did not return")
	}
	if got := r.String(); got != "grant 1,drop 1" {
		t.Errorf("logins: %s", got)
	}
}

// A signal while the first start's logins are being made cancels them; the
// child never starts, and they are dropped. A signal while the old child
// stops for a restart ends hush run with the old child's code: the new
// one is not started, and its logins are dropped.
func TestSuperviseWatchSignals(t *testing.T) {
	started := filepath.Join(t.TempDir(), "started")
	after := false
	_, err := SuperviseWatch(aroundPlan(t, "touch "+started), devNull(t), Watch{Signal: syscall.SIGTERM, Grace: time.Minute,
		Notef: func(string, ...any) {}, Around: func() Around {
			return Around{
				Before: func(ctx context.Context, p *Plan) error {
					syscall.Kill(os.Getpid(), syscall.SIGINT)
					return waitDone(ctx)
				},
				After: func(context.Context) { after = true },
			}
		}})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Signal != syscall.SIGINT {
		t.Fatalf("err %v: want the interruption by SIGINT", err)
	}
	if !after {
		t.Error("After did not run")
	}
	if _, err := os.Stat(started); err == nil {
		t.Error("the child started")
	}

	// The old child takes its time to stop; hush gets SIGTERM meanwhile.
	log := filepath.Join(t.TempDir(), "log")
	// A helper in the child's group counts the TERMs it gets.
	script := `sh -c 'n=0; trap "n=\$((n+1)); echo sig \$n >>` + log + `" TERM; echo helper >>` + log + `; while :; do sleep 1 & wait \$!; done' &
echo "start $N" >>` + log + `
trap 'while [ ! -e ` + log + `.go ]; do sleep 0.01; done; exit 9' TERM
while :; do sleep 1 & wait $!; done`
	r := &recorder{}
	restart := make(chan *Plan, 1)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		code, err := SuperviseWatch(watchPlan(t, script, "N=1"), devNull(t), Watch{Signal: syscall.SIGTERM,
			Grace: time.Minute, Restart: restart, Notef: func(string, ...any) {}, Around: r.around})
		done <- result{code, err}
	}()
	waitFor(t, log, `^start 1$`)
	waitFor(t, log, `^helper$`)
	restart <- watchPlan(t, script, "N=2")
	waitFor(t, log, `^sig 1$`) // the restart's stop signal
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	waitFor(t, log, `^sig 2$`) // forwarded to the stopping child's group
	os.WriteFile(log+".go", nil, 0o600)
	var res result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("SuperviseWatch did not return")
	}
	if res.err != nil || res.code != 9 {
		t.Fatalf("code %d, err %v: want the old child's 9", res.code, res.err)
	}
	if got := r.String(); got != "grant 1,grant 2,drop 1,drop 2" {
		t.Errorf("logins: %s", got)
	}
	if b, _ := os.ReadFile(log); strings.Contains(string(b), "start 2") {
		t.Errorf("the new child started:\n%s", b)
	}
}
