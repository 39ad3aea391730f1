package tui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

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
	b       *browser
	orig    *vault.Secret
	inputs  [fieldCount]textinput.Model // fieldType's input is unused
	typ     int                         // index into vault.Types
	focus   int
	errs    [fieldCount]string
	message string
	start   [fieldCount]string // the fields as the form opened, to tell edits
	typ0    int
	discard bool // the user confirmed leaving without saving
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
			f.inputs[fieldValue].Placeholder = "(unchanged; type to replace, ctrl+g to generate)"
		}
	} else {
		f.inputs[fieldValue].Placeholder = "hidden as you type; ctrl+g generates one"
		if q := strings.TrimSpace(b.filterInput.Value()); q != "" && vault.ValidName(q) == nil {
			f.inputs[fieldName].SetValue(q)
		}
	}
	return f
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
	return f.typ != f.typ0
}

func (f *form) setFocus(i int) tea.Cmd {
	f.inputs[f.focus].Blur()
	f.focus = (i + fieldCount) % fieldCount
	if f.focus == fieldType {
		return nil
	}
	return f.inputs[f.focus].Focus()
}

func (f *form) update(msg tea.Msg) tea.Cmd {
	k := f.b.keys()
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
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
			f.inputs[fieldValue].SetValue(string(r.Value))
			crypto.Wipe(r.Value)
			f.message = fmt.Sprintf("generated a %d-character password (about %.0f bits); it is saved with ctrl+s", len(f.inputs[fieldValue].Value()), r.EntropyBits)
			return f.setFocus(fieldValue)
		case f.focus == fieldType && key.Matches(km, k.PrevType):
			f.typ = (f.typ + len(vault.Types) - 1) % len(vault.Types)
			return nil
		case f.focus == fieldType && (key.Matches(km, k.NextType) || km.String() == "space"):
			f.typ = (f.typ + 1) % len(vault.Types)
			return nil
		}
	}
	if f.focus == fieldType {
		return nil
	}
	var cmd tea.Cmd
	f.inputs[f.focus], cmd = f.inputs[f.focus].Update(msg)
	f.errs[f.focus] = ""
	return cmd
}

// wipe clears the value field, so a typed secret does not linger.
func (f *form) wipe() { f.inputs[fieldValue].Reset() }

// save validates in place and writes: a rename first, then the new version.
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
	value := f.inputs[fieldValue].Value()
	if f.orig == nil && value == "" {
		f.errs[fieldValue] = "type a value, or ctrl+g to generate one"
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
	for _, e := range f.errs {
		if e != "" {
			f.message = "Fix the fields marked above."
			return nil
		}
	}
	typ := vault.Types[f.typ]
	note := f.inputs[fieldNote].Value()
	u := vault.Update{Type: &typ, Note: &note, Tags: &tags, RotateEvery: &rotate, Describe: b.root.opts.Describe}
	if f.fixedType() {
		u.Type = nil // a dynamic source stays one (hush dynamic add made it)
	}
	if renamed {
		if _, err := b.v.Move(f.orig.Name, name); err != nil {
			f.message = err.Error()
			return nil
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
	b.v.Record("set", []string{name}, err)
	crypto.Wipe(val)
	if err != nil {
		var ne *vault.NameError
		if errors.As(err, &ne) {
			f.errs[fieldName] = err.Error()
		}
		f.message = err.Error()
		return nil
	}
	f.wipe()
	b.form = nil
	b.closeDetail()
	status := fmt.Sprintf("saved %s (version %d)", name, res.Version)
	if res.Created {
		status = "created " + name
	} else if !res.Changed {
		status = name + " unchanged"
	}
	return tea.Batch(b.reload(name), b.setStatus(status, false), b.wrote())
}

func (f *form) helpKeys() keymap.Help {
	k := f.b.keys()
	return keymap.Help{
		Short: []key.Binding{k.NextField, k.Save, k.Generate, k.PrevType, k.Back},
		Full:  [][]key.Binding{{k.NextField, k.PrevField}, {k.Save, k.Generate, k.PrevType}, {k.Back}},
	}
}

func (f *form) view(height int) string {
	s := f.b.root.styles
	w := f.b.root.width
	title := "New secret"
	if f.orig != nil {
		title = "Edit " + f.orig.Name
	}
	lines := []string{s.Title.Render(title), ""}
	for i := 0; i < fieldCount; i++ {
		label := s.Label.Render(fieldLabels[i])
		if i == f.focus {
			label = s.Focused.Render(fieldLabels[i])
		}
		var field string
		if i == fieldType && f.fixedType() {
			field = string(f.orig.Type) + " (made by hush dynamic add)"
		} else if i == fieldType {
			field = "‹ " + string(vault.Types[f.typ]) + " ›"
			if i == f.focus {
				field = s.Selected.Render(field)
			}
		} else {
			in := f.inputs[i]
			in.SetWidth(max(10, w-16))
			field = in.View()
		}
		lines = append(lines, label+field)
		if f.errs[i] != "" {
			// Wrapped, not cut: the reason is the useful part.
			msg := lipgloss.NewStyle().Width(max(10, w-14)).Render(f.errs[i])
			for _, l := range strings.Split(msg, "\n") {
				lines = append(lines, strings.Repeat(" ", 14)+s.Bad.Render(strings.TrimRight(l, " ")))
			}
		}
	}
	lines = append(lines, "")
	if f.message != "" {
		lines = append(lines, s.Status.Render(lipgloss.NewStyle().Width(max(10, w)).Render(f.message)))
	}
	return strings.Join(lines, "\n")
}
