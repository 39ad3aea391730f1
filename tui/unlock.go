package tui

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/ccojocar/zxcvbn-go"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
	"github.com/hush-secrets/hush/vault/unlock"
)

// minPassphrase is every front end's rule.
const minPassphrase = unlock.MinPassphraseLen

func passwordInput(prompt string) textinput.Model {
	t := textinput.New()
	t.Prompt = prompt
	t.EchoMode = textinput.EchoPassword
	t.EchoCharacter = '•'
	t.CharLimit = 1024
	return t
}

// unlockModel asks the passphrase of an existing vault.
type unlockModel struct {
	root    *Model
	v       *vault.Vault
	input   textinput.Model
	busy    bool
	message string
	tries   int
}

type unlockResultMsg struct{ err error }

func newUnlock(root *Model) *unlockModel {
	u := &unlockModel{root: root, v: root.opts.Vault, input: passwordInput("Passphrase: ")}
	return u
}

func (u *unlockModel) init() tea.Cmd { return u.input.Focus() }

func (u *unlockModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case unlockResultMsg:
		u.busy = false
		if msg.err == nil {
			u.input.Reset() // the typed passphrase does not outlive the screen
			return func() tea.Msg { return openedMsg{v: u.v, by: "passphrase"} }
		}
		u.tries++
		if errors.Is(msg.err, vault.ErrWrongPassphrase) {
			u.message = "Wrong passphrase, try again."
		} else {
			u.message = msg.err.Error()
		}
		u.input.Reset()
		return nil
	case tea.KeyPressMsg:
		if u.busy {
			return nil
		}
		if msg.String() != "enter" {
			u.message = "" // the last attempt's message goes as the next is typed
		}
		switch {
		case msg.String() == "esc":
			return tea.Quit
		case msg.String() == "enter":
			pass := []byte(u.input.Value())
			if len(pass) == 0 {
				u.message = "Type the vault's passphrase, or Esc to quit."
				return nil
			}
			u.busy, u.message = true, ""
			v := u.v
			return u.root.background(func() tea.Msg {
				err := v.Unlock(pass)
				crypto.Wipe(pass)
				return unlockResultMsg{err}
			})
		}
	}
	var cmd tea.Cmd
	u.input, cmd = u.input.Update(msg)
	return cmd
}

func (u *unlockModel) view() string {
	s := u.root.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("hush") + s.Dim.Render("  vault "+u.root.opts.VaultName) + "\n\n")
	b.WriteString("The vault is locked.\n\n")
	b.WriteString(u.input.View() + "\n\n")
	switch {
	case u.busy:
		b.WriteString(s.Dim.Render("Unlocking…") + "\n")
	case u.message != "":
		b.WriteString(s.Bad.Render(u.message) + "\n")
	default:
		b.WriteString("\n")
	}
	b.WriteString("\n" + helpView(help.New(), keymap.Help{Short: []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "quit")),
	}}, u.root.width))
	return b.String()
}

// createModel is the first-run screen: a new vault, passphrase twice.
type createModel struct {
	root    *Model
	v       *vault.Vault
	inputs  [2]textinput.Model
	focus   int
	busy    bool
	message string
	// The strength of the passphrase last rated, so that a frame does not
	// run the estimator again.
	rated string
	bits  float64
	label string
}

type createdMsg struct {
	v   *vault.Vault
	err error
}

func newCreate(root *Model) *createModel {
	c := &createModel{root: root}
	c.inputs[0] = passwordInput("New passphrase: ")
	c.inputs[1] = passwordInput("Repeat it:      ")
	return c
}

func (c *createModel) init() tea.Cmd { return c.inputs[0].Focus() }

