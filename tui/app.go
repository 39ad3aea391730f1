// Package tui is hush's terminal UI (Bubble Tea v2): a first-run screen that
// creates the vault, an unlock screen, and a browser that filters, shows,
// reveals, copies, edits, deletes and rolls back secrets.
//
// The root [Model] routes between screens; each screen is a small model
// with its own keys (from tui/keymap) and styles (from tui/styles).
// Everything it needs comes in through [Options]; nothing is global.
//
// Values are decrypted only when the user asks (reveal, copy), hidden again
// after [RevealFor], and wiped when hidden; names are decrypted once when
// the browser opens.
package tui

import (
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/crypto"
	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/tui/styles"
	"github.com/hush-secrets/hush/vault"
)

// RevealFor is how long a revealed value stays on screen.
const RevealFor = 15 * time.Second

// ClearClipboardAfter is how long a copied value stays on the clipboard.
const ClearClipboardAfter = 30 * time.Second

// Options are everything the UI works with.
type Options struct {
	VaultName string
	VaultPath string
	// Vault is the opened vault, unlocked (by a remembered key or
	// HUSH_PASSPHRASE) or locked (the unlock screen asks). Nil means there
	// is no vault yet: the first-run screen creates one at VaultPath.
	Vault *vault.Vault
	// UnlockedBy says how an already unlocked vault was unlocked, for the
	// header ("kernel keyring", "HUSH_PASSPHRASE").
	UnlockedBy string
	// CreateKDF is the key derivation cost for a new vault; zero lets
	// vault.Create calibrate it for this machine.
	CreateKDF crypto.KDFParams
	// Describe reads what a value is when it is saved (a certificate's
	// end, an SSH key's fingerprint) and refuses one that is not of its
	// type; nil stores values unread.
	Describe  func(vault.Type, []byte) (string, time.Time, error)
	Clipboard Clipboard        // nil: DetectClipboard()
	Now       func() time.Time // nil: time.Now
	// SyncLabel says in the header how the vault syncs with its team
	// ("" for a vault of one's own: nothing shown); nil shows nothing.
	SyncLabel func(*vault.Vault) string
	// AfterWrite runs after every change made here, in the background (an
	// automatic team sync); what it returns, if anything, becomes the
	// status line.
	AfterWrite func(*vault.Vault) string
	// Held says, for a team vault, whether this device holds the folder
	// scope a name belongs to (a row outside is marked "out of scope": an
	// old copy, see vault.MarkOutOfScope); nil, or a nil func: it holds
	// everything.
	Held func(*vault.Vault) func(name string) bool
}

type screen int

const (
	screenCreate screen = iota
	screenUnlock
	screenBrowser
)

// Model is the root of the UI.
type Model struct {
	opts    Options
	keys    keymap.KeyMap
	styles  styles.Styles
	screen  screen
	width   int
	height  int
	create  *createModel
	unlock  *unlockModel
	browser *browser
	// work is held (shared) by every command that uses the vault off the
	// UI goroutine and (exclusively) by close, so that the vault is never
	// locked and closed under a running command; closed tells a command
	// that starts later that there is nothing left to do.
	work   sync.RWMutex
	closed bool
	// turn is held by the command using the vault: a vault.Vault is safe
	// for one goroutine at a time, and a reload can start while another
	// command still reads (two listings at once raced on the vault's
	// checks and its held files).
	turn sync.Mutex
}

// background runs f as a command that may use the vault: every command
// that touches the vault off the UI goroutine goes through here.
func (m *Model) background(f func() tea.Msg) tea.Cmd {
	return func() tea.Msg {
		m.work.RLock()
		defer m.work.RUnlock()
		if m.closed {
			return nil
		}
		m.turn.Lock()
		defer m.turn.Unlock()
		return f()
	}
}

// New returns the UI's root model.
func New(o Options) *Model {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Clipboard == nil {
		o.Clipboard = DetectClipboard()
	}
	m := &Model{opts: o, keys: keymap.Default(), styles: styles.Default(), width: 80, height: 24}
	switch {
	case o.Vault == nil:
		m.screen, m.create = screenCreate, newCreate(m)
	case o.Vault.Locked():
		m.screen, m.unlock = screenUnlock, newUnlock(m)
	default:
		m.screen, m.browser = screenBrowser, newBrowser(m, o.Vault, o.UnlockedBy)
	}
	return m
}

// Run starts the UI on the terminal and returns when the user quits.
func Run(o Options, opts ...tea.ProgramOption) error {
	m := New(o)
	_, err := tea.NewProgram(m, opts...).Run()
	m.close()
	return err
}

// close wipes what is on screen and closes the vault, once the commands
// still using it (a reload, a background sync) have finished.
func (m *Model) close() {
	if m.browser != nil {
		m.browser.hide()
	}
	m.work.Lock()
	defer m.work.Unlock()
	m.closed = true
	if v := m.vault(); v != nil {
		v.Close()
	}
}

func (m *Model) vault() *vault.Vault {
	switch {
	case m.browser != nil:
		return m.browser.v
	case m.unlock != nil:
		return m.unlock.v
	case m.create != nil:
		return m.create.v
	}
	return nil
}

func (m *Model) Init() tea.Cmd {
	switch m.screen {
	case screenCreate:
		return m.create.init()
	case screenUnlock:
		return m.unlock.init()
	}
	return m.browser.init()
}

// openedMsg: the vault is unlocked (or created); the browser takes over.
type openedMsg struct {
	v  *vault.Vault
	by string
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			if m.browser != nil {
				return m, m.browser.quit()
			}
			return m, tea.Quit
		}
	case openedMsg:
		m.screen, m.create, m.unlock = screenBrowser, nil, nil
		m.browser = newBrowser(m, msg.v, msg.by)
		return m, m.browser.init()
	}
	var cmd tea.Cmd
	switch m.screen {
	case screenCreate:
		cmd = m.create.update(msg)
	case screenUnlock:
		cmd = m.unlock.update(msg)
	default:
		cmd = m.browser.update(msg)
	}
	return m, cmd
}

func (m *Model) View() tea.View {
	var body string
	switch m.screen {
	case screenCreate:
		body = m.create.view()
	case screenUnlock:
		body = m.unlock.view()
	default:
		body = m.browser.view()
	}
	v := tea.NewView(fit(body, m.width, m.height))
	v.AltScreen = true // nothing stays on the terminal after quitting
	v.WindowTitle = "hush"
	return v
}

// fit cuts or pads the body to exactly w×h cells so that no line wraps and
// nothing from an earlier frame survives a resize.
func fit(s string, w, h int) string {
	return lipgloss.NewStyle().MaxWidth(w).MaxHeight(h).Render(s)
}

// helpView renders a help bar for the current bindings. Each line is cut
// to the width: the help component can overshoot it by a few columns
// (charmbracelet/bubbles#1038), leaving a dangling "•" at the edge.
func helpView(h help.Model, k keymap.Help, width int) string {
	h.SetWidth(width)
	if len(k.Full) == 0 {
		k.Full = [][]key.Binding{k.Short} // "?" must never leave a screen without hints
	}
	lines := strings.Split(h.View(k), "\n")
	for i, l := range lines {
		if ansi.StringWidth(l) > width {
			l = ansi.Truncate(l, width, "")
			lines[i] = strings.TrimRight(ansi.Strip(l), " •")
		}
	}
	return strings.Join(lines, "\n")
}
