//go:build unix

package run

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func aroundPlan(t *testing.T, script string) *Plan {
	t.Helper()
	p, err := Build(nil, Options{Command: []string{"sh", "-c", script}, Parent: []string{"PATH=" + os.Getenv("PATH")}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func devNull(t *testing.T) Stdio {
	t.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return Stdio{Stdin: f, Stdout: f, Stderr: f}
}

// waitDone waits for ctx's end with a deadline far beyond a loaded machine's.
func waitDone(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(60 * time.Second):
		return errors.New("not cancelled")
	}
}

// A signal while Before works cancels it, and the child never starts; hush
// itself survives it, and After still runs.
func TestSuperviseAroundSignalBeforeStartsNothing(t *testing.T) {
	started := filepath.Join(t.TempDir(), "started")
	after := false
	code, err := SuperviseAround(aroundPlan(t, "touch "+started), devNull(t), SuperviseOptions{}, Around{
		Before: func(ctx context.Context, p *Plan) error {
			syscall.Kill(os.Getpid(), syscall.SIGINT)
			return waitDone(ctx)
		},
		After: func(context.Context) { after = true },
	})
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Signal != syscall.SIGINT || ie.Code() != 130 || code != 0 {
		t.Fatalf("code %d, err %v: want the interruption by SIGINT", code, err)
	}
	if !after {
		t.Error("After did not run")
	}
	if _, err := os.Stat(started); err == nil {
		t.Error("the child started")
	}
}

// While After works, a first signal is only reported, a second cancels it.
func TestSuperviseAroundSignalsAfter(t *testing.T) {
	stopping := make(chan os.Signal, 4)
	var afterErr error
	code, err := SuperviseAround(aroundPlan(t, "exit 3"), devNull(t), SuperviseOptions{}, Around{
		Before: func(ctx context.Context, p *Plan) error { return p.Setenv("X", "y") },
		After: func(ctx context.Context) {
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			select {
			case sig := <-stopping:
				if sig != syscall.SIGTERM {
					afterErr = errors.New("Stopping saw " + sig.String())
					return
				}
			case <-ctx.Done():
				afterErr = errors.New("cancelled by the first signal")
				return
			case <-time.After(60 * time.Second):
				afterErr = errors.New("Stopping was not called")
				return
			}
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
			afterErr = waitDone(ctx)
		},
		Stopping: func(sig os.Signal) { stopping <- sig },
	})
	if err != nil || code != 3 {
		t.Fatalf("code %d, err %v: want the child's 3", code, err)
	}
	if len(stopping) != 0 {
		t.Errorf("Stopping was called again for %v", <-stopping)
	}
	if !errors.Is(afterErr, context.Canceled) {
		t.Errorf("After: %v, want cancelled by the second signal", afterErr)
	}
}
