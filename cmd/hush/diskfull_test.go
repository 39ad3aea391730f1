//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rogpeppe/go-internal/testscript"
)

// canMountTmpfs reports whether this process may mount a tmpfs (root or
// CAP_SYS_ADMIN), by mounting one. The condition [tmpfs] is true under
// HUSH_TEST_REAL=1 regardless, so that a script needing it fails there.
func canMountTmpfs() bool {
	dir, err := os.MkdirTemp("", "hush-tmpfs-")
	if err != nil {
		return false
	}
	defer os.Remove(dir)
	if syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=64k") != nil {
		return false
	}
	syscall.Unmount(dir, syscall.MNT_DETACH)
	return true
}

// tmpfs DIR SIZE mounts a tmpfs of SIZE (e.g. 4m) at $WORK/DIR, unmounted
// when the script ends: a real disk that can really fill up. It needs root
// (or CAP_SYS_ADMIN): guard scripts with [tmpfs].
func cmdTmpfs(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: tmpfs DIR SIZE")
	}
	dir := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(dir, 0o700))
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, "size="+args[1]+",mode=0700"); err != nil {
		ts.Fatalf("cannot mount a tmpfs to fill (run as root): %v", err)
	}
	ts.Defer(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
}

// fill DIR writes $WORK/DIR/filler until the disk under it is full;
// `fill -free DIR` removes it again.
func cmdFill(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 2 && args[0] == "-free" {
		ts.Check(os.Remove(filepath.Join(ts.MkAbs(args[1]), "filler")))
		return
	}
	if len(args) != 1 {
		ts.Fatalf("usage: fill [-free] DIR")
	}
	f, err := os.OpenFile(filepath.Join(ts.MkAbs(args[0]), "filler"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	ts.Check(err)
	defer f.Close()
	block := make([]byte, 4096)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				ts.Fatalf("fill: %v", err)
			}
			// Smaller writes take what is left of a partial block.
			for _, err := f.Write(block[:1]); err == nil; _, err = f.Write(block[:1]) {
			}
			return
		}
	}
}

// httpget [-bearer TOKEN] URL prints the status code on one line, then
// the body.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	bearer := ""
	if len(args) == 3 && args[0] == "-bearer" {
		bearer, args = args[1], args[2:]
	}
	if len(args) != 1 {
		ts.Fatalf("usage: httpget [-bearer TOKEN] URL")
	}
	req, err := http.NewRequest("GET", args[0], nil)
	ts.Check(err)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s", resp.StatusCode, body)
}
