package tui

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/aymanbagabas/go-udiff"
	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
)

// history lists a secret's versions, reveals an old one beside a diff
// against the current value, and restores an old value after a confirm.
type history struct {
	b        *browser
	name     string
	versions []vault.VersionInfo
	cursor   int

	// A revealed old version: its value and the current one, for the
	// diff; wiped when hidden, when the cursor moves and on leaving.
	shown        []byte
	current      []byte
	shownVersion int
	seq          int
}

func newHistory(b *browser, name string) (*history, error) {
	vs, _, err := b.v.History(name)
	if err != nil {
		return nil, err
	}
	return &history{b: b, name: name, versions: vs, cursor: len(vs) - 1}, nil
}

// hide wipes a revealed version.
func (h *history) hide() {
	clear(h.shown)
	clear(h.current)
	h.shown, h.current, h.shownVersion = nil, nil, 0
	h.seq = h.b.nextRevealSeq()
}

func (h *history) update(msg tea.Msg) tea.Cmd {
	b := h.b
	k := b.keys()
	if t, ok := msg.(revealTimeoutMsg); ok {
		if t.seq == h.seq && h.shown != nil {
			h.hide()
			return b.setStatus("value hidden again", false)
		}
		return nil
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		h.hide()
		b.history, b.mode = nil, modeDetail
		if err := b.detail.load(); err != nil {
			return b.setStatus(err.Error(), true)
		}
	case key.Matches(km, k.Quit):
		h.hide()
		return b.quit()
	case key.Matches(km, k.Up):
		h.hide()
		h.cursor = max(0, h.cursor-1)
	case key.Matches(km, k.Down):
		h.hide()
		h.cursor = min(len(h.versions)-1, h.cursor+1)
	case key.Matches(km, k.Reveal):
		if h.shown != nil {
			h.hide()
			return nil
		}
		return h.reveal()
	case key.Matches(km, k.Rollback):
		v := h.versions[h.cursor]
		if v.Current {
			return b.setStatus(fmt.Sprintf("version %d is the current one", v.Version), false)
		}
		b.confirm = &confirm{
			prompt: fmt.Sprintf("Restore the value of version %d of %s (metadata stays)? y/n", v.Version, h.name),
			yes: func() tea.Cmd {
				h.hide()
				b.v.Intend("rollback", []string{h.name})
				res, err := b.v.RollbackValue(h.name, v.Version)
				b.v.Record("rollback", []string{h.name}, err)
				if err != nil {
					return b.setStatus(err.Error(), true)
				}
				if !res.Changed {
					return b.setStatus(fmt.Sprintf("%s already holds the value of version %d", h.name, v.Version), false)
				}
				fresh, err := newHistory(b, h.name)
				if err == nil {
					b.history = fresh
				}
				return tea.Batch(b.reload(h.name), b.setStatus(fmt.Sprintf("restored the value of version %d as version %d", v.Version, res.Version), false), b.wrote())
			},
		}
	}
	return nil
}

// reveal decrypts the selected version and the current one, for the diff,
// until RevealFor has passed.
func (h *history) reveal() tea.Cmd {
	b := h.b
	v := h.versions[h.cursor]
	old, err := b.v.GetVersion(h.name, v.Version)
	b.v.RecordDetail("reveal", []string{h.name}, fmt.Sprintf("version %d", v.Version), err)
	if err != nil {
		return b.setStatus(err.Error(), true)
	}
	cur, err := b.v.Get(h.name)
	if err != nil {
		clear(old.Value)
		return b.setStatus(err.Error(), true)
	}
	h.shown, h.current, h.shownVersion = old.Value, cur.Value, v.Version
	h.seq = b.nextRevealSeq()
	seq := h.seq
	return tea.Batch(
		tea.Tick(RevealFor, func(time.Time) tea.Msg { return revealTimeoutMsg{seq} }),
		b.setStatus(fmt.Sprintf("version %d shown; it hides again in %d s", v.Version, int(RevealFor.Seconds())), false))
}

