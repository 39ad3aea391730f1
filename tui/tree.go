package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// The tree view (t in the list): the same rows grouped under their
// folders, which collapse and expand. A row of b.rows that is negative is
// a folder: folderRows[-r-1].

// folderRow is a folder's line in the tree view.
type folderRow struct {
	path  string // "app/prod/"
	depth int    // 0 for a top folder
	count int    // secrets below it that the filter kept
}

// isFolder reports whether a row is a folder of the tree view.
func isFolder(r int) bool { return r < 0 }

func (b *browser) folderOf(r int) *folderRow { return &b.folderRows[-r-1] }

// treeRows arranges matched entries (indexes into b.entries) by name under
// folder rows, leaving out what collapsed folders hold.
func (b *browser) treeRows(matched []int) []int {
	ms := slices.Clone(matched)
	slices.SortFunc(ms, func(x, y int) int { return strings.Compare(b.entries[x].Name, b.entries[y].Name) })
	counts := map[string]int{}
	for _, i := range ms {
		n := b.entries[i].Name
		for j := 0; j < len(n); j++ {
			if n[j] == '/' {
				counts[n[:j+1]]++
			}
		}
	}
	b.folderRows = b.folderRows[:0]
	out := make([]int, 0, len(ms)+len(counts))
	var open []string // the folders whose rows are out, outermost first
	for _, i := range ms {
		n := b.entries[i].Name
		var folders []string // "app/", "app/prod/"
		for j := 0; j < len(n); j++ {
			if n[j] == '/' {
				folders = append(folders, n[:j+1])
			}
		}
		k := 0
		for k < len(open) && k < len(folders) && open[k] == folders[k] {
			k++
		}
		open = open[:k]
		hidden := false
		for d, f := range folders {
			if d >= k && !hidden {
				b.folderRows = append(b.folderRows, folderRow{path: f, depth: d, count: counts[f]})
				out = append(out, -len(b.folderRows))
			}
			if d >= k {
				open = append(open, f)
			}
			hidden = hidden || b.collapsed[f]
		}
		if !hidden {
			out = append(out, i)
		}
	}
	return out
}

// toggleTree switches between the flat list and the tree, keeping the
// cursor on the same secret.
func (b *browser) toggleTree() {
	sel := ""
	if e := b.current(); e != nil {
		sel = e.Name
	}
	b.tree = !b.tree
	b.applyFilter()
	if sel != "" {
		b.selectName(sel)
	}
}

// fold collapses (open false) or expands a folder row, or, on a secret,
// collapses the folder it is in; the cursor stays on the folder.
func (b *browser) fold(open bool) {
	if b.cursor < 0 || b.cursor >= len(b.rows) {
		return
	}
	var path string
	if r := b.rows[b.cursor]; isFolder(r) {
		path = b.folderOf(r).path
	} else if open {
		return
	} else if folder, _ := splitName(b.entries[r].Name); folder != "" {
		path = folder
	} else {
		return
	}
	if b.collapsed == nil {
		b.collapsed = map[string]bool{}
	}
	if open {
		delete(b.collapsed, path)
	} else {
		b.collapsed[path] = true
	}
	b.applyFilter()
	for i, r := range b.rows {
		if isFolder(r) && b.folderOf(r).path == path {
			b.cursor = i
			break
		}
	}
	b.scroll()
}

// folderLine draws a folder row of the tree view.
func (b *browser) folderLine(f *folderRow, selected bool, w int) string {
	s := b.root.styles
	mark := "▾ "
	if b.collapsed[f.path] {
		mark = "▸ "
	}
	parent := ""
	if i := strings.LastIndexByte(strings.TrimSuffix(f.path, "/"), '/'); i >= 0 {
		parent = f.path[:i+1]
	}
	name := strings.TrimPrefix(f.path, parent)
	count := fmt.Sprintf("  %d", f.count)
	indent := strings.Repeat("  ", f.depth)
	if selected {
		line := "▸ " + indent + mark + name + count
		return s.Selected.Render(ansi.Truncate(line+strings.Repeat(" ", max(0, w-lipgloss.Width(line))), w, "…"))
	}
	return ansi.Truncate("  "+indent+s.Folder.Render(mark)+s.Title.Render(name)+s.Dim.Render(count), w, "…")
}
