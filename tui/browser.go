package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hush-secrets/hush/tui/keymap"
	"github.com/hush-secrets/hush/vault"
)

type mode int

const (
	modeList mode = iota
	modeDetail
	modeForm
	modeHistory
)

// browser is the main screen: the list of secrets with a filter, and the
// detail, form and history views reached from it.
type browser struct {
	root *Model
	v    *vault.Vault
	by   string // how the vault was unlocked

	loading bool
	// loadingRest is, while the first rows are shown and the rest of a
	// large index loads in the background, how many live secrets there
	// are; 0 once the whole index is in. While it is set the browser does
	// not touch the vault (the loading goroutine has it): no metadata, no
	// detail, no edits.
	loadingRest int
	entries     []vault.IndexEntry
	ix          *index
	filter      *filter
	rows        []int // entries shown, after filtering
	cursor      int
	offset      int
	meta        map[string]vault.Meta  // by entry id + version, opened as rows show
	policies    []vault.Policy         // folder defaults, read with the index
	conflict    map[string]string      // ids of secrets a team sync left in conflict
	held        func(name string) bool // nil: every name's scope is held (Options.Held)
	longest     int                    // the widest name, in cells
	syncLabel   string                 // how the vault syncs, for the header

	filterInput textinput.Model
	filtering   bool

	mode    mode
	detail  *detail
	form    *form
	history *history
	confirm *confirm

	// The tree view: rows grouped under folder rows (negative rows index
	// folderRows), and the folders collapsed.
	tree       bool
	folderRows []folderRow
	collapsed  map[string]bool

	removed string // the last secret removed here, for undo
	copied  []byte // a value on the clipboard, until it is cleared
	copySeq int    // numbers copies, so that an earlier copy's timeout leaves a later one alone

	help      help.Model
	status    string
	statusBad bool
	statusSeq int
	revealSeq int // reveal timeouts' numbers, across details: a stale one never matches
}

// confirm is a yes/no question over the current view.
type confirm struct {
	prompt string
	yes    func() tea.Cmd
}

type indexMsg struct {
	entries   []vault.IndexEntry
	conflicts map[string]string
	err       error
	select_   string // name to put the cursor on
}

// indexHeadMsg is the first rows of a large index, while the rest loads.
type indexHeadMsg struct {
	entries []vault.IndexEntry
	total   int
	err     error
}

// headRows is how many rows of the index the first screen is drawn from:
// more than a screen, so that a filter typed at once has rows to narrow.
const headRows = 500

type statusTimeoutMsg struct{ seq int }

func newBrowser(root *Model, v *vault.Vault, by string) *browser {
	fi := textinput.New()
	fi.Prompt = "/ "
	fi.Placeholder = "type to filter"
	fi.CharLimit = 256
	b := &browser{root: root, v: v, by: by, loading: true, filterInput: fi, help: help.New(), meta: map[string]vault.Meta{}}
	return b
}

// init reads the first rows of the index, then the rest: a large vault
// shows its first screen without waiting for every name to be decrypted.
func (b *browser) init() tea.Cmd {
	v := b.v
	return b.root.background(func() tea.Msg {
		head, total, err := v.IndexHead(headRows)
		if err != nil || total > len(head) {
			return indexHeadMsg{entries: head, total: total, err: err}
		}
		// The head is the whole index.
		cs, err := v.Conflicts()
		return indexMsg{entries: head, conflicts: cs, err: err}
	})
}

// reload reads the index (names only) again, keeping the filter.
func (b *browser) reload(selectName string) tea.Cmd {
	v := b.v
	return b.root.background(func() tea.Msg {
		es, err := v.Index()
		var cs map[string]string
		if err == nil {
			cs, err = v.Conflicts()
		}
		return indexMsg{entries: es, conflicts: cs, err: err, select_: selectName}
	})
}