func (c *createModel) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case createdMsg:
		c.busy = false
		if msg.err != nil {
			c.message = msg.err.Error()
			return nil
		}
		c.v = msg.v
		c.inputs[0].Reset()
		c.inputs[1].Reset()
		return func() tea.Msg { return openedMsg{v: msg.v, by: "new vault"} }
	case tea.KeyPressMsg:
		if c.busy {
			return nil
		}
		switch msg.String() {
		case "esc":
			return tea.Quit
		case "tab", "down", "shift+tab", "up":
			return c.setFocus(1 - c.focus)
		case "enter":
			if c.focus == 0 {
				if msg := passphraseProblem(c.inputs[0].Value()); msg != "" {
					c.message = msg
					return nil
				}
				c.message = ""
				return c.setFocus(1)
			}
			if c.inputs[0].Value() != c.inputs[1].Value() {
				c.message = "The two passphrases differ: type the second again."
				c.inputs[1].Reset()
				return nil
			}
			if msg := passphraseProblem(c.inputs[0].Value()); msg != "" {
				c.message = msg
				return c.setFocus(0)
			}
			c.busy, c.message = true, ""
			pass := []byte(c.inputs[0].Value())
			path, params := c.root.opts.VaultPath, c.root.opts.CreateKDF
			return func() tea.Msg {
				defer crypto.Wipe(pass)
				v, err := vault.Create(path, pass, vault.CreateOptions{KDF: params})
				return createdMsg{v, err}
			}
		}
	}
	var cmd tea.Cmd
	c.inputs[c.focus], cmd = c.inputs[c.focus].Update(msg)
	return cmd
}

func (c *createModel) setFocus(i int) tea.Cmd {
	c.inputs[c.focus].Blur()
	c.focus = i
	return c.inputs[i].Focus()
}

// passphraseProblem returns what is wrong with a new passphrase, for the
// screen, or "".
func passphraseProblem(p string) string {
	if len([]rune(p)) < minPassphrase {
		return fmt.Sprintf("Use at least %d characters; a few random words are best.", minPassphrase)
	}
	return ""
}

// strengthInput bounds what the estimator reads: its matching grows
// faster than the length, and a passphrase this long is strong anyway.
const strengthInput = 128

// strength estimates a passphrase's strength in bits with zxcvbn's method
// (the ccojocar/zxcvbn-go port): it knows common passwords, English words
// and names, keyboard walks, dates, repeats and l33t spellings, so "correct
// horse battery staple" is four common words (about 63 bits), not 28
// random characters. It is a hint, not a guarantee: it cannot know a quote
// from a book the attacker also read.
func strength(p string, hints ...string) (bits float64, label string) {
	n := len([]rune(p))
	if n > strengthInput {
		p = string([]rune(p)[:strengthInput])
	}
	bits = zxcvbn.PasswordStrength(p, append(hints, "hush", "vault", "passphrase")).Entropy
	switch {
	case n < minPassphrase:
		label = "too short"
	case bits < 50:
		label = "weak"
	case bits < 70:
		label = "fair"
	case bits < 90:
		label = "good"
	default:
		label = "strong"
	}
	return bits, label
}

func (c *createModel) view() string {
	s := c.root.styles
	var b strings.Builder
	b.WriteString(s.Title.Render("hush") + s.Dim.Render("  first run") + "\n\n")
	fmt.Fprintf(&b, "No vault yet. This creates %s at\n%s\n\n", c.root.opts.VaultName, s.Dim.Render(c.root.opts.VaultPath))
	b.WriteString(c.inputs[0].View() + "\n")
	b.WriteString(c.inputs[1].View() + "\n\n")
	if p := c.inputs[0].Value(); p != "" {
		if p != c.rated {
			c.rated = p
			c.bits, c.label = strength(p, c.root.opts.VaultName)
		}
		bits, label := c.bits, c.label
		st := s.Good
		if label == "too short" || label == "weak" {
			st = s.Bad
		} else if label == "fair" {
			st = s.Mark
		}
		b.WriteString("Strength: " + st.Render(fmt.Sprintf("%s (about %.0f bits)", label, bits)) + "\n")
	} else {
		b.WriteString("\n")
	}
	b.WriteString(s.Dim.Render(lipgloss.NewStyle().Width(max(20, c.root.width-2)).Render(
		"The passphrase is stretched with Argon2id (64 MiB, tuned to about half a second here), so every guess costs an attacker as much; it cannot be recovered if lost.")) + "\n\n")
	switch {
	case c.busy:
		b.WriteString(s.Dim.Render("Creating the vault…") + "\n")
	case c.message != "":
		b.WriteString(s.Bad.Render(c.message) + "\n")
	default:
		b.WriteString("\n")
	}
	b.WriteString("\n" + helpView(help.New(), keymap.Help{Short: []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "next / create")),
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "switch field")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "quit")),
	}}, c.root.width))
	return b.String()
}
