package human

import (
	"bufio"
	"bytes"
	"io"
	"text/tabwriter"
	"unicode/utf8"
)

// Table writes aligned columns: cells end with a tab, lines with a newline,
// and each column is as wide as its widest cell plus two spaces, exactly
// as text/tabwriter (minwidth 2, padding 2, padded with spaces) writes
// them. Its output reaches the writer in few large writes (tabwriter
// writes every cell and every run of padding separately: about ten
// write(2) calls a line on an unbuffered stdout, a million for `hush ls`
// of 100,000 secrets).
//
// Every line of a hush table has the same number of cells; such a table
// is aligned here in one pass over the text, several times faster than
// tabwriter, which keeps a slice of cells per line and formats column
// blocks recursively (a fifth of a cached `hush ls`). Any other text (a
// line with more or fewer cells, a tabwriter control character, no final
// newline) goes through tabwriter itself, so the output is always
// tabwriter's (TestTableIsTabwriter).
type Table struct{ t *table }

type table struct {
	out  io.Writer
	text []byte // everything written since the last Flush
}

// NewTable is a table that writes to w.
func NewTable(w io.Writer) Table { return Table{&table{out: w}} }

// Write adds text to the table; nothing is written before Flush.
func (t Table) Write(p []byte) (int, error) {
	t.t.text = append(t.t.text, p...)
	return len(p), nil
}

const (
	tableMinWidth = 2
	tablePadding  = 2
)

// Flush writes the table out.
func (t Table) Flush() error {
	text := t.t.text
	t.t.text = nil
	buf := bufio.NewWriterSize(t.t.out, 64<<10)
	widths, ok := uniformWidths(text)
	if !ok {
		tw := tabwriter.NewWriter(buf, tableMinWidth, 4, tablePadding, ' ', 0)
		tw.Write(text)
		if err := tw.Flush(); err != nil {
			return err
		}
		return buf.Flush()
	}
	var pad [256]byte
	for i := range pad {
		pad[i] = ' '
	}
	for len(text) > 0 {
		nl := bytes.IndexByte(text, '\n')
		line := text[:nl]
		text = text[nl+1:]
		for _, w := range widths {
			tab := bytes.IndexByte(line, '\t')
			cell := line[:tab]
			line = line[tab+1:]
			buf.Write(cell)
			for n := w - utf8.RuneCount(cell); n > 0; n -= len(pad) {
				buf.Write(pad[:min(n, len(pad))])
			}
		}
		buf.Write(line) // the last cell, not aligned
		buf.WriteByte('\n')
	}
	return buf.Flush()
}

// uniformWidths returns each column's width when every line of text ends
// with a newline and has the same number of tab-ended cells, and text has
// none of tabwriter's other control characters; else false.
func uniformWidths(text []byte) ([]int, bool) {
	if len(text) == 0 || text[len(text)-1] != '\n' ||
		bytes.ContainsAny(text, "\v\f\r\xff") {
		return nil, false
	}
	var widths []int
	first := true
	for len(text) > 0 {
		nl := bytes.IndexByte(text, '\n')
		line := text[:nl]
		text = text[nl+1:]
		col := 0
		for {
			tab := bytes.IndexByte(line, '\t')
			if tab < 0 {
				break
			}
			w := utf8.RuneCount(line[:tab]) + tablePadding
			if first {
				widths = append(widths, max(w, tableMinWidth))
			} else if col >= len(widths) {
				return nil, false
			} else if w > widths[col] {
				widths[col] = w
			}
			col++
			line = line[tab+1:]
		}
		if col != len(widths) {
			return nil, false
		}
		first = false
	}
	return widths, true
}
