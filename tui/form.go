package tui

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/crypto/generate"
	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
)

// Form fields, in tab order.
const (
	fieldName = iota
	fieldType
	fieldValue
	fieldNote
	fieldTags
	fieldRotate
	fieldCount
)

var fieldLabels = [fieldCount]string{"Name", "Type", "Value", "Note", "Tags", "Rotate every"}

// form creates a secret (orig nil) or edits one: a new version, and a
// rename when the name changed.
type form struct {
	b      *browser
	orig   *vault.Secret
	inputs [fieldCount]textinput.Model // fieldType's input is unused
	// The value is in one of three places: inputs[fieldValue] (one line),
	// area (several lines: multi), or raw (bytes neither editor can hold
	// exactly, such as tabs or carriage returns, from a paste or $EDITOR).
	area    textarea.Model
	multi   bool
	raw     []byte
	shown   bool // ctrl+r: the value is shown as typed
	typ     int  // index into vault.Types
	focus   int
	errs    [fieldCount]string
	message string
	start   [fieldCount]string // the fields as the form opened, to tell edits
	typ0    int
	discard bool // the user confirmed leaving without saving
	seed    bool // the value sent to the editor had no final newline
	// areaHeight is the text area's height for this frame; overflow is by
	// how many lines the last frame drawn was too tall.
	areaHeight int
	overflow   int
}

func newForm(b *browser, e *vault.IndexEntry) *form {
	f := &form{b: b}
	for i := range f.inputs {
		t := textinput.New()
		t.Prompt = ""
		t.CharLimit = 1024
		f.inputs[i] = t
	}
	f.inputs[fieldValue].EchoMode = textinput.EchoPassword
	f.inputs[fieldValue].EchoCharacter = '•'
	f.inputs[fieldValue].CharLimit = 64 << 10
	f.inputs[fieldName].Placeholder = "e.g. app/dev/API_KEY"
	f.inputs[fieldTags].Placeholder = "comma, separated"
	f.inputs[fieldRotate].Placeholder = "e.g. 30d (empty: never)"
	f.area = textarea.New()
	f.area.ShowLineNumbers = false
	f.area.Prompt = ""
	f.area.CharLimit = 0
	f.area.MaxHeight = 0
	f.typ = indexOfType(vault.TypePassword)
	if e != nil {
		_, cur, err := b.v.History(e.Name)
		if err == nil {
			f.orig = cur
			f.inputs[fieldName].SetValue(cur.Name)
			f.typ = indexOfType(cur.Type)
			f.inputs[fieldNote].SetValue(cur.Note)
			f.inputs[fieldTags].SetValue(strings.Join(cur.Tags, ", "))
			f.inputs[fieldRotate].SetValue(vault.FormatInterval(cur.RotateEvery))
			var m vault.Meta
			if from := vault.Inherit(&m, cur.Name, b.policies); from != "" {
				f.inputs[fieldRotate].Placeholder = fmt.Sprintf("empty: every %s, from %s", vault.FormatInterval(m.RotateEvery), from)
			}
			f.inputs[fieldValue].Placeholder = "(unchanged; type to replace, ctrl+g to generate)"
			f.area.Placeholder = "(unchanged; paste to replace, ctrl+e to edit)"
		}
	} else {
		f.inputs[fieldValue].Placeholder = "hidden as you type; ctrl+g generates one"
		f.area.Placeholder = "paste it here (kept exactly), or ctrl+e for $EDITOR"
		if q := strings.TrimSpace(b.filterInput.Value()); q != "" && vault.ValidName(q) == nil {
			f.inputs[fieldName].SetValue(q)
		}
	}
	f.multi = multiLine(vault.Types[f.typ])
	return f
}

// multiLine reports whether values of a type are text of several lines,
// edited in a text area rather than a one-line field.
func multiLine(t vault.Type) bool {
	return t == vault.TypeCertificate || t == vault.TypeSSHKey || t == vault.TypeNote
}