// setEntries makes entries (sorted by name) the list's index, and
// forgets metadata opened for earlier entries.
func (b *browser) setEntries(entries []vault.IndexEntry) {
	b.entries = entries
	names := make([]string, len(entries))
	b.longest = 0
	for i, e := range entries {
		names[i] = e.Name
		b.longest = max(b.longest, lipgloss.Width(e.Name))
	}
	b.ix = newIndex(names)
	b.filter = newFilter(b.ix)
	b.meta = map[string]vault.Meta{}
}

// stillLoading is the status for an action that needs the vault while the
// rest of the index loads.
func (b *browser) stillLoading() tea.Cmd {
	return b.setStatus(fmt.Sprintf("still reading the index (%d of %d names): try again in a moment", len(b.entries), b.loadingRest), false)
}

func (b *browser) nextRevealSeq() int {
	b.revealSeq++
	return b.revealSeq
}

func (b *browser) setStatus(msg string, bad bool) tea.Cmd {
	b.status, b.statusBad = msg, bad
	b.statusSeq++
	seq := b.statusSeq
	return tea.Tick(8*time.Second, func(time.Time) tea.Msg { return statusTimeoutMsg{seq} })
}

// hide wipes any value on screen (called when leaving a view and on quit).
func (b *browser) hide() {
	if b.detail != nil {
		b.detail.hide()
	}
	if b.history != nil {
		b.history.hide()
	}
}

func (b *browser) keys() keymap.KeyMap { return b.root.keys }

func (b *browser) update(msg tea.Msg) tea.Cmd {
	if _, ok := msg.(tea.WindowSizeMsg); ok {
		b.scroll() // the list's height changed: keep the cursor's row on screen
	}
	switch msg := msg.(type) {
	case syncedMsg:
		if msg.status == "" {
			return nil
		}
		sel := ""
		if e := b.current(); e != nil {
			sel = e.Name
		}
		return tea.Batch(b.reload(sel), b.setStatus(msg.status, false))
	case indexHeadMsg:
		b.loading = false
		if msg.err != nil {
			return b.setStatus(msg.err.Error(), true)
		}
		b.loadingRest = msg.total
		b.setEntries(msg.entries)
		b.applyFilter()
		b.cursor = 0
		b.scroll()
		return b.reload("")
	case indexMsg:
		b.loading = false
		if b.loadingRest > 0 && msg.select_ == "" && b.cursor > 0 {
			// The whole index replaces the first rows: the cursor stays
			// on the secret it was on, if the person moved it.
			if e := b.current(); e != nil {
				msg.select_ = e.Name
			}
		}
		b.loadingRest = 0
		if msg.err != nil {
			return b.setStatus(msg.err.Error(), true)
		}
		b.conflict = msg.conflicts
		if f := b.root.opts.SyncLabel; f != nil {
			b.syncLabel = f(b.v)
		}
		if f := b.root.opts.Held; f != nil {
			b.held = f(b.v)
		}
		b.setEntries(msg.entries)
		b.policies, _ = b.v.Policies()
		cursor := b.cursor
		b.applyFilter()
		if msg.select_ != "" {
			b.selectName(msg.select_)
		} else {
			// The same place in the list (after a delete, the next row):
			// the filter stays, and so does the cursor.
			b.cursor = max(0, min(cursor, len(b.rows)-1))
			b.scroll()
		}
		return nil
	case statusTimeoutMsg:
		if msg.seq == b.statusSeq {
			b.status = ""
		}
		return nil
	case copiedMsg:
		if msg.err != nil {
			return b.setStatus("could not copy: "+msg.err.Error(), true)
		}
		return nil
	case clipboardTimeoutMsg:
		defer clear(msg.value)
		clip := b.root.opts.Clipboard
		if msg.seq != b.copySeq {
			// A later copy replaced this value: that copy keeps its 30 s
			// (and is what quitting clears). A clipboard that can be read
			// back is still emptied if it holds this value (the later copy
			// may have failed); one that cannot is left alone.
			if !readsBack(clip) {
				return nil
			}
			return clip.ClearIf(msg.value)
		}
		// Whatever view is open now, the copied value leaves the clipboard.
		clear(b.copied)
		b.copied = nil
		return clip.ClearIf(msg.value)
	case clearedMsg:
		switch {
		case msg.cleared && msg.note != "":
			return b.setStatus(msg.note, false)
		case msg.cleared:
			return b.setStatus("clipboard cleared", false)
		case msg.note != "":
			return b.setStatus(msg.note, true)
		}
		return nil
	case revealTimeoutMsg:
		if b.history != nil {
			return b.history.update(msg)
		}
		if b.detail != nil {
			return b.detail.update(msg)
		}
		return nil
	case tea.KeyPressMsg:
		if b.confirm != nil {
			return b.updateConfirm(msg)
		}
		if msg.String() == "?" && !b.typing() {
			b.help.ShowAll = !b.help.ShowAll
			return nil
		}
	}
	switch b.mode {
	case modeDetail:
		return b.detail.update(msg)
	case modeForm:
		return b.form.update(msg)
	case modeHistory:
		return b.history.update(msg)
	}
	return b.updateList(msg)
}

