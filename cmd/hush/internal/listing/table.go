package listing

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/vault"
)

// The tables the commands print for a person (`--json` prints the rows
// instead): the words in each cell are decided here, next to the rows, so
// that every front end that prints them says the same.

// WriteTable writes the listing as `hush ls` shows it: a ROTATION column
// only when something rotates (where it comes from, its own or a folder's
// policy, is then in view), then the removed and the damaged secrets.
func (l *Listing) WriteTable(out io.Writer, now time.Time) error {
	w := human.NewTable(out)
	rotation, rot, dash := l.Rotates(), "", ""
	head := "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tABOUT"
	if rotation {
		head, dash = "NAME\tTYPE\tVERSION\tUPDATED\tFLAGS\tROTATION\tABOUT", "\t-"
	}
	fmt.Fprintln(w, head)
	for _, e := range l.Entries {
		if rotation {
			rot = "\t" + RotationWords(e.RotateEvery, e.RotateFrom)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s%s\t%s\n", e.Name, e.Type, e.Version, human.Ago(e.Updated, now), strings.Join(l.Flags(e, now), ","), rot, e.Summary)
	}
	for _, name := range l.Removed {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s%s\t%s\n", name, "-", "-", "-", "conflict", dash, "removed here, changed by a teammate")
	}
	for _, d := range l.Damaged {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, "-", "-", "-", "damaged", d.Why)
	}
	return w.Flush()
}

// WriteHistory writes name's versions as `hush history` shows them; bad
// are the versions whose value is damaged.
func WriteHistory(out io.Writer, name string, hist []vault.VersionInfo, bad []int, now time.Time) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "VERSION\tCREATED\tTYPE\tSIZE\tSTATE\tNOTE")
	for _, h := range hist {
		state := ""
		if h.Name != name {
			state = "named " + h.Name
		}
		if h.Current {
			state = human.Join(state, "current")
		}
		if slices.Contains(bad, h.Version) {
			state = human.Join(state, "damaged: "+DamagedValue)
		}
		if state == "" {
			state = "-"
		}
		fmt.Fprintf(w, "%d\t%s (%s)\t%s\t%s\t%s\t%s\n", h.Version, h.Created.Local().Format("2006-01-02 15:04"), human.Ago(h.Created, now), h.Type, human.Size(h.Size), state, human.Cell(h.Note, 60))
	}
	return w.Flush()
}

// WriteDue writes what needs attention as `hush due` shows it.
func WriteDue(out io.Writer, items []vault.DueItem, now time.Time) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "NAME\tDUE\tWHEN\t")
	for _, it := range items {
		state := "due " + human.Date(it.When, now)
		if it.Overdue {
			state = "OVERDUE since " + human.Date(it.When, now)
		}
		what := it.What
		if it.Reason != "" {
			what += " (" + it.Reason + ")"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t\n", it.Name, what, state)
	}
	return w.Flush()
}

// WriteAudit writes audit entries as `hush audit` shows them: a DETAIL
// column only when an entry has one.
func WriteAudit(out io.Writer, entries []vault.AuditEntry) error {
	details := false
	for _, e := range entries {
		details = details || e.Detail != ""
	}
	w := human.NewTable(out)
	header := "#\tTIME\tDEVICE\tACTION\tNAMES\tRESULT"
	if details {
		header += "\tDETAIL"
	}
	fmt.Fprintln(w, header)
	for _, e := range entries {
		line := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s", e.Seq, e.Time.Local().Format("2006-01-02 15:04:05"), e.Device, e.Action,
			human.Shorten(strings.Join(e.Names, ","), 60), human.Shorten(e.Result, 60))
		if details {
			line += "\t" + human.Shorten(e.Detail, 80)
		}
		fmt.Fprintln(w, line)
	}
	return w.Flush()
}
