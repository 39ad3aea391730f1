package tui

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
)

// detail shows one secret: metadata always, the value only on request.
type detail struct {
	b        *browser
	name     string
	secret   *vault.Secret // current version, without its value
	versions int
	value    []byte // the revealed value, nil when hidden
	// policyFrom is the folder whose rotation policy applies ("" when the
	// secret has its own interval, or none).
	policyFrom string
	seq        int // tells stale reveal timeouts apart
}

type revealTimeoutMsg struct{ seq int }

// clipboardTimeoutMsg ends one copy: seq tells it from a later copy's.
type clipboardTimeoutMsg struct {
	seq   int
	value []byte
}

func newDetail(b *browser, name string) (*detail, error) {
	d := &detail{b: b, name: name}
	return d, d.load()
}

// load reads the metadata and version count; never the value.
func (d *detail) load() error {
	hist, cur, err := d.b.v.History(d.name)
	if err != nil {
		return err
	}
	d.secret, d.versions = cur, len(hist)
	// A folder's rotation policy applies where the secret has none: say
	// which folder it comes from.
	d.policyFrom = vault.Inherit(&d.secret.Meta, d.name, d.b.policies)
	return nil
}

// hide wipes and forgets the revealed value.
func (d *detail) hide() {
	clear(d.value)
	d.value = nil
	d.seq = d.b.nextRevealSeq()
}

func (d *detail) update(msg tea.Msg) tea.Cmd {
	b := d.b
	k := b.keys()
	switch msg := msg.(type) {
	case revealTimeoutMsg:
		if msg.seq == d.seq {
			d.hide()
			return b.setStatus("value hidden again", false)
		}
		return nil
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Back):
			b.closeDetail()
			return nil
		case key.Matches(msg, k.Quit):
			return b.quit()
		case key.Matches(msg, k.Reveal):
			if d.value != nil {
				d.hide()
				return nil
			}
			// The log fails closed: no entry, no value (vault.IntendRead).
			b.v.IntendRead("reveal", []string{d.name})
			s, err := b.v.Get(d.name)
			b.v.Record("reveal", []string{d.name}, err)
			if err != nil {
				return b.setStatus(err.Error(), true)
			}
			d.value = s.Value
			d.seq = b.nextRevealSeq()
			seq := d.seq
			return tea.Batch(
				tea.Tick(RevealFor, func(time.Time) tea.Msg { return revealTimeoutMsg{seq} }),
				b.setStatus(fmt.Sprintf("value shown; it hides again in %d s", int(RevealFor.Seconds())), false))
		case key.Matches(msg, k.Copy):
			b.v.IntendRead("copy", []string{d.name})
			s, err := b.v.Get(d.name)
			b.v.Record("copy", []string{d.name}, err)
			if err != nil {
				return b.setStatus(err.Error(), true)
			}
			clip := b.root.opts.Clipboard
			later := bytes.Clone(s.Value)
			clear(b.copied) // a newer copy replaces it on the clipboard
			b.copied = later
			b.copySeq++
			seq := b.copySeq
			cmd := clip.Copy(s.Value)
			clear(s.Value)
			return tea.Batch(cmd,
				b.setStatus(fmt.Sprintf("copied with %s; the clipboard is cleared in %d s", clip.Name(), int(ClearClipboardAfter.Seconds())), false),
				tea.Tick(ClearClipboardAfter, func(time.Time) tea.Msg { return clipboardTimeoutMsg{seq, bytes.Clone(later)} }))
		case key.Matches(msg, k.Edit):
			for i := range b.entries {
				if b.entries[i].Name == d.name {
					return b.openForm(&b.entries[i])
				}
			}
		case key.Matches(msg, k.Delete):
			b.askDelete(d.name)
		case key.Matches(msg, k.History):
			h, err := newHistory(b, d.name)
			if err != nil {
				return b.setStatus(err.Error(), true)
			}
			d.hide()
			b.history, b.mode, b.status = h, modeHistory, ""
		}
	}
	return nil
}

func (d *detail) helpKeys() keymap.Help {
	k := d.b.keys()
	reveal := k.Reveal
	if d.value != nil {
		reveal = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "hide"))
	}
	return keymap.Help{
		Short: []key.Binding{reveal, k.Copy, k.Edit, k.History, k.Delete, k.Back, k.Help},
		Full:  [][]key.Binding{{reveal, k.Copy}, {k.Edit, k.History, k.Delete}, {k.Back, k.Help, k.Quit}},
	}
}