// typing reports whether keys go into a text field, where q and ? are text.
func (b *browser) typing() bool {
	return b.filtering || b.mode == modeForm
}

func (b *browser) updateConfirm(msg tea.KeyPressMsg) tea.Cmd {
	c := b.confirm
	switch {
	case key.Matches(msg, b.keys().Yes):
		b.confirm = nil
		return c.yes()
	case key.Matches(msg, b.keys().No), msg.String() == "q":
		b.confirm = nil
		return b.setStatus("cancelled", false)
	}
	return nil
}

func (b *browser) updateList(msg tea.Msg) tea.Cmd {
	k := b.keys()
	km, isKey := msg.(tea.KeyPressMsg)
	if b.filtering {
		if isKey {
			switch {
			case key.Matches(km, k.ClearFilter):
				b.filtering = false
				b.filterInput.Blur()
				b.filterInput.Reset()
				b.applyFilter()
				return nil
			case key.Matches(km, k.Open), km.String() == "down", km.String() == "up":
				b.filtering = false
				b.filterInput.Blur()
				for b.tree && b.cursor < len(b.rows)-1 && isFolder(b.rows[b.cursor]) {
					b.cursor++ // the first match is the first secret, not its folder
				}
				if km.String() == "enter" && b.current() != nil {
					if b.loadingRest > 0 {
						return b.stillLoading()
					}
					return b.openDetail()
				}
				return nil
			}
		}
		var cmd tea.Cmd
		b.filterInput, cmd = b.filterInput.Update(msg)
		b.applyFilter()
		return cmd
	}
	if !isKey {
		return nil
	}
	page := max(1, b.listHeight()-1)
	if b.loadingRest > 0 && (key.Matches(km, k.New) || key.Matches(km, k.Edit) || key.Matches(km, k.Delete) ||
		key.Matches(km, k.Copy) || key.Matches(km, k.Reveal) || key.Matches(km, k.History) ||
		(key.Matches(km, k.Open) && b.current() != nil)) {
		return b.stillLoading()
	}
	switch {
	case key.Matches(km, k.Quit):
		return b.quit()
	case key.Matches(km, k.ClearFilter) && b.filterInput.Value() != "":
		b.filterInput.Reset()
		b.applyFilter()
	case key.Matches(km, k.Filter):
		b.filtering = true
		return b.filterInput.Focus()
	case key.Matches(km, k.Up):
		b.move(-1)
	case key.Matches(km, k.Down):
		b.move(1)
	case key.Matches(km, k.PageUp):
		b.move(-page)
	case key.Matches(km, k.PageDown):
		b.move(page)
	case key.Matches(km, k.Home):
		b.move(-len(b.rows))
	case key.Matches(km, k.End):
		b.move(len(b.rows))
	case key.Matches(km, k.Tree):
		b.toggleTree()
	case b.tree && km.String() == "left":
		b.fold(false)
	case b.tree && km.String() == "right":
		b.fold(true)
	case key.Matches(km, k.Open) && b.cursor < len(b.rows) && isFolder(b.rows[b.cursor]):
		b.fold(b.collapsed[b.folderOf(b.rows[b.cursor]).path])
	case key.Matches(km, k.Open):
		if len(b.rows) > 0 {
			return b.openDetail()
		}
	case key.Matches(km, k.New):
		return b.openForm(nil)
	case km.String() == "u" && b.removed != "":
		return b.undoRemove()
	case key.Matches(km, k.Edit):
		if e := b.current(); e != nil {
			return b.openForm(e)
		}
	case key.Matches(km, k.Delete):
		if e := b.current(); e != nil {
			b.askDelete(e.Name)
		}
	case key.Matches(km, k.Copy), key.Matches(km, k.Reveal), key.Matches(km, k.History):
		if b.current() != nil {
			if cmd := b.openDetail(); cmd != nil || b.detail == nil {
				return cmd
			}
			return b.detail.update(km)
		}
	}
	return nil
}