// areaHolds reports whether the text area keeps s exactly: it turns tabs
// into spaces, carriage returns into newlines, and drops other controls.
func areaHolds(s string) bool {
	if !utf8.ValidString(s) || strings.Count(s, "\n") >= 9999 {
		return false
	}
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// inputHolds reports whether the one-line field keeps s exactly.
func inputHolds(s string) bool { return areaHolds(s) && !strings.Contains(s, "\n") }

// value is the value field's content.
func (f *form) value() string {
	switch {
	case f.raw != nil:
		return string(f.raw)
	case f.multi:
		return f.area.Value()
	}
	return f.inputs[fieldValue].Value()
}

// setValue puts v in whichever editor holds it exactly.
func (f *form) setValue(v string) {
	f.clearValue()
	switch {
	case f.multi && areaHolds(v), !f.multi && inputHolds(v):
	case areaHolds(v):
		f.multi = true
	default:
		f.raw = []byte(v)
		return
	}
	if f.multi {
		f.area.SetValue(v)
	} else {
		f.inputs[fieldValue].SetValue(v)
	}
}

// clearValue empties the value field, wiping what it can.
func (f *form) clearValue() {
	clear(f.raw)
	f.raw = nil
	f.area.Reset()
	f.inputs[fieldValue].Reset()
}

// retype follows a change of type: several-line types get the text area.
func (f *form) retype() {
	want := multiLine(vault.Types[f.typ]) || f.multi && strings.Contains(f.value(), "\n")
	if want == f.multi || f.raw != nil {
		return
	}
	v := f.value()
	f.clearValue()
	f.multi = want
	f.setValue(v)
	f.setFocus(f.focus)
}

// fixedType reports whether the secret's type cannot be changed here: a
// dynamic source, whose value must never become an injectable secret.
func (f *form) fixedType() bool { return f.orig != nil && f.orig.IsDynamic() }

func indexOfType(t vault.Type) int {
	for i, x := range vault.Types {
		if x == t {
			return i
		}
	}
	return len(vault.Types) - 1
}

func (f *form) init() tea.Cmd {
	for i := range f.inputs {
		f.start[i] = f.inputs[i].Value()
	}
	f.typ0 = f.typ
	return f.setFocus(0)
}

// changed reports whether anything was typed since the form opened.
func (f *form) changed() bool {
	if f.discard {
		return false
	}
	for i := range f.inputs {
		if f.inputs[i].Value() != f.start[i] {
			return true
		}
	}
	return f.typ != f.typ0 || f.area.Value() != "" || f.raw != nil
}

func (f *form) setFocus(i int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.area.Blur()
	f.focus = (i + fieldCount) % fieldCount
	switch {
	case f.focus == fieldType:
		return nil
	case f.focus == fieldValue && f.multi:
		return f.area.Focus()
	}
	return f.inputs[f.focus].Focus()
}

func (f *form) update(msg tea.Msg) tea.Cmd {
	k := f.b.keys()
	switch msg := msg.(type) {
	case editedMsg:
		if msg.err != nil {
			f.message = msg.err.Error()
			return nil
		}
		f.setEdited(msg.value)
		return f.setFocus(fieldValue)
	case tea.PasteMsg:
		if f.focus == fieldValue {
			return f.paste(msg.Content)
		}
	}
	onValue := f.focus == fieldValue
	if km, ok := msg.(tea.KeyPressMsg); ok {
		inArea := onValue && f.multi && f.raw == nil
		switch {
		case inArea && (km.String() == "enter" || km.String() == "up" || km.String() == "down"):
			// lines and moves within the text area
		case onValue && km.String() == "ctrl+e":
			return f.edit()
		case onValue && km.String() == "ctrl+r":
			f.shown = !f.shown
			f.echo()
			return nil
		case onValue && f.raw != nil && (km.String() == "backspace" || km.String() == "delete" || km.String() == "ctrl+u"):
			f.clearValue()
			f.message = ""
			return f.setFocus(fieldValue)
		case onValue && f.raw != nil && km.Text != "":
			f.message = "The value is kept exactly as it came (it has tabs or control characters): backspace clears it, ctrl+e edits it."
			return nil
		case key.Matches(km, k.Back) && f.changed():
			f.b.confirm = &confirm{
				prompt: "Discard what you typed? y/n",
				yes: func() tea.Cmd {
					return f.update(tea.KeyPressMsg{Code: tea.KeyEscape})
				},
			}
			f.discard = true
			return nil
		case key.Matches(km, k.Back):
			f.wipe()
			f.b.form = nil
			if f.b.detail != nil {
				f.b.mode = modeDetail
			} else {
				f.b.mode = modeList
			}
			return f.b.setStatus("nothing saved", false)
		case key.Matches(km, k.Save), km.String() == "enter" && f.focus == fieldCount-1:
			return f.save()
		case km.String() == "enter", key.Matches(km, k.NextField):
			return f.setFocus(f.focus + 1)
		case key.Matches(km, k.PrevField):
			return f.setFocus(f.focus - 1)
		case key.Matches(km, k.Generate):
			r, err := generate.New(generate.Options{})
			if err != nil {
				f.message = err.Error()
				return nil
			}
			f.setValue(string(r.Value))
			crypto.Wipe(r.Value)
			f.message = fmt.Sprintf("generated a %d-character password (about %.0f bits); it is saved with ctrl+s", len(f.value()), r.EntropyBits)
			return f.setFocus(fieldValue)
		case f.focus == fieldType && key.Matches(km, k.PrevType):
			f.typ = (f.typ + len(vault.Types) - 1) % len(vault.Types)
			f.retype()
			return nil
		case f.focus == fieldType && (key.Matches(km, k.NextType) || km.String() == "space"):
			f.typ = (f.typ + 1) % len(vault.Types)
			f.retype()
			return nil
		}
	}
	var cmd tea.Cmd
	switch {
	case f.focus == fieldType:
		return nil
	case onValue && f.raw != nil:
		return nil
	case onValue && f.multi:
		f.area, cmd = f.area.Update(msg)
	default:
		f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	}
	if _, ok := msg.(tea.KeyPressMsg); ok {
		f.errs[f.focus] = ""
	}
	return cmd
}

// paste takes pasted text into the value exactly: text of several lines
// moves the value to the text area, and text neither editor can hold
// (tabs, carriage returns, other controls) is kept as bytes.
func (f *form) paste(s string) tea.Cmd {
	s = pastedText(s)
	f.errs[fieldValue] = ""
	cur := f.value()
	switch {
	case f.raw != nil || !areaHolds(s):
		f.clearValue()
		f.raw = []byte(cur + s)
		f.message = fmt.Sprintf("pasted %d bytes, kept exactly (they have tabs or control characters); ctrl+s saves them", len(s))
		return nil
	case !f.multi && strings.Contains(s, "\n"):
		f.clearValue()
		f.multi = true
		f.area.SetValue(cur)
		cmd := f.setFocus(fieldValue)
		f.area.InsertString(s)
		return cmd
	case f.multi:
		f.area.InsertString(s)
		return nil
	}
	var cmd tea.Cmd
	f.inputs[fieldValue], cmd = f.inputs[fieldValue].Update(tea.PasteMsg{Content: s})
	return cmd
}

// pastedText undoes what terminals do to a paste's line ends: most send
// each newline as a carriage return (the Enter key), so a lone "\r"
// becomes "\n" again; a "\r\n" that arrives as such stays.
func pastedText(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// edit opens the value in $EDITOR: what the field holds, or, when editing
// a secret whose field is still empty, its current value.
func (f *form) edit() tea.Cmd {
	v := []byte(f.value())
	if len(v) == 0 && f.orig != nil {
		s, err := f.b.v.Get(f.orig.Name)
		f.b.v.Record("reveal", []string{f.orig.Name}, err)
		if err != nil {
			f.message = err.Error()
			return nil
		}
		v = s.Value
	}
	f.seed = len(v) > 0 && !bytes.HasSuffix(v, []byte("\n"))
	return editValue(v)
}

// setEdited takes what the editor left. Editors end the last line with a
// newline: when the value had none (or is a one-line type), it is dropped.
func (f *form) setEdited(b []byte) {
	defer clear(b)
	if (f.seed || !multiLine(vault.Types[f.typ])) && bytes.HasSuffix(b, []byte("\n")) && !bytes.HasSuffix(b, []byte("\n\n")) {
		b = b[:len(b)-1]
	}
	f.setValue(string(b))
	f.message = fmt.Sprintf("the value from the editor (%d bytes) is saved with ctrl+s", len(b))
}

// echo shows or hides the one-line field as typed (the text area and the
// kept bytes are masked when drawn).
func (f *form) echo() {
	if f.shown {
		f.inputs[fieldValue].EchoMode = textinput.EchoNormal
	} else {
		f.inputs[fieldValue].EchoMode = textinput.EchoPassword
	}
}

// wipe clears the value field, so a typed secret does not linger.
func (f *form) wipe() { f.clearValue() }

// save checks every field at once, shows each mistake under its field and
// puts the cursor on the first; with none, it writes: a rename first, then
// the new version.
func (f *form) save() tea.Cmd {
	b := f.b
	f.errs = [fieldCount]string{}
	f.message = ""
	name := strings.TrimSpace(f.inputs[fieldName].Value())
	if err := vault.ValidName(name); err != nil {
		f.errs[fieldName] = err.Error()
	}
	renamed := f.orig != nil && name != f.orig.Name
	if (f.orig == nil || renamed) && f.errs[fieldName] == "" {
		if _, err := b.v.Get(name); err == nil {
			f.errs[fieldName] = "a secret with this name exists"
		}
	}
	typ := vault.Types[f.typ]
	if f.fixedType() {
		typ = f.orig.Type
	}
	value := f.value()
	switch {
	case f.orig == nil && value == "":
		f.errs[fieldValue] = "type or paste a value, ctrl+g to generate one, or ctrl+e to write it in $EDITOR"
	case value != "" && b.root.opts.Describe != nil:
		// Checked here rather than by the vault, whose message gives
		// advice for the command line.
		if _, _, err := b.root.opts.Describe(typ, []byte(value)); err != nil {
			f.errs[fieldValue] = fmt.Sprintf("this is not a valid %s: %v. Paste all of it (it is kept exactly), or choose the type other to store it unchecked.", typ, err)
		}
	case f.orig != nil && typ != f.orig.Type && b.root.opts.Describe != nil:
		// The value stays, under a new type: it must be one.
		if cur, err := b.v.Get(f.orig.Name); err == nil {
			_, _, err := b.root.opts.Describe(typ, cur.Value)
			clear(cur.Value)
			if err != nil {
				f.errs[fieldType] = fmt.Sprintf("the value is not a valid %s (%v): keep the type, or paste a value of this type", typ, err)
			}
		}
	}
	rotate, err := vault.ParseInterval(strings.TrimSpace(f.inputs[fieldRotate].Value()))
	if err != nil {
		f.errs[fieldRotate] = err.Error()
	}
	tags := []string{}
	for _, t := range strings.Split(f.inputs[fieldTags].Value(), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	for i, e := range f.errs {
		if e != "" {
			f.message = "Fix the fields marked above."
			return f.setFocus(i)
		}
	}
	note := f.inputs[fieldNote].Value()
	u := vault.Update{Type: &typ, Note: &note, Tags: &tags, RotateEvery: &rotate, Describe: b.root.opts.Describe}
	if f.fixedType() {
		u.Type = nil // a dynamic source stays one (hush dynamic add made it)
	}
	if renamed {
		_, err := b.v.Move(f.orig.Name, name)
		b.v.Record("mv", []string{f.orig.Name, name}, err)
		if err != nil {
			f.errs[fieldName] = err.Error()
			return f.setFocus(fieldName)
		}
	}
	val := []byte(value)
	if value == "" { // edit, value unchanged
		cur, err := b.v.Get(name)
		if err != nil {
			f.message = err.Error()
			return nil
		}
		val = cur.Value
	}
	b.v.Intend("set", []string{name})
	res, err := b.v.Set(name, val, u)
	if !renamed || res.Changed || err != nil {
		b.v.Record("set", []string{name}, err)
	}
	crypto.Wipe(val)
	if err != nil {
		var ne *vault.NameError
		if errors.As(err, &ne) {
			f.errs[fieldName] = err.Error()
			return f.setFocus(fieldName)
		}
		f.message = err.Error()
		return nil
	}
	f.wipe()
	b.form = nil
	status := fmt.Sprintf("saved %s (version %d)", name, res.Version)
	switch {
	case res.Created:
		status = "created " + name
	case renamed && res.Changed:
		status = fmt.Sprintf("renamed %s to %s and saved (version %d)", f.orig.Name, name, res.Version)
	case renamed:
		status = fmt.Sprintf("renamed %s to %s", f.orig.Name, name)
	case !res.Changed:
		status = name + " unchanged"
	}
	cmds := []tea.Cmd{b.reload(name), b.setStatus(status, false), b.wrote()}
	// After an edit, back to the secret's detail; after a new one, the list.
	if f.orig != nil {
		if d, err := newDetail(b, name); err == nil {
			b.hide()
			b.detail, b.history, b.mode = d, nil, modeDetail
			return tea.Batch(cmds...)
		}
	}
	b.closeDetail()
	b.status = status
	return tea.Batch(cmds...)
}

var (
	editorKey = key.NewBinding(key.WithKeys("ctrl+e"), key.WithHelp("ctrl+e", "$EDITOR"))
	showKey   = key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "show/hide"))
)

func (f *form) helpKeys() keymap.Help {
	k := f.b.keys()
	short := []key.Binding{k.NextField, k.Save, k.Generate, k.PrevType, k.Back}
	if f.focus == fieldValue {
		short = []key.Binding{k.NextField, k.Save, editorKey, showKey, k.Generate, k.Back}
	}
	return keymap.Help{
		Short: short,
		Full:  [][]key.Binding{{k.NextField, k.PrevField}, {k.Save, k.Generate, k.PrevType}, {editorKey, showKey}, {k.Back}},
	}
}

// valueArea draws a value of several lines: a summary when the field is
// not focused, the text area (masked unless shown) when it is.
func (f *form) valueArea(label string, width int) []string {
	s := f.b.root.styles
	v := f.value()
	about := s.Dim.Render(describeSize(v))
	indent := strings.Repeat(" ", 14)
	switch {
	case f.raw != nil:
		return []string{label + s.Masked.Render("••••••••") + "  " + about + s.Dim.Render(", kept exactly; ctrl+e edits, backspace clears")}
	case f.focus != fieldValue && v == "":
		return []string{label + s.Dim.Render(f.area.Placeholder)}
	case f.focus != fieldValue:
		return []string{label + s.Masked.Render("••••••••") + "  " + about}
	}
	f.area.SetWidth(width)
	f.area.SetHeight(max(1, min(f.areaHeight, f.area.LineCount()+1)))
	view := f.area.View()
	if !f.shown && v != "" {
		view = maskRunes(view)
	}
	out := []string{label + about}
	for _, l := range strings.Split(view, "\n") {
		out = append(out, indent+l)
	}
	return out
}

// describeSize says how big a value is without showing it.
func describeSize(v string) string {
	if v == "" {
		return "(empty)"
	}
	n := strings.Count(strings.TrimSuffix(v, "\n"), "\n") + 1
	if n == 1 {
		return fmt.Sprintf("1 line, %d bytes", len(v))
	}
	return fmt.Sprintf("%d lines, %d bytes", n, len(v))
}

// maskRunes replaces every visible character of a rendered view but
// spaces with a bullet, keeping its escape sequences (the cursor, styles).
// The view is read with the ansi package's parser, as a terminal would.
func maskRunes(view string) string {
	var out strings.Builder
	var state byte
	for len(view) > 0 {
		seq, width, n, next := ansi.DecodeSequence(view, state, nil)
		state = next
		switch {
		case n <= 0:
			return out.String()
		case width > 0 && strings.TrimSpace(seq) == "":
			out.WriteString(seq)
		case width > 0:
			out.WriteString(strings.Repeat("•", width))
		case seq == "\n":
			out.WriteString(seq)
		case strings.HasPrefix(seq, "\x1b"), len(seq) == 1 && seq[0] < 0x20:
			out.WriteString(seq) // an escape sequence or a control
		}
		view = view[n:]
	}
	return out.String()
}

func (f *form) view(height int) string {
	f.areaHeight = 8
	out := f.render(height)
	if f.overflow > 0 && f.multi && f.focus == fieldValue {
		// The text area gives up rows so that every field and message fits.
		f.areaHeight = max(1, f.areaHeight-f.overflow)
		out = f.render(height)
	}
	return out
}

func (f *form) render(height int) string {
	s := f.b.root.styles
	w := f.b.root.width
	title := "New secret"
	if f.orig != nil {
		title = "Edit " + f.orig.Name
	}
	lines := []string{s.Title.Render(title), ""}
	focusAt, focusEnd := 0, 0 // the focused field's lines, its mistake included
	for i := 0; i < fieldCount; i++ {
		if i == f.focus {
			focusAt = len(lines)
		}
		label := s.Label.Render(fieldLabels[i])
		if i == f.focus {
			label = s.Focused.Render(fieldLabels[i])
		}
		var field string
		switch {
		case i == fieldType && f.fixedType():
			field = string(f.orig.Type) + " (made by hush dynamic add)"
		case i == fieldType:
			field = "‹ " + string(vault.Types[f.typ]) + " ›"
			if i == f.focus {
				field = s.Selected.Render(field)
			}
		case i == fieldValue && (f.multi || f.raw != nil):
			lines = append(lines, f.valueArea(label, max(10, w-15))...)
		default:
			in := f.inputs[i]
			in.SetWidth(max(10, w-16))
			field = in.View()
		}
		if field != "" {
			lines = append(lines, label+field)
		}
		if f.errs[i] != "" {
			// Wrapped, not cut: the reason is the useful part.
			msg := lipgloss.NewStyle().Width(max(10, w-14)).Render(f.errs[i])
			for _, l := range strings.Split(msg, "\n") {
				lines = append(lines, strings.Repeat(" ", 14)+s.Bad.Render(strings.TrimRight(l, " ")))
			}
		}
		if i == f.focus {
			focusEnd = len(lines)
		}
	}
	var tail []string
	if f.message != "" {
		tail = strings.Split(s.Status.Render(lipgloss.NewStyle().Width(max(10, w)).Render(f.message)), "\n")
	}
	f.overflow = len(lines) + 1 + len(tail) - height
	// On a small terminal the fields scroll so that the focused one (with
	// its mistake) shows; the message stays at the bottom.
	if room := height - len(tail) - 1; len(lines) > room && room > 0 {
		start := max(0, min(focusAt-1, len(lines)-room))
		if focusEnd > start+room {
			start = min(focusEnd-room, focusAt)
		}
		lines = lines[start:min(len(lines), start+room)]
	}
	lines = append(lines, "")
	lines = append(lines, tail...)
	return strings.Join(lines, "\n")
}