func (d *detail) view(height int) string {
	s := d.b.root.styles
	sec := d.secret
	now := d.b.root.opts.Now()
	w := d.b.root.width
	var lines []string
	field := func(label, value string) {
		lines = append(lines, s.Label.Render(label)+value)
	}
	lines = append(lines, s.Title.Render(sec.Name), "")
	field("Type", string(sec.Type))
	if sec.Summary != "" {
		field("About", ansi.Truncate(sec.Summary, max(10, w-14), "…"))
	}
	if sec.Revoked != nil {
		field("Revoked", s.Bad.Render(when(sec.Revoked.At, now)+" "+sec.Revoked.Reason))
	}
	if !sec.NotAfter.IsZero() {
		txt := when(sec.NotAfter, now)
		if !sec.NotAfter.After(now) {
			txt = s.Bad.Render("ended " + txt)
		} else if sec.NotAfter.Sub(now) < vault.CertificateWarning {
			txt = s.Mark.Render(txt)
		}
		field("Cert ends", txt)
	}
	valueLines := d.valueLines(max(10, w-14), max(1, height-14))
	field("Value", valueLines[0])
	for _, l := range valueLines[1:] {
		lines = append(lines, strings.Repeat(" ", 14)+l)
	}
	if sec.Note != "" {
		field("Note", ansi.Truncate(strings.ReplaceAll(sec.Note, "\n", " ⏎ "), max(10, w-14), "…"))
	}
	if len(sec.Tags) > 0 {
		field("Tags", strings.Join(sec.Tags, ", "))
	}
	field("Created", when(sec.Created, now))
	field("Updated", when(sec.Updated, now))
	field("Version", fmt.Sprintf("%d (%d in history)", sec.Version, d.versions))
	if sec.Exposed != nil {
		field("Rotate", s.Mark.Render("now: "+sec.Exposed.Reason+" ("+when(sec.Exposed.At, now)+")"))
	} else if sec.RotateEvery > 0 {
		due := sec.RotationStart(sec.Updated).Add(sec.RotateEvery)
		every := "every " + vault.FormatInterval(sec.RotateEvery)
		if d.policyFrom != "" {
			every += " (from " + d.policyFrom + ")"
		}
		txt := fmt.Sprintf("%s, next %s", every, when(due, now))
		if sec.RotationDue(sec.Updated, now) {
			txt = s.Mark.Render("due since " + when(due, now) + " (" + every + ")")
		}
		field("Rotation", txt)
	}
	if !sec.Expires.IsZero() {
		txt := when(sec.Expires, now)
		if sec.Expired(now) {
			txt = s.Bad.Render("expired " + txt)
		}
		field("Expires", txt)
	}
	return strings.Join(lines, "\n")
}

// valueLines renders the value: masked unless revealed; text as lines,
// anything else escaped, cut to fit.
func (d *detail) valueLines(width, maxLines int) []string {
	s := d.b.root.styles
	if d.value == nil {
		return []string{s.Masked.Render("••••••••") + s.Dim.Render("  (r reveal, c copy)")}
	}
	if len(d.value) == 0 {
		return []string{s.Dim.Render("(empty)")}
	}
	var lines []string
	if utf8.Valid(d.value) && printable(d.value) {
		lines = strings.Split(strings.TrimSuffix(string(d.value), "\n"), "\n")
	} else {
		q := strconv.Quote(string(d.value))
		lines = []string{q[1 : len(q)-1]}
		lines = append(lines, s.Dim.Render(fmt.Sprintf("(%d bytes, shown escaped)", len(d.value))))
	}
	more := 0
	if len(lines) > maxLines {
		more = len(lines) - maxLines + 1
		lines = lines[:maxLines-1]
	}
	for i, l := range lines {
		lines[i] = s.Value.Render(ansi.Truncate(l, width, "…"))
	}
	if more > 0 {
		lines = append(lines, s.Dim.Render(fmt.Sprintf("… %d more lines (c copies all)", more)))
	}
	return lines
}

func printable(b []byte) bool {
	for _, r := range string(b) {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
			return false
		}
	}
	return true
}

// relative is "3d ago", "in 4d" or "just now".
func relative(t, now time.Time) string {
	switch {
	case now.Sub(t).Abs() < time.Minute:
		return "just now"
	case t.After(now):
		return "in " + vault.Ago(now, t)
	}
	return vault.Ago(t, now) + " ago"
}

// plainWhen is when without styling, for aligned columns.
func plainWhen(t, now time.Time) string {
	return t.Local().Format("2006-01-02 15:04") + " (" + relative(t, now) + ")"
}

// when prints a date with a relative hint: "2026-11-29 10:00 (3d ago)".
func when(t, now time.Time) string {
	return t.Local().Format("2006-01-02 15:04") + lipgloss.NewStyle().Faint(true).Render(" ("+relative(t, now)+")")
}
