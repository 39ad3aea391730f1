package importer

import (
	"fmt"
	"io"

	"github.com/hush-secrets/hush/vault"
)

// WritePlan writes what importing p under folder would do, for a dry run:
// one line per secret (name and type, never a value), then the renamings
// and what would be skipped.
func WritePlan(w io.Writer, p *Plan, folder string) {
	names := p.Names(folder)
	fmt.Fprintf(w, "would import %d secrets:\n", len(names))
	for i, n := range names {
		fmt.Fprintf(w, "  %s (%s)\n", n, p.Items[i].Type)
	}
	writeRenamed(w, p, folder)
	WriteSkipped(w, p, folder, true)
}

func writeRenamed(w io.Writer, p *Plan, folder string) {
	if len(p.Renamed) == 0 {
		return
	}
	fmt.Fprintf(w, "renamed, because an earlier item has the name:\n")
	for _, r := range p.Renamed {
		fmt.Fprintf(w, "  %s -> %s\n", join(folder, r.From), join(folder, r.To))
	}
}

// WriteSkipped writes what the export holds that was not brought, counted
// by reason; with names, each reason also lists the names (the mapped name
// of the item under folder, never a value).
func WriteSkipped(w io.Writer, p *Plan, folder string, names bool) {
	counts := p.SkipCounts()
	if len(counts) == 0 {
		return
	}
	total := 0
	for _, c := range counts {
		total += c.Count
	}
	fmt.Fprintf(w, "not imported (%d):\n", total)
	for _, c := range counts {
		fmt.Fprintf(w, "  %d %s\n", c.Count, c.Reason)
		if !names {
			continue
		}
		for _, s := range p.Skipped {
			if s.Reason == c.Reason {
				fmt.Fprintf(w, "      %s\n", join(folder, s.What))
			}
		}
	}
}

// WriteResult writes the summary of an import that was applied.
func WriteResult(w io.Writer, p *Plan, folder string, res []vault.SetResult) {
	created, updated, same := vault.Tally(res)
	where := folder
	if where == "" {
		where = "the root folder"
	}
	fmt.Fprintf(w, "imported %d secrets into %s: %d new, %d updated, %d unchanged\n", len(res), where, created, updated, same)
	writeRenamed(w, p, folder)
	WriteSkipped(w, p, folder, false)
}
