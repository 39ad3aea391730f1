package main

import (
	"bufio"
	"text/tabwriter"
)

// table is a tabwriter for aligned columns whose output reaches stdout in
// few large writes: tabwriter writes every cell and every run of padding
// separately, about ten write(2) calls a line on an unbuffered stdout,
// which made `hush ls` of 100,000 secrets a million system calls.
type table struct {
	*tabwriter.Writer
	buf *bufio.Writer
}

func (a *app) newTable() table {
	buf := bufio.NewWriterSize(a.stdout, 64<<10)
	return table{tabwriter.NewWriter(buf, 2, 4, 2, ' ', 0), buf}
}

// Flush writes the table out.
func (t table) Flush() error {
	if err := t.Writer.Flush(); err != nil {
		return err
	}
	return t.buf.Flush()
}
