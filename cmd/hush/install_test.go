package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make install PREFIX=... puts hush in PREFIX/bin, says where, and says
// when that folder is not on PATH (README's tour starts with it).
func TestMakeInstall(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	prefix := t.TempDir()
	cmd := exec.Command("make", "install", "PREFIX="+prefix, "BIN="+filepath.Join(t.TempDir(), "hush"))
	cmd.Dir = filepath.Join("..", "..")
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin:"+filepath.Dir(goTool(t)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	bin := filepath.Join(prefix, "bin", "hush")
	if !strings.Contains(string(out), "installed "+bin) || !strings.Contains(string(out), prefix+"/bin is not on your PATH") {
		t.Errorf("make install did not say where hush went:\n%s", out)
	}
	v, err := exec.Command(bin, "--version").Output()
	if err != nil || !strings.HasPrefix(string(v), "hush ") {
		t.Errorf("%s --version: %q, %v", bin, v, err)
	}
}

func goTool(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	return p
}
