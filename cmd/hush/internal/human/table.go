package human

import (
	"bufio"
	"io"
	"text/tabwriter"
)

// Table is a tabwriter for aligned columns whose output reaches stdout in
// few large writes: tabwriter writes every cell and every run of padding
// separately, about ten write(2) calls a line on an unbuffered stdout,
// which made `hush ls` of 100,000 secrets a million system calls.
type Table struct {
	*tabwriter.Writer
	buf *bufio.Writer
}

// NewTable is a table that writes to w.
func NewTable(w io.Writer) Table {
	buf := bufio.NewWriterSize(w, 64<<10)
	return Table{tabwriter.NewWriter(buf, 2, 4, 2, ' ', 0), buf}
}

// Flush writes the table out.
func (t Table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	return t.buf.Flush()
}
