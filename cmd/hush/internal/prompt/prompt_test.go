//go:build linux

package prompt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/hush-secrets/hush/vault/unlock"
)

// The tests run the prompts in a child process of this test binary, in a
// session of its own: with a pseudo-terminal as its controlling terminal,
// or with none.
func TestMain(m *testing.M) {
	switch os.Getenv("PROMPT_TEST_CHILD") {
	case "new":
		p, err := NewPassphrase(unlock.CheckNew)
		fmt.Printf("\nresult %q %v\n", p, err)
		os.Exit(0)
	case "confirm":
		ok, err := Confirm("Delete it")
		fmt.Printf("\nresult %v %v\n", ok, err)
		os.Exit(0)
	case "hidden":
		v, err := Hidden("Value: ", errors.New("no terminal here"), errors.New("empty"))
		fmt.Printf("\nresult %q %v\n", v, err)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(t *testing.T, what string, withTerminal bool) (*exec.Cmd, *os.File) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "PROMPT_TEST_CHILD="+what)
	if !withTerminal {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		return cmd, nil
	}
	ptmx, err := pty.Start(cmd) // a new session, the pty its controlling terminal
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ptmx.Close(); cmd.Process.Kill(); cmd.Wait() })
	return cmd, ptmx
}

// session reads the child's terminal, answering each prompt in turn, and
// returns its result line.
func session(t *testing.T, ptmx *os.File, answers map[string][]string) string {
	t.Helper()
	lines := make(chan string)
	go func() {
		r := bufio.NewReader(ptmx)
		var seen strings.Builder
		for {
			b, err := r.ReadByte()
			if err != nil {
				close(lines)
				return
			}
			seen.WriteByte(b)
			for p, as := range answers {
				if strings.HasSuffix(seen.String(), p) && len(as) > 0 {
					io.WriteString(ptmx, as[0]+"\r")
					answers[p] = as[1:]
				}
			}
			if b == '\n' {
				lines <- strings.TrimSpace(seen.String())
				seen.Reset()
			}
		}
	}()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the child ended without a result")
			}
			if strings.HasPrefix(l, "result ") {
				return l
			}
		case <-deadline:
			t.Fatal("no result within 60 s")
		}
	}
}

func TestNewPassphraseIsTypedTwice(t *testing.T) {
	_, ptmx := child(t, "new", true)
	got := session(t, ptmx, map[string][]string{
		"New passphrase: ": {"short", "a long passphrase", "a long passphrase"},
		"Repeat it: ":      {"another passphrase", "a long passphrase"},
	})
	if got != `result "a long passphrase" <nil>` {
		t.Fatalf("got %s", got)
	}
}

func TestConfirmTakesOnlyYes(t *testing.T) {
	for answer, want := range map[string]string{"yes": "result true <nil>", "Y": "result true <nil>", "": "result false <nil>", "sure": "result false <nil>"} {
		_, ptmx := child(t, "confirm", true)
		if got := session(t, ptmx, map[string][]string{"[y/N] ": {answer}}); got != want {
			t.Errorf("answer %q: %s, want %s", answer, got, want)
		}
	}
}

func TestWithoutATerminalNothingWaits(t *testing.T) {
	for what, want := range map[string]string{
		"new":     "result \"\" " + ErrNoTerminal.Error(),
		"confirm": "result false " + ErrNoTerminal.Error(),
		"hidden":  `result "" no terminal here`,
	} {
		cmd, _ := child(t, what, false)
		cmd.Stdin = strings.NewReader("typed on stdin\n")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got := strings.TrimSpace(string(out)); got != want {
			t.Errorf("%s: %s, want %s", what, got, want)
		}
	}
}
