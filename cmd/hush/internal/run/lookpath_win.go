package run

import (
	"fmt"
	"strings"
)

// findWindows is Windows' command search, kept apart from the file system
// (isFile) and the separator so that its rules are tested on any system:
// a name with a folder in it is used as given (with PATHEXT's extensions
// tried when it has none); a bare name is looked up in each folder of
// path, each extension in turn, and as given only when it already has
// one of them.
func findWindows(name, path, pathext, sep string, isFile func(string) bool) (string, error) {
	exts := strings.Split(strings.ToLower(pathext), ";")
	if strings.TrimSpace(pathext) == "" {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	hasExt := false
	for _, e := range exts {
		if e != "" && strings.HasSuffix(strings.ToLower(name), e) {
			hasExt = true
		}
	}
	try := func(base string) (string, bool) {
		if hasExt && isFile(base) {
			return base, true
		}
		for _, e := range exts {
			if e != "" && isFile(base+e) {
				return base + e, true
			}
		}
		return "", false
	}
	if strings.ContainsAny(name, `/\:`) {
		if p, ok := try(name); ok {
			return p, nil
		}
		return "", fmt.Errorf("command not found: %s", name)
	}
	for _, dir := range strings.Split(path, ";") {
		dir = strings.Trim(dir, `"`)
		if dir == "" {
			continue
		}
		if p, ok := try(strings.TrimRight(dir, `/\`) + sep + name); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("command not found: %s (not in the Path hush would give it)", name)
}
