package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
)

// history lists a secret's versions and restores one after a confirm.
type history struct {
	b        *browser
	name     string
	versions []vault.VersionInfo
	cursor   int
}

func newHistory(b *browser, name string) (*history, error) {
	vs, _, err := b.v.History(name)
	if err != nil {
		return nil, err
	}
	return &history{b: b, name: name, versions: vs, cursor: len(vs) - 1}, nil
}

func (h *history) update(msg tea.Msg) tea.Cmd {
	b := h.b
	k := b.keys()
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		b.history, b.mode = nil, modeDetail
		if err := b.detail.load(); err != nil {
			return b.setStatus(err.Error(), true)
		}
	case key.Matches(km, k.Quit):
		return b.quit()
	case key.Matches(km, k.Up):
		h.cursor = max(0, h.cursor-1)
	case key.Matches(km, k.Down):
		h.cursor = min(len(h.versions)-1, h.cursor+1)
	case key.Matches(km, k.Rollback):
		v := h.versions[h.cursor]
		if v.Current {
			return b.setStatus(fmt.Sprintf("version %d is the current one", v.Version), false)
		}
		b.confirm = &confirm{
			prompt: fmt.Sprintf("Restore version %d of %s as a new version? y/n", v.Version, h.name),
			yes: func() tea.Cmd {
				b.v.Intend("rollback", []string{h.name})
				res, err := b.v.Rollback(h.name, v.Version)
				b.v.Record("rollback", []string{h.name}, err)
				if err != nil {
					return b.setStatus(err.Error(), true)
				}
				fresh, err := newHistory(b, h.name)
				if err == nil {
					b.history = fresh
				}
				return tea.Batch(b.reload(h.name), b.setStatus(fmt.Sprintf("restored version %d as version %d", v.Version, res.Version), false), b.wrote())
			},
		}
	}
	return nil
}

func (h *history) helpKeys() keymap.Help {
	k := h.b.keys()
	return keymap.Help{Short: []key.Binding{k.Up, k.Down, k.Rollback, k.Back}}
}

func (h *history) view(height int) string {
	s := h.b.root.styles
	now := h.b.root.opts.Now()
	lines := []string{s.Title.Render("History of " + h.name), "", s.Dim.Render(fmt.Sprintf("  %-8s %-34s %-15s %s", "VERSION", "WRITTEN", "TYPE", "SIZE"))}
	start := max(0, min(h.cursor-(height-5), len(h.versions)-(height-4)))
	for i := start; i < len(h.versions) && len(lines) < height; i++ {
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
	return strings.Join(lines, "\n")
}
