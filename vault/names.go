package vault

import (
	"fmt"
	"strings"
)

// MaxNameLen bounds a secret's full name.
const MaxNameLen = 1024

// NameError says why a name was refused.
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("invalid name %q: %s", e.Name, e.Reason)
}

// ValidName checks a secret name: segments of A-Z a-z 0-9 _ . - joined by
// "/", none empty, none "." or "..".
func ValidName(name string) error {
	if name == "" {
		return &NameError{name, "empty name"}
	}
	return validPath(name)
}

// CleanFolder validates a folder and returns it without a trailing "/".
// The empty folder is the vault's root.
func CleanFolder(folder string) (string, error) {
	f := strings.TrimSuffix(folder, "/")
	if f == "" {
		if folder != "" && folder != "/" {
			return "", &NameError{folder, "empty segment"}
		}
		return "", nil
	}
	if err := validPath(f); err != nil {
		return "", &NameError{folder, err.(*NameError).Reason}
	}
	return f, nil
}

func validPath(name string) error {
	if len(name) > MaxNameLen {
		return &NameError{name[:32] + "...", fmt.Sprintf("longer than %d bytes", MaxNameLen)}
	}
	if strings.HasPrefix(name, "/") {
		return &NameError{name, `starts with "/"`}
	}
	if strings.HasSuffix(name, "/") {
		return &NameError{name, `ends with "/"`}
	}
	for _, seg := range strings.Split(name, "/") {
		if seg == "" {
			return &NameError{name, "empty segment"}
		}
		if seg == "." || seg == ".." {
			return &NameError{name, fmt.Sprintf("segment %q is not allowed", seg)}
		}
		for _, r := range seg {
			if !nameRune(r) {
				return &NameError{name, fmt.Sprintf("character %q is not allowed (use A-Z a-z 0-9 _ . -)", r)}
			}
		}
	}
	return nil
}

func nameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
}

// Folder returns the folder part of a name ("" for a name at the root).
func Folder(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[:i]
	}
	return ""
}

// Base returns the last segment of a name: the variable name when the
// secret is injected into an environment.
func Base(name string) string {
	return name[strings.LastIndexByte(name, '/')+1:]
}

// InFolder reports whether name lies in folder or below it.
func InFolder(name, folder string) bool {
	return folder == "" || name == folder || strings.HasPrefix(name, folder+"/")
}
