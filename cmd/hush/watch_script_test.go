//go:build linux

package main

import (
	"os"
	"regexp"
	"strconv"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdWaitGrepN is waitgrep FILE REGEXP [N] for the sync scripts: waits (at most 60 s) until FILE holds at least
// N (default 1) lines matching REGEXP: for the output of a background
// process, such as `hush sync --watch`, which testscript shows only once
// it has exited.
func cmdWaitGrepN(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: waitgrep FILE REGEXP [N]")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	ts.Check(err)
	n := 1
	if len(args) == 3 {
		n, err = strconv.Atoi(args[2])
		ts.Check(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	var b []byte
	for time.Now().Before(deadline) {
		b, _ = os.ReadFile(ts.MkAbs(args[0]))
		if len(re.FindAllIndex(b, -1)) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("%s did not show %d line(s) matching %q within 60s; it holds:\n%s", args[0], n, args[1], b)
}
