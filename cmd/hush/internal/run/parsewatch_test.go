//go:build unix

package run

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseWatch(t *testing.T) {
	w, err := ParseWatch("restart", "term", 10*time.Second)
	if err != nil || w.Signal != syscall.SIGTERM || w.OnlySignal || w.Grace != 10*time.Second {
		t.Fatalf("restart: %+v, %v", w, err)
	}
	w, err = ParseWatch("signal:hup", "TERM", time.Second)
	if err != nil || w.Signal != syscall.SIGHUP || !w.OnlySignal {
		t.Fatalf("signal:hup: %+v, %v", w, err)
	}
	for _, c := range []struct {
		mode, signal string
		grace        time.Duration
		want         string
	}{
		{"reload", "TERM", time.Second, "--watch is restart (the default) or signal:NAME"},
		{"restart", "NOPE", time.Second, "NOPE"},
		{"restart", "TERM", 0, "--watch-grace takes a positive duration"},
	} {
		if _, err := ParseWatch(c.mode, c.signal, c.grace); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseWatch(%q, %q, %v) = %v, want an error with %q", c.mode, c.signal, c.grace, err, c.want)
		}
	}
}
