// Package keymap is the terminal UI's one set of key bindings. Screens pick
// the bindings that apply to them for the help bar; the bindings themselves
// live only here.
package keymap

import "charm.land/bubbles/v2/key"

// KeyMap holds every binding of the UI.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
	Open, Back                            key.Binding
	Filter, ClearFilter, Tree             key.Binding
	Reveal, Copy                          key.Binding
	New, Edit, Delete, History, Rollback  key.Binding
	NextField, PrevField, Save, Generate  key.Binding
	PrevType, NextType                    key.Binding
	Yes, No                               key.Binding
	Help, Quit, ForceQuit                 key.Binding
}

// Default returns hush's key bindings.
func Default() KeyMap {
	return KeyMap{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Home:        key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("home/g", "first")),
		End:         key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("end/G", "last")),
		Open:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
		Back:        key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Tree:        key.NewBinding(key.WithKeys("t"), key.WithHelp("t", "tree: fold folders (←/→)")),
		Reveal:      key.NewBinding(key.WithKeys("r", "space"), key.WithHelp("r", "reveal")),
		Copy:        key.NewBinding(key.WithKeys("c", "y"), key.WithHelp("c", "copy")),
		New:         key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "new")),
		Edit:        key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Delete:      key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "delete")),
		History:     key.NewBinding(key.WithKeys("h"), key.WithHelp("h", "history")),
		Rollback:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "restore")),
		NextField:   key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		PrevField:   key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous")),
		Save:        key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s", "save")),
		Generate:    key.NewBinding(key.WithKeys("ctrl+g"), key.WithHelp("ctrl+g", "generate")),
		PrevType:    key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "type")),
		NextType:    key.NewBinding(key.WithKeys("right"), key.WithHelp("←/→", "type")),
		Yes:         key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:          key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n/esc", "no")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Quit:        key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit:   key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	}
}

// Help is a help.KeyMap made of a short list and full groups.
type Help struct {
	Short []key.Binding
	Full  [][]key.Binding
}

func (h Help) ShortHelp() []key.Binding  { return h.Short }
func (h Help) FullHelp() [][]key.Binding { return h.Full }
