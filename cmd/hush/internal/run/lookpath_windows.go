package run

import (
	"os"
	"strings"
)

// Windows: a program is found as cmd.exe finds it, in the child's Path
// (the variable's name is case-insensitive there) with each extension of
// PATHEXT; there are no execute bits to check. The current folder is not
// searched unless Path names it (Go's os/exec refuses that too).

func searchPath(env map[string]string) string {
	for k, v := range env {
		if strings.EqualFold(k, "PATH") {
			return v
		}
	}
	return ""
}

func lookPath(name, path string) (string, error) {
	return findWindows(name, path, os.Getenv("PATHEXT"), `\`, func(p string) bool {
		st, err := os.Stat(p)
		return err == nil && st.Mode().IsRegular()
	})
}