func (b *browser) askDelete(name string) {
	b.confirm = &confirm{
		prompt: fmt.Sprintf("Remove %s? Its history is kept (hush rm --purge deletes it for good). y/n", name),
		yes: func() tea.Cmd {
			b.v.Intend("rm", []string{name}) // the entry goes in with the change
			err := b.v.Remove(name)
			b.v.Record("rm", []string{name}, err)
			if err != nil {
				return b.setStatus(err.Error(), true)
			}
			b.closeDetail()
			b.removed = name
			return tea.Batch(b.reload(""), b.setStatus("removed "+name+" (u: undo)", false), b.wrote())
		},
	}
}

func (b *browser) applyFilter() {
	if b.filter == nil {
		return
	}
	b.rows = b.filter.set(b.filterInput.Value())
	if b.tree {
		b.rows = b.treeRows(b.rows)
	}
	b.cursor, b.offset = 0, 0
}

func (b *browser) selectName(name string) {
	for i, r := range b.rows {
		if !isFolder(r) && b.entries[r].Name == name {
			b.cursor = i
			b.scroll()
			return
		}
	}
}

func (b *browser) move(d int) {
	b.cursor = max(0, min(len(b.rows)-1, b.cursor+d))
	b.scroll()
}

func (b *browser) scroll() {
	h := b.listHeight()
	b.offset = min(b.offset, max(0, len(b.rows)-h)) // no blank rows while rows hide above
	if b.cursor < b.offset {
		b.offset = b.cursor
	}
	if b.cursor >= b.offset+h {
		b.offset = b.cursor - h + 1
	}
}

func (b *browser) current() *vault.IndexEntry {
	if b.cursor < 0 || b.cursor >= len(b.rows) || isFolder(b.rows[b.cursor]) {
		return nil
	}
	return &b.entries[b.rows[b.cursor]]
}

// metaOf opens an entry's metadata the first time its row is drawn.
func (b *browser) metaOf(e *vault.IndexEntry) (vault.Meta, bool) {
	k := fmt.Sprintf("%s/%d", e.ID, e.Version)
	if m, ok := b.meta[k]; ok {
		return m, true
	}
	if b.loadingRest > 0 {
		return vault.Meta{}, false // the vault is busy loading the index
	}
	m, err := b.v.Meta(e)
	if err != nil {
		return vault.Meta{}, false
	}
	vault.Inherit(&m, e.Name, b.policies)
	b.meta[k] = m
	return m, true
}

func (b *browser) openDetail() tea.Cmd {
	e := b.current()
	if e == nil {
		return nil
	}
	d, err := newDetail(b, e.Name)
	if err != nil {
		return b.setStatus(err.Error(), true)
	}
	b.mode, b.detail = modeDetail, d
	b.status = ""
	return nil
}

