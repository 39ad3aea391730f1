package tui

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Editing a value in $EDITOR: the value is written to a private file in
// the user's runtime directory (a tmpfs on systemd systems: never on disk),
// the editor runs with the terminal, and the file is read back, overwritten
// with zeros and removed, with anything else the editor left beside it
// (swap and backup files).

// errNoRuntimeDir: there is nowhere private to put the file.
var errNoRuntimeDir = errors.New("XDG_RUNTIME_DIR is not set: hush edits values only in a private runtime folder, never on disk; set it, or paste the value")

// editedMsg carries what the editor left in the file.
type editedMsg struct {
	value []byte
	err   error
}

// editorCommand is $VISUAL, else $EDITOR, else vi, split into words
// ("code --wait").
func editorCommand() []string {
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if f := strings.Fields(os.Getenv(v)); len(f) > 0 {
			return f
		}
	}
	return []string{"vi"}
}

// privateEditDir makes a 0700 folder under $XDG_RUNTIME_DIR, after checking
// that the runtime folder is the user's own and not writable by others.
func privateEditDir() (string, error) {
	rt := os.Getenv("XDG_RUNTIME_DIR")
	if rt == "" {
		return "", errNoRuntimeDir
	}
	fi, err := os.Stat(rt)
	if err != nil {
		return "", fmt.Errorf("failed to use XDG_RUNTIME_DIR: %w", err)
	}
	// Others must not be able to replace what is in it; the folder made
	// in it is 0700 whatever its own mode.
	if !fi.IsDir() || fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("XDG_RUNTIME_DIR %s is writable by other users (%v): hush edits values only in a private folder", rt, fi.Mode().Perm())
	}
	if !ownedByMe(fi) {
		return "", fmt.Errorf("XDG_RUNTIME_DIR %s belongs to another user", rt)
	}
	dir, err := os.MkdirTemp(rt, "hush-edit-") // 0700
	if err != nil {
		return "", fmt.Errorf("failed to make a private folder: %w", err)
	}
	return dir, nil
}

// editValue returns a command that opens value in the editor and reports
// an editedMsg. value is wiped once it is in the file.
func editValue(value []byte) tea.Cmd {
	dir, err := privateEditDir()
	if err != nil {
		clear(value)
		return func() tea.Msg { return editedMsg{err: err} }
	}
	file := filepath.Join(dir, "value")
	err = os.WriteFile(file, value, 0o600)
	clear(value)
	if err != nil {
		scrub(dir)
		return func() tea.Msg { return editedMsg{err: fmt.Errorf("failed to write the private file: %w", err)} }
	}
	argv := append(editorCommand(), file)
	cmd := exec.Command(argv[0], argv[1:]...)
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		defer scrub(dir)
		if err != nil {
			return editedMsg{err: fmt.Errorf("the editor (%s) failed: %w; the value is unchanged", argv[0], err)}
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return editedMsg{err: fmt.Errorf("failed to read the edited value: %w", err)}
		}
		return editedMsg{value: b}
	})
}

// scrub overwrites every regular file under dir with zeros and removes
// dir: the value, and any swap or backup file the editor wrote there.
func scrub(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() > 0 {
			if f, err := os.OpenFile(p, os.O_WRONLY, 0); err == nil {
				f.Write(make([]byte, fi.Size()))
				f.Sync()
				f.Close()
			}
		}
		return nil
	})
	os.RemoveAll(dir)
}
