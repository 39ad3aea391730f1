package tui

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
)

// Clipboard puts a value where the user can paste it, and takes it away
// again. Implementations return commands so that slow tools never block
// the UI.
type Clipboard interface {
	// Name says how the value is copied, for the status line.
	Name() string
	// Copy returns a command that copies b and reports a copiedMsg.
	Copy(b []byte) tea.Cmd
	// ClearIf returns a command that empties the clipboard if it still
	// holds b (or always, when the clipboard cannot be read), reporting a
	// clearedMsg.
	ClearIf(b []byte) tea.Cmd
}

type copiedMsg struct{ err error }

type clearedMsg struct {
	cleared bool
	note    string // the status line instead of "clipboard cleared": where a copy may remain
}

// DetectClipboard picks a clipboard tool for this session (wl-copy on
// Wayland, xclip or xsel on X11, pbcopy on macOS) and falls back to OSC 52,
// which asks the terminal itself to set the clipboard (and works over SSH).
func DetectClipboard() Clipboard {
	have := func(p string) bool { _, err := exec.LookPath(p); return err == nil }
	switch {
	case runtime.GOOS == "darwin" && have("pbcopy"):
		return NewToolClipboard("pbcopy", []string{"pbcopy"}, []string{"pbpaste"})
	case os.Getenv("WAYLAND_DISPLAY") != "" && have("wl-copy"):
		return NewToolClipboard("wl-copy", []string{"wl-copy"}, []string{"wl-paste", "--no-newline"})
	case os.Getenv("DISPLAY") != "" && have("xclip"):
		return NewToolClipboard("xclip", []string{"xclip", "-selection", "clipboard"}, []string{"xclip", "-selection", "clipboard", "-o"})
	case os.Getenv("DISPLAY") != "" && have("xsel"):
		return NewToolClipboard("xsel", []string{"xsel", "--clipboard", "--input"}, []string{"xsel", "--clipboard", "--output"})
	case os.Getenv("TMUX") != "" && have("tmux"):
		return TmuxOSC52{}
	}
	return OSC52{}
}

// ToolClipboard copies with a command that reads the value on stdin and
// reads back with one that prints it.
type ToolClipboard struct {
	name        string
	copy, paste []string
}

// NewToolClipboard returns a clipboard driven by external commands.
func NewToolClipboard(name string, copyCmd, pasteCmd []string) *ToolClipboard {
	return &ToolClipboard{name: name, copy: copyCmd, paste: pasteCmd}
}

func (t *ToolClipboard) Name() string { return t.name }

// toolTimeout bounds a clipboard tool: a hung X server must not hang hush.
const toolTimeout = 3 * time.Second

func (t *ToolClipboard) write(b []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, t.copy[0], t.copy[1:]...)
	cmd.Stdin = bytes.NewReader(b)
	return cmd.Run()
}

func (t *ToolClipboard) Copy(b []byte) tea.Cmd {
	v := bytes.Clone(b)
	return func() tea.Msg {
		err := t.write(v)
		clear(v)
		return copiedMsg{err}
	}
}

func (t *ToolClipboard) ClearIf(b []byte) tea.Cmd {
	v := bytes.Clone(b)
	return func() tea.Msg {
		defer clear(v)
		ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
		defer cancel()
		cur, err := exec.CommandContext(ctx, t.paste[0], t.paste[1:]...).Output()
		defer clear(cur)
		if err == nil && !bytes.Equal(cur, v) {
			return clearedMsg{cleared: false} // the user copied something else since
		}
		return clearedMsg{cleared: t.write(nil) == nil}
	}
}

// readsBack reports whether ClearIf checks what the clipboard holds
// before emptying it.
func readsBack(c Clipboard) bool {
	switch c.(type) {
	case *ToolClipboard, TmuxOSC52:
		return true
	}
	return false
}

// OSC52 asks the terminal to set the clipboard with an escape sequence.
// It cannot read the clipboard back, so clearing is unconditional.
type OSC52 struct{}

func (OSC52) Name() string { return "OSC 52" }

func (OSC52) Copy(b []byte) tea.Cmd {
	return tea.Sequence(tea.SetClipboard(string(b)), func() tea.Msg { return copiedMsg{} })
}

func (OSC52) ClearIf([]byte) tea.Cmd {
	return tea.Sequence(tea.SetClipboard(""), func() tea.Msg { return clearedMsg{cleared: true} })
}

// TmuxOSC52 is OSC 52 inside tmux. With set-clipboard on, tmux keeps what
// OSC 52 sets as a paste buffer (and passes it to the terminal outside),
// but it ignores an empty OSC 52: clearing that way would leave the value
// in the buffer. So clearing deletes, with the tmux command, every paste
// buffer that holds the value, and says that the terminal outside tmux may
// keep its own copy (tmux passes no clear on to it).
type TmuxOSC52 struct{}

func (TmuxOSC52) Name() string { return "OSC 52 (tmux)" }

func (TmuxOSC52) Copy(b []byte) tea.Cmd { return OSC52{}.Copy(b) }

func (TmuxOSC52) ClearIf(b []byte) tea.Cmd {
	v := bytes.Clone(b)
	return tea.Sequence(tea.SetClipboard(""), func() tea.Msg {
		defer clear(v)
		n, err := deleteTmuxBuffers(v)
		if err != nil {
			return clearedMsg{note: "could not clear tmux's paste buffers (" + err.Error() + "): a copy may remain there"}
		}
		note := "clipboard cleared; the terminal outside tmux may keep a copy"
		if n > 0 {
			note = "clipboard and tmux buffer cleared; the terminal outside tmux may keep a copy"
		}
		return clearedMsg{cleared: true, note: note}
	})
}

// deleteTmuxBuffers deletes the tmux paste buffers that hold v, and says
// how many there were.
func deleteTmuxBuffers(v []byte) (int, error) {
	run := func(args ...string) ([]byte, error) {
		ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
		defer cancel()
		return exec.CommandContext(ctx, "tmux", args...).Output()
	}
	names, err := run("list-buffers", "-F", "#{buffer_name}")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range strings.Fields(string(names)) {
		content, err := run("show-buffer", "-b", name)
		same := err == nil && bytes.Equal(content, v)
		clear(content)
		if !same {
			continue
		}
		if _, err := run("delete-buffer", "-b", name); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