func (b *browser) closeDetail() {
	b.hide()
	b.status = ""
	b.detail, b.history, b.form = nil, nil, nil
	b.mode = modeList
}

func (b *browser) openForm(e *vault.IndexEntry) tea.Cmd {
	b.hide()
	b.form = newForm(b, e)
	b.mode = modeForm
	return b.form.init()
}

// Layout: header, [filter], body, status, help.
func (b *browser) listHeight() int {
	return max(1, b.root.height-b.chromeHeight()-1) // -1: the column titles
}

func (b *browser) chromeHeight() int {
	return 1 + 1 + 1 + lipgloss.Height(b.helpView()) // header, filter, status, help
}

func (b *browser) header() string {
	s := b.root.styles
	n := len(b.entries)
	if b.loadingRest > 0 {
		n = b.loadingRest
	}
	count := fmt.Sprintf("%d secrets", n)
	if n == 1 {
		count = "1 secret"
	}
	lock := "unlocked"
	if b.by != "" {
		lock += " (" + b.by + ")"
	}
	head := " vault " + b.root.opts.VaultName + " · " + count + " · " + lock
	if b.syncLabel != "" {
		head += " · " + b.syncLabel
	}
	left := s.Header.Render(" hush ") + s.HeaderDim.Render(head+" ")
	w := b.root.width
	if lipgloss.Width(left) < w {
		left += s.HeaderDim.Render(strings.Repeat(" ", w-lipgloss.Width(left)))
	}
	return ansi.Truncate(left, w, "…")
}

