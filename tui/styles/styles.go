// Package styles holds every lipgloss style the terminal UI uses, in one
// struct, so that screens never invent colours of their own. Selection and
// emphasis use reverse video and bold as well as colour, so the UI stays
// usable with NO_COLOR (Bubble Tea then strips the colours).
package styles

import "charm.land/lipgloss/v2"

// Styles for every screen.
type Styles struct {
	Header    lipgloss.Style // the top line
	HeaderDim lipgloss.Style
	Title     lipgloss.Style // a screen's title
	Row       lipgloss.Style
	Selected  lipgloss.Style // the row under the cursor
	Folder    lipgloss.Style // the folder part of a name
	Dim       lipgloss.Style // secondary text: ages, types, hints
	Label     lipgloss.Style // field labels in the detail pane and forms
	Value     lipgloss.Style // a revealed value
	Masked    lipgloss.Style
	Mark      lipgloss.Style // rotation due, expiring soon
	Bad       lipgloss.Style // expired, errors
	Good      lipgloss.Style // confirmations
	Status    lipgloss.Style // the status line
	Focused   lipgloss.Style // the focused form field's label
	Box       lipgloss.Style // dialogs
}

var (
	accent = lipgloss.Color("#7D56F4")
	dim    = lipgloss.Color("#8A8A8A")
	warn   = lipgloss.Color("#E5A50A")
	bad    = lipgloss.Color("#E01B24")
	good   = lipgloss.Color("#26A269")
)

// Default returns hush's styles.
func Default() Styles {
	return Styles{
		Header:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(accent),
		HeaderDim: lipgloss.NewStyle().Foreground(lipgloss.Color("#E0E0E0")).Background(accent),
		Title:     lipgloss.NewStyle().Bold(true).Foreground(accent),
		Row:       lipgloss.NewStyle(),
		Selected:  lipgloss.NewStyle().Reverse(true).Bold(true),
		Folder:    lipgloss.NewStyle().Foreground(dim),
		Dim:       lipgloss.NewStyle().Foreground(dim),
		Label:     lipgloss.NewStyle().Foreground(dim).Width(14),
		Value:     lipgloss.NewStyle().Bold(true),
		Masked:    lipgloss.NewStyle().Foreground(dim),
		Mark:      lipgloss.NewStyle().Foreground(warn).Bold(true),
		Bad:       lipgloss.NewStyle().Foreground(bad).Bold(true),
		Good:      lipgloss.NewStyle().Foreground(good),
		Status:    lipgloss.NewStyle().Italic(true),
		Focused:   lipgloss.NewStyle().Foreground(accent).Bold(true).Width(14),
		Box:       lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(accent).Padding(0, 1),
	}
}
