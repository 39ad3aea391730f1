package teamsync

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hush-secrets/hush/cmd/hush/internal/human"
	"github.com/hush-secrets/hush/sync/client"
)

// WriteMembers writes `hush team members` for a person: one line a device;
// thisDevice is this device's id.
func WriteMembers(out io.Writer, ms []client.Member, thisDevice string, now time.Time) error {
	w := human.NewTable(out)
	// The EXPIRES column appears once the team has a machine.
	machines := slices.ContainsFunc(ms, func(m client.Member) bool { return m.Machine })
	// The SCOPES column, once the team has folder scopes.
	scoped := slices.ContainsFunc(ms, func(m client.Member) bool { _, ok := ScopesCell(m); return ok })
	head := "MEMBER\tDEVICE\tROLE\tSTATE\tJOINED\tLAST SEEN"
	if machines {
		head += "\tEXPIRES"
	}
	if scoped {
		head += "\tSCOPES"
	}
	fmt.Fprintln(w, head)
	for _, m := range ms {
		dev := m.Name
		if m.ID == thisDevice {
			dev += " (this device)"
		}
		seen := "never"
		if !m.LastSeen.IsZero() {
			seen = human.Ago(m.LastSeen, now)
		}
		expires := "-"
		if m.Machine {
			dev = "(machine)"
			expires = m.Expires.Local().Format("2006-01-02")
			if m.Active && !now.Before(m.Expires) {
				expires += " (expired)"
			}
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", m.Member, dev, RoleCell(m), MemberState(m), m.Joined.Local().Format("2006-01-02"), seen)
		if machines {
			line += "\t" + expires
		}
		if cell, ok := ScopesCell(m); scoped && ok {
			line += "\t" + cell
		}
		fmt.Fprintln(w, line)
	}
	return w.Flush()
}

// WriteScopes writes `hush team scopes` for a person: each folder scope,
// its key epoch, and who holds it with which role.
func WriteScopes(out io.Writer, ss []client.ScopeInfo) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "SCOPE\tEPOCH\tHOLDERS")
	for _, s := range ss {
		var hs []string
		for _, h := range s.Holders {
			hs = append(hs, h.Member+" ("+h.Role+")")
		}
		fmt.Fprintf(w, "%s\t%d\t%s\n", s.Folder, s.Epoch, strings.Join(hs, ", "))
	}
	return w.Flush()
}

// WriteAudit writes `hush team audit` for a person: one line an event,
// at most five secret names each.
func WriteAudit(out io.Writer, evs []client.AuditEvent) error {
	w := human.NewTable(out)
	fmt.Fprintln(w, "TIME\tMEMBER\tDEVICE\tACTION\tRESULT\tSECRETS")
	for _, e := range evs {
		names := strings.Join(e.Names, ", ")
		if len(e.Names) > 5 {
			names = strings.Join(e.Names[:5], ", ") + fmt.Sprintf(" and %d more", len(e.Names)-5)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Member, e.DeviceName, e.Action, e.Result, names)
	}
	return w.Flush()
}

// VerifyRow is `hush team verify --json` (its keys in this order, as
// they always were).
type VerifyRow struct {
	ChainEntries int64  `json:"chain_entries"`
	ChainHead    string `json:"chain_head"`
	Fingerprint  string `json:"fingerprint"`
	Hash         string `json:"hash"`
	Head         string `json:"head"`
	LogEntries   int64  `json:"log_entries"`
	Offline      bool   `json:"offline"`
	Refused      string `json:"refused,omitempty"`
	Team         string `json:"team"`
}

// Verified is fp as a row for `--json`.
func Verified(fp *client.Fingerprint) VerifyRow {
	r := VerifyRow{Team: fp.Team, Fingerprint: fp.Genesis, LogEntries: fp.Seq, Head: fp.Head,
		ChainEntries: fp.ChainPos, ChainHead: fp.ChainHead, Hash: fp.Hash, Offline: fp.Offline}
	if fp.Refused != nil {
		r.Refused = fp.Refused.Error()
	}
	return r
}

// WriteVerify writes `hush team verify` for a person: the team, the
// log's fingerprint and head, the chain's head, and the hash to compare.
func WriteVerify(w io.Writer, fp *client.Fingerprint) {
	fmt.Fprintf(w, "team         %s\n", fp.Team)
	fmt.Fprintf(w, "fingerprint  %s\n", fp.Genesis)
	fmt.Fprintf(w, "log head     %d: %s\n", fp.Seq, fp.Head)
	fmt.Fprintf(w, "chain head   %d: %s\n", fp.ChainPos, fp.ChainHead)
	fmt.Fprintf(w, "compare      %s\n", fp.Hash)
}

// VerifyError fails a verify whose server was not checked now: it did not
// answer, or its answer was refused. What was printed (asJSON: as JSON)
// is what this device verified at its last sync.
func VerifyError(fp *client.Fingerprint, asJSON bool) error {
	if asJSON {
		if fp.Offline {
			return errors.New("the team server is unreachable, so this is what this device verified at its last sync")
		}
		return fp.Refused
	}
	if fp.Offline {
		// A server can hang up as easily as it can lie: either
		// way its current state was not checked.
		return errors.New("the team server is unreachable, so the above is what this device verified at its last sync")
	}
	if fp.Refused != nil {
		// Printed all the same: the server being checked must
		// not decide whether the check can be made.
		return fmt.Errorf("the team server's answer was refused, so the above is what this device verified at its last sync: %w", fp.Refused)
	}
	return nil
}