func (b *browser) helpKeys() keymap.Help {
	k := b.keys()
	if b.confirm != nil {
		return keymap.Help{Short: []key.Binding{k.Yes, k.No}}
	}
	switch b.mode {
	case modeDetail:
		return b.detail.helpKeys()
	case modeForm:
		return b.form.helpKeys()
	case modeHistory:
		return b.history.helpKeys()
	}
	if b.filtering {
		return keymap.Help{Short: []key.Binding{
			key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
			key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
			key.NewBinding(key.WithKeys("↓"), key.WithHelp("↓", "to the list")),
		}}
	}
	return keymap.Help{
		Short: []key.Binding{k.Filter, k.Open, k.Copy, k.New, k.Delete, k.Help, k.Quit},
		Full: [][]key.Binding{
			{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End},
			{k.Filter, k.ClearFilter, k.Open, k.Reveal, k.Copy, k.Tree},
			{k.New, k.Edit, k.Delete, k.History, key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo remove"))},
			{k.Help, k.Quit, k.ForceQuit},
		},
	}
}

func (b *browser) helpView() string {
	return helpView(b.help, b.helpKeys(), b.root.width)
}

func (b *browser) statusLine() string {
	s := b.root.styles
	if b.confirm != nil {
		return s.Mark.Render(b.confirm.prompt)
	}
	if b.status == "" {
		return ""
	}
	if b.statusBad {
		return s.Bad.Render(b.status)
	}
	return s.Status.Render(b.status)
}

func (b *browser) view() string {
	var body string
	switch b.mode {
	case modeDetail:
		body = b.detail.view(b.bodyHeight())
	case modeForm:
		body = b.form.view(b.bodyHeight())
	case modeHistory:
		body = b.history.view(b.bodyHeight())
	default:
		body = b.listView()
	}
	body = lipgloss.NewStyle().Height(b.bodyHeight()).MaxHeight(b.bodyHeight()).Render(body)
	return strings.Join([]string{b.header(), body, ansi.Truncate(b.statusLine(), b.root.width, "…"), b.helpView()}, "\n")
}

func (b *browser) bodyHeight() int {
	return max(1, b.root.height-b.chromeHeight()+1) // the filter line belongs to the list body
}

// Column widths: the name takes what the others leave.
const (
	typeWidth = 15
	ageWidth  = 10
	markWidth = 14
)

func (b *browser) listView() string {
	s := b.root.styles
	w := b.root.width
	var lines []string
	var top string
	if b.filtering || b.filterInput.Value() != "" {
		top = b.filterInput.View() + s.Dim.Render(fmt.Sprintf("  %d of %d", len(b.rows), len(b.entries)))
	} else {
		top = s.Dim.Render("/ to filter")
	}
	if b.loadingRest > 0 {
		top += s.Dim.Render(fmt.Sprintf("  · loading names: %d of %d", len(b.entries), b.loadingRest))
	}
	if len(b.rows) > 0 { // where the cursor is: "123/2040"
		pos := fmt.Sprintf("%d/%d", b.cursor+1, len(b.rows))
		if gap := w - lipgloss.Width(top) - len(pos); gap >= 2 {
			top += strings.Repeat(" ", gap) + s.Dim.Render(pos)
		}
	}
	lines = append(lines, top)
	switch {
	case b.loading:
		return strings.Join(append(lines, "", s.Dim.Render("Opening the vault…")), "\n")
	case len(b.entries) == 0:
		return strings.Join(append(lines, quickStart(s.Dim.Render)...), "\n")
	case len(b.rows) == 0:
		return strings.Join(append(lines, "", "Nothing matches. Esc clears the filter."), "\n")
	}
	// The name takes what the other columns leave, but no more than the
	// longest name needs: on a wide terminal the columns stay together.
	typeW, ageW, markW := typeWidth, ageWidth, markWidth
	if w < 80 { // narrow: the name needs the room more
		typeW, ageW, markW = 12, 8, 10
	}
	nameW := max(8, min(w-2-typeW-ageW-markW, b.longest+2))
	lines = append(lines, s.Dim.Render(pad("  NAME", nameW+2)+pad("TYPE", typeW)+pad("UPDATED", ageW)+"MARKS"))
	now := b.root.opts.Now()
	h := b.listHeight()
	for i := b.offset; i < min(len(b.rows), b.offset+h); i++ {
		if r := b.rows[i]; isFolder(r) {
			lines = append(lines, b.folderLine(b.folderOf(r), i == b.cursor, w))
			continue
		}
		e := &b.entries[b.rows[i]]
		meta, _ := b.metaOf(e)
		name := shorten(e.Name, nameW-1) // one space before the type column
		folder, base := splitName(name)
		if b.tree { // under its folder's row: the name only, indented
			indent := strings.Repeat("  ", strings.Count(e.Name, "/"))
			_, last := splitName(e.Name)
			name = indent + shorten(last, max(4, nameW-1-len(indent)))
			folder, base = "", name
		}
		marks := rowMarks(meta, e.Updated, now, b.held == nil || b.held(e.Name))
		if _, ok := b.conflict[e.ID]; ok {
			marks = strings.TrimSpace("conflict " + marks)
		}
		cells := pad(string(meta.Type), typeW) + pad(vault.Ago(e.Updated, now), ageW)
		if i == b.cursor {
			line := pad("▸ "+name, nameW+2) + cells + pad(marks, markW)
			lines = append(lines, s.Selected.Render(ansi.Truncate(line, w, "…")))
			continue
		}
		line := "  " + s.Folder.Render(folder) + base + strings.Repeat(" ", max(0, nameW-lipgloss.Width(name))) +
			s.Dim.Render(cells) + s.Mark.Render(marks)
		lines = append(lines, ansi.Truncate(line, w, "…"))
	}
	return strings.Join(lines, "\n")
}

// quickStart is what an empty vault shows: the first steps, here and in
// a shell.
func quickStart(dim func(...string) string) []string {
	return []string{
		"",
		"The vault is empty. Press n to add a secret.",
		"",
		"Quick start",
		"  n        add a secret: a name like app/dev/API_KEY, a type, the value",
		"           (ctrl+g generates one; paste keeps several lines exactly)",
		"  /        filter by any part of the name; enter opens a secret",
		"  r  c     reveal (15 s) or copy (cleared after 30 s)",
		"  ?        every key",
		"",
		"From a shell:",
		dim("  hush import --into app/dev .env       secrets from a .env file"),
		dim("  hush run --from app/dev -- npm start  a program with them in its environment"),
		dim("  hush unlock                           type the passphrase once for 8 h"),
	}
}

func splitName(n string) (folder, base string) {
	if i := strings.LastIndexByte(n, '/'); i >= 0 {
		return n[:i+1], n[i+1:]
	}
	return "", n
}

// shorten fits a name in w cells by cutting the middle of its path: the
// first segment and the last (the variable's name) stay, and the folders
// between keep their start, so app/dev/X and app/prod/X still differ.
// When even that does not fit, the end of the name stays.
func shorten(s string, w int) string {
	if lipgloss.Width(s) <= w {
		return s
	}
	r := []rune(s)
	first := strings.IndexByte(s, '/')
	last := strings.LastIndexByte(s, '/')
	if first >= 0 && last > first {
		head := []rune(s[:first+1])
		tail := []rune(s[last:])
		middle := []rune(s[first+1 : last])
		if room := w - len(head) - len(tail) - 1; room >= min(3, len(middle)) {
			return string(head) + string(middle[:min(room, len(middle))]) + "…" + string(tail)
		}
		// The name is long too: the start of the folders, then its end.
		keep := min(3, len(middle))
		if end := w - len(head) - keep - 1; end >= 4 {
			return string(head) + string(middle[:keep]) + "…" + string(tail[len(tail)-end:])
		}
	}
	return "…" + string(r[len(r)-(w-1):])
}

func pad(s string, w int) string {
	if n := lipgloss.Width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return ansi.Truncate(s, w, "…")
}

// markWords are the browser's short words for vault.Attention's marks.
var markWords = map[vault.Mark]string{
	vault.MarkExpired: "expired", vault.MarkExpiresSoon: "expires soon", vault.MarkRotationDue: "rotate",
	vault.MarkCertificateEnded: "cert ended", vault.MarkCertificateEnds: "cert ends", vault.MarkRevoked: "revoked",
	vault.MarkOutOfScope: "out of scope",
}

// rowMarks are a row's marks; held: this device holds the row's team
// folder scope.
func rowMarks(m vault.Meta, updated, now time.Time, held bool) string {
	var marks []string
	for _, mark := range vault.AttentionIn(m, updated, now, held) {
		marks = append(marks, markWords[mark])
	}
	return strings.Join(marks, " ")
}

// undoRemove brings back the secret removed last: its history was kept, and
// restoring its last version makes it live again.
func (b *browser) undoRemove() tea.Cmd {
	name := b.removed
	b.removed = ""
	hist, _, err := b.v.History(name)
	if err != nil {
		return b.setStatus(err.Error(), true)
	}
	b.v.Intend("rollback", []string{name})
	_, err = b.v.Rollback(name, hist[len(hist)-1].Version)
	b.v.Record("rollback", []string{name}, err)
	if err != nil {
		return b.setStatus(err.Error(), true)
	}
	return tea.Batch(b.reload(name), b.setStatus("restored "+name, false), b.wrote())
}

// syncedMsg carries what AfterWrite said.
type syncedMsg struct{ status string }

// wrote runs AfterWrite in the background after a change.
func (b *browser) wrote() tea.Cmd {
	f, v := b.root.opts.AfterWrite, b.v
	if f == nil {
		return nil
	}
	return b.root.background(func() tea.Msg { return syncedMsg{f(v)} })
}

// quit ends the program; a value still on the clipboard is taken off it
// first (if the clipboard still holds it), rather than left there for 30 s
// after hush is gone.
func (b *browser) quit() tea.Cmd {
	b.hide()
	if b.copied == nil {
		return tea.Quit
	}
	cmd := b.root.opts.Clipboard.ClearIf(b.copied)
	clear(b.copied)
	b.copied = nil
	return tea.Sequence(cmd, tea.Quit)
}