func (h *history) helpKeys() keymap.Help {
	k := h.b.keys()
	reveal := key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "reveal + diff"))
	if h.shown != nil {
		reveal = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "hide"))
	}
	restore := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "restore value"))
	return keymap.Help{Short: []key.Binding{k.Up, k.Down, reveal, restore, k.Back}}
}

func (h *history) view(height int) string {
	s := h.b.root.styles
	now := h.b.root.opts.Now()
	w := h.b.root.width
	lines := []string{s.Title.Render("History of " + h.name), "", s.Dim.Render(fmt.Sprintf("  %-8s %-34s %-15s %s", "VERSION", "WRITTEN", "TYPE", "SIZE"))}
	listH := height
	if h.shown != nil {
		listH = max(5, height/3+3) // the rest shows the value and the diff
	}
	start := max(0, min(h.cursor-(listH-5), len(h.versions)-(listH-4)))
	for i := start; i < len(h.versions) && len(lines) < listH; i++ {
		v := h.versions[i]
		note := ""
		if v.Current {
			note = "current"
		}
		if v.Name != h.name {
			note = strings.TrimSpace(note + " named " + v.Name)
		}
		line := fmt.Sprintf("  %-8d %-34s %-15s %-8s %s", v.Version, plainWhen(v.Created, now), v.Type, fmt.Sprintf("%d B", v.Size), note)
		if i == h.cursor {
			line = s.Selected.Render("▸" + line[1:])
		}
		lines = append(lines, line)
	}
	if h.shown == nil {
		return strings.Join(lines, "\n")
	}
	lines = append(lines, "", s.Label.Render(fmt.Sprintf("Version %d", h.shownVersion)))
	for _, l := range displayLines(h.shown) {
		lines = append(lines, "  "+s.Value.Render(ansi.Truncate(l, max(10, w-4), "…")))
	}
	lines = append(lines, "", s.Dim.Render(fmt.Sprintf("Changes from version %d to the current value:", h.shownVersion)))
	for _, l := range valueDiff(h.shown, h.current) {
		lines = append(lines, "  "+ansi.Truncate(l, max(10, w-4), "…"))
	}
	if len(lines) > height {
		lines = append(lines[:height-1], s.Dim.Render("… (more than fits; c in the detail copies the current value)"))
	}
	return strings.Join(lines, "\n")
}

// displayLines are a value's lines as text, or one escaped line for
// anything that is not printable text.
func displayLines(v []byte) []string {
	if len(v) == 0 {
		return []string{"(empty)"}
	}
	if utf8.Valid(v) && printable(v) {
		return strings.Split(strings.TrimSuffix(string(v), "\n"), "\n")
	}
	q := strconv.Quote(string(v))
	return []string{q[1 : len(q)-1]}
}

// valueDiff is a line diff from old to cur: "- " lines only in old, "+ "
// lines only in cur, two lines of context around each change.
func valueDiff(old, cur []byte) []string {
	a, b := strings.Join(displayLines(old), "\n")+"\n", strings.Join(displayLines(cur), "\n")+"\n"
	if a == b {
		return []string{"(the same value)"}
	}
	d, err := udiff.ToUnifiedDiff("old", "current", a, udiff.Lines(a, b), 2)
	if err != nil {
		return []string{"(no diff: " + err.Error() + ")"}
	}
	var out []string
	for i, hk := range d.Hunks {
		if i > 0 {
			out = append(out, "…")
		}
		for _, l := range hk.Lines {
			text := strings.TrimSuffix(l.Content, "\n")
			switch l.Kind {
			case udiff.Delete:
				out = append(out, "- "+text)
			case udiff.Insert:
				out = append(out, "+ "+text)
			default:
				out = append(out, "  "+text)
			}
		}
	}
	return out
}
